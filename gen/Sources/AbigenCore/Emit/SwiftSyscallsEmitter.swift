// ulib/swift/generated/Syscalls.swift: Embedded Swift user bindings. Each call becomes
// a `Sys` function with typed throws (AbiError); pointer+length pairs become buffer
// parameters; single `out` structs become return values; handles are noncopyable
// types that close themselves when dropped. The C stubs (syscall_stubs.S) are reached
// through @_extern(c) declarations with Swift types of the same layout.

struct SwiftSyscallsEmitter {
  let abi: AbiSpec

  func bindings() -> GeneratedFile {
    let scope = NameScope.abi(abi)
    let calls = abi.syscalls.sorted { $0.number < $1.number }
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: [abi.file]))
    out.line("//")
    out.doc("Swift bindings of the Apus system calls, ABI v\(abi.version). Build with -enable-experimental-feature Extern.", style: .line)
    out.line()

    for call in calls {
      out.line("@_extern(c, \"\(GeneratedText.cPrefix)_\(call.name)\")")
      let parameters = SyscallShape(call, in: abi).arguments.map { "_ \($0.decl.name): \(externType($0, scope))" }.joined(separator: ", ")
      // C cannot say Never: a call that does not return is declared Void, and its
      // wrapper traps if it ever comes back.
      out.line("func \(GeneratedText.cPrefix)_\(call.name)(\(parameters))\(call.neverReturns ? "" : " -> Int64")")
    }
    out.line()

    for kind in abi.handleKinds {
      handleType(kind, out)
    }

    out.doc("The system calls, one function each.", style: .swift)
    out.block("public enum Sys") {
      for call in calls {
        function(SyscallShape(call, in: abi), scope, out)
        out.line()
      }
      out.doc("A raw result: the value, or the error it encodes.", style: .swift)
      out.block("@inline(__always) static func check(_ result: Int64) throws(AbiError) -> UInt64") {
        out.line("if result < 0 { throw AbiError(rawValue: UInt32(truncatingIfNeeded: -result)) }")
        out.line("return UInt64(result)")
      }
    }
    return GeneratedFile(path: "ulib/swift/generated/Syscalls.swift", contents: out.text)
  }

  static func handleTypeName(_ kind: String) -> String { Names.upperCamel(kind) + "Handle" }

  private func handleType(_ kind: CodedDecl, _ out: SourceWriter) {
    let name = Self.handleTypeName(kind.name)
    let close = "\(GeneratedText.cPrefix)_\(SpecVocabulary.handleClose)"
    out.doc("A handle to \(kind.doc.prefix(1).lowercased() + kind.doc.dropFirst()) Owning: dropping it closes the handle.", style: .swift)
    out.line("@frozen")
    out.block("public struct \(name): ~Copyable") {
      out.line("public let raw: UInt32")
      out.line()
      out.doc("Takes ownership of a raw handle value.", style: .swift)
      out.line("public init(adopting raw: UInt32) { self.raw = raw }")
      out.line()
      out.line("deinit { _ = \(close)(raw) }")
      out.line()
      out.doc("Gives up ownership without closing, returning the raw value.", style: .swift)
      out.block("public consuming func release() -> UInt32") {
        out.line("let raw = self.raw")
        out.line("discard self")
        out.line("return raw")
      }
      out.line()
      out.doc("Closes the handle now, reporting failure.", style: .swift)
      out.block("public consuming func close() throws(AbiError)") {
        out.line("_ = try Sys.check(\(close)(release()))")
      }
    }
    out.line()
  }

  // MARK: - one call

  private func externType(_ argument: ShapedArgument, _ scope: NameScope) -> String {
    switch argument.role {
    case .scalar(let scalar): return scalar.swiftType
    case .userAddress: return "UInt"
    case .enumeration(let decl): return decl.backing.swiftType
    case .flags(let decl): return decl.backing.swiftType
    case .handle: return "UInt32"
    case .pointer(let direction, let element, _):
      // @_extern(c) accepts only C-representable types: pointers to spec structs
      // cross as raw pointers (the public wrapper stays typed).
      guard let scalar = Scalar(rawValue: element) else {
        return direction == .in ? "UnsafeRawPointer?" : "UnsafeMutableRawPointer?"
      }
      return direction == .in ? "UnsafePointer<\(scalar.swiftType)>?" : "UnsafeMutablePointer<\(scalar.swiftType)>?"
    }
  }

  private func function(_ shape: SyscallShape, _ scope: NameScope, _ out: SourceWriter) {
    let call = shape.call
    var parameters: [String] = []
    var locals: [String] = []
    // Pointers to single structs are passed through nested withUnsafeMutablePointer
    // closures: (variable, pointer name).
    var scoped: [(variable: String, pointer: String)] = []
    var externArguments: [String] = []
    // A typed handle is noncopyable and a tuple cannot hold one: a call returning one
    // fills its out structs through inout parameters instead.
    let returnsTypedHandle = call.returns.map {
      $0.typeName == SpecVocabulary.handle && $0.kind != SpecVocabulary.anyKind && !call.neverReturns
    } ?? false

    for argument in shape.arguments {
      let name = Names.lowerCamel(argument.decl.name)
      switch argument.role {
      case .scalar(let scalar):
        if let pointer = argument.countsPointer {
          externArguments.append("\(scalar.swiftType)(\(Names.lowerCamel(pointer)).count)")
        } else {
          parameters.append("\(name): \(scalar.swiftType)")
          externArguments.append(name)
        }
      case .userAddress:
        parameters.append("\(name): UInt")
        externArguments.append(name)
      case .enumeration(let decl):
        parameters.append("\(name): \(scope.swiftTypeName(decl.name))")
        externArguments.append("\(name).rawValue")
      case .flags(let decl):
        parameters.append("\(name): \(scope.swiftTypeName(decl.name))")
        externArguments.append("\(name).rawValue")
      case .handle(let kind, _):
        if let kind {
          parameters.append("\(name): borrowing \(Self.handleTypeName(kind))")
          externArguments.append("\(name).raw")
        } else {
          parameters.append("\(name): UInt32")
          externArguments.append(name)
        }
      case .pointer(let direction, let element, let length):
        let type = scope.swiftType(element)
        if length != nil {
          parameters.append("\(name): \(direction == .in ? "UnsafeBufferPointer" : "UnsafeMutableBufferPointer")<\(type)>")
          externArguments.append("\(name).baseAddress")
        } else {
          switch direction {
          case .out where returnsTypedHandle:
            parameters.append("\(name): inout \(type)")
            scoped.append((name, "\(name)Pointer"))
            externArguments.append("\(name)Pointer")
          case .out:
            locals.append("var \(name) = \(type)()")
            scoped.append((name, "\(name)Pointer"))
            externArguments.append("\(name)Pointer")
          case .in:
            parameters.append("\(name): \(type)")
            locals.append("var \(name)Copy = \(name)")
            scoped.append(("\(name)Copy", "\(name)Pointer"))
            externArguments.append("UnsafePointer(\(name)Pointer)")
          case .inout:
            parameters.append("\(name): inout \(type)")
            scoped.append((name, "\(name)Pointer"))
            externArguments.append("\(name)Pointer")
          }
        }
      }
    }

    // What the Swift function returns: the call's value, then any out structs.
    var results: [(label: String, type: String, expression: String)] = []
    if let result = call.returns, !call.neverReturns {
      switch result.typeName {
      case SpecVocabulary.handle:
        if result.kind == SpecVocabulary.anyKind {
          results.append(("result", "UInt32", "UInt32(truncatingIfNeeded: value)"))  // the caller knows the kind
        } else {
          let type = Self.handleTypeName(result.kind ?? "")
          results.append(("result", type, "\(type)(adopting: UInt32(truncatingIfNeeded: value))"))
        }
      case SpecVocabulary.userAddress:
        results.append(("result", "UInt", "UInt(value)"))
      default:
        if let scalar = Scalar(rawValue: result.typeName) {
          results.append(("result", scalar.swiftType, scalar == .u64 ? "value" : "\(scalar.swiftType)(truncatingIfNeeded: value)"))
        } else {
          let type = scope.swiftType(result.typeName)
          results.append(("result", type, "\(type)(rawValue: .init(truncatingIfNeeded: value))"))
        }
      }
    }
    for returned in shape.returnedStructs where !returnsTypedHandle {
      if case .pointer(_, let element, _) = returned.role {
        let name = Names.lowerCamel(returned.decl.name)
        results.append((name, scope.swiftType(element), name))
      }
    }

    let throwsClause = call.errors.isEmpty ? "" : " throws(AbiError)"
    let returnClause: String
    if call.neverReturns {
      returnClause = " -> Never"
    } else if results.isEmpty {
      returnClause = throwsClause
    } else if results.count == 1 {
      returnClause = "\(throwsClause) -> \(results[0].type)"
    } else {
      returnClause = "\(throwsClause) -> (" + results.map { "\($0.label): \($0.type)" }.joined(separator: ", ") + ")"
    }

    out.doc("\(call.name): \(call.doc)\(call.blocking ? " May block." : "")", style: .swift)
    for use in call.errors { out.doc("- Throws `.\(Names.lowerCamel(use.name))`: \(use.doc)", style: .swift) }
    let returnsHandle = results.first?.type.hasSuffix("Handle") == true
    let attribute = results.isEmpty || call.neverReturns || returnsHandle ? "" : "@discardableResult "
    out.block("\(attribute)public static func \(Names.lowerCamel(call.name))(\(parameters.joined(separator: ", ")))\(returnClause)") {
      var invocation = "\(GeneratedText.cPrefix)_\(call.name)(\(externArguments.joined(separator: ", ")))"
      if call.neverReturns {
        out.line(invocation)
        out.line("fatalError(\"\(call.name) returned\")")
        return
      }
      invocation = call.errors.isEmpty ? "UInt64(bitPattern: \(invocation))" : "try check(\(invocation))"
      for (variable, pointer) in scoped.reversed() {
        invocation = "try withUnsafeMutablePointer(to: &\(variable)) { \(pointer) throws(AbiError) in \(invocation) }"
      }
      out.lines(locals)
      out.line(results.isEmpty || call.returns == nil && !results.isEmpty ? "\(results.isEmpty ? "_" : "_") = \(invocation)" : "let value = \(invocation)")
      if results.count == 1 {
        out.line("return \(results[0].expression)")
      } else if results.count > 1 {
        out.line("return (\(results.map { "\($0.label): \($0.expression)" }.joined(separator: ", ")))")
      }
    }
  }
}
