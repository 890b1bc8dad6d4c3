// kernel/generated/SyscallDispatch.swift: the kernel's side of the ABI. It decodes raw
// registers into typed arguments — user pointers become UserIn/UserOut/UserInOut
// (single value) or UserInBuffer/... (counted) by their direction, enums and flags are
// range-checked, handles are looked up and their kind and rights checked — then calls
// the kernel's handler through the SyscallHandlers protocol. A missing handler is a
// compile error; an unknown or removed number answers no_such_call; in debug builds an
// error the spec does not declare for that call is reported to the kernel.

struct KernelDispatchEmitter {
  let abi: AbiSpec

  func dispatch() -> GeneratedFile {
    let scope = NameScope.abi(abi)
    let calls = abi.syscalls.sorted { $0.number < $1.number }
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: [abi.file]))
    out.line("//")
    out.doc("System call dispatch for ABI v\(abi.version): registers in, typed and checked arguments out, to the kernel's SyscallHandlers. Nothing here allocates.", style: .line)
    out.line()

    out.doc("System call numbers. Removed calls (answered with noSuchCall): \(abi.removed.isEmpty ? "none" : abi.removed.map { "\($0.number) \($0.name)" }.joined(separator: ", ")).", style: .swift)
    out.block("enum SyscallNumber: UInt64") {
      for call in calls { out.line("case \(Names.lowerCamel(call.name)) = \(call.number)") }
    }
    out.line()

    out.doc("The registers the syscall entry saved: the number (rax) and the six argument registers (rdi, rsi, rdx, r10, r8, r9).", style: .swift)
    out.block("struct SyscallRegisters") {
      out.line("var number: UInt64")
      for index in 0..<SpecVocabulary.argumentRegisters.count {
        out.line("var arg\(index): UInt64  // \(SpecVocabulary.argumentRegisters[index])")
      }
    }
    out.line()

    out.doc("A handle-table entry, as the dispatcher checks it: the handle's value in the caller's table, and what it names.", style: .swift)
    out.block("struct HandleEntry<Object>") {
      out.line("var value: UInt32")
      out.line("var kind: HandleKind")
      out.line("var rights: Rights")
      out.line("var object: Object")
    }
    out.line()

    out.doc("What the kernel implements for ABI v\(abi.version): one requirement per call, taking arguments the dispatcher has already decoded and checked. Throwing a handler's error returns it to the caller.", style: .swift)
    out.block("protocol SyscallHandlers") {
      out.line("associatedtype Object")
      out.line()
      out.doc("The calling process's handle `handle`, or nil if it names nothing.", style: .swift)
      out.line("mutating func handleEntry(_ handle: UInt32) -> HandleEntry<Object>?")
      out.doc("Debug builds: a handler threw an error its call does not declare in \(abi.file). That is a kernel or spec bug; report it loudly.", style: .swift)
      out.line("mutating func undeclaredError(_ error: AbiError, from call: SyscallNumber)")
      out.doc("Takes a free slot in the caller's handle table for a call that returns a handle, before the call makes its object: the value it will have, which names nothing until installHandle fills it. limitReached when the table is full.", style: .swift)
      out.line("mutating func reserveHandle() throws(AbiError) -> UInt32")
      out.doc("Fills a reserved slot with the object a call returned, with the kind and rights the spec declares for that call's result (kind nil: a call returning a handle of any kind, which names the object's own kind and chose the rights).", style: .swift)
      out.line("mutating func installHandle(_ object: Object, at handle: UInt32, kind: HandleKind?, rights: Rights)")
      out.doc("Frees a reserved slot whose call failed.", style: .swift)
      out.line("mutating func cancelHandle(_ handle: UInt32)")
      for call in calls {
        out.line()
        let shape = SyscallShape(call, in: abi)
        out.doc("\(call.name) (\(call.number)): \(call.doc)", style: .swift)
        for use in call.errors { out.doc("- \(Names.lowerCamel(use.name)): \(use.doc)", style: .swift) }
        let effects = handlerEffects(call, scope)
        out.line("mutating func \(Names.lowerCamel(call.name))(\(handlerParameters(shape, scope)))\(effects.isEmpty ? "" : " " + effects)")
      }
    }
    out.line()

    out.doc("Runs one system call from the registers the entry saved (read in place: this is the hot path). Returns the value for rax: the result, or the negated AbiError code. Unknown and removed numbers answer noSuchCall.", style: .swift)
    out.line("@inline(__always)  // one caller, the entry: no second prologue on the hot path")
    out.block("func dispatchSyscall<Handlers: SyscallHandlers>(_ registers: UnsafePointer<SyscallRegisters>, to handlers: inout Handlers) -> UInt64") {
      out.block("switch registers.pointee.number") {
        for call in calls {
          out.line("case \(call.number):  // \(call.name)")
          out.indented {
            if !call.errors.isEmpty { out.line("let call = SyscallNumber.\(Names.lowerCamel(call.name))") }
            dispatchCase(SyscallShape(call, in: abi), scope, out)
          }
        }
        out.line("default:")
        out.indented { out.line("return SyscallResult.failure(.noSuchCall)") }
      }
    }
    out.line()

    out.block("extension SyscallNumber") {
      out.doc("True when the spec lists `error` for this call.", style: .swift)
      out.block("func declares(_ error: AbiError) -> Bool") {
        out.block("switch self") {
          for call in calls {
            let errors = call.errors.map { "error == .\(Names.lowerCamel($0.name))" }
            out.line("case .\(Names.lowerCamel(call.name)): \(errors.isEmpty ? "false" : errors.joined(separator: " || "))")
          }
        }
      }
    }
    out.line()

    out.doc("Encoding results into rax, and the checks every call's prologue shares.", style: .swift)
    out.block("enum SyscallResult") {
      out.block("static func failure(_ error: AbiError) -> UInt64") {
        out.line("UInt64(bitPattern: -Int64(error.rawValue))")
      }
      out.line()
      out.block("static func rejected<Handlers: SyscallHandlers>(_ error: AbiError, by call: SyscallNumber, _ handlers: inout Handlers) -> UInt64") {
        out.line("#if DEBUG")
        out.line("if !call.declares(error) { handlers.undeclaredError(error, from: call) }")
        out.line("#endif")
        out.line("return failure(error)")
      }
      out.line()
      out.doc("Looks a handle up and checks its kind (nil: any) and rights.", style: .swift)
      out.block("static func handle<Handlers: SyscallHandlers>(_ raw: UInt64, kind: HandleKind?, rights: Rights, _ handlers: inout Handlers) throws(AbiError) -> HandleEntry<Handlers.Object>") {
        out.block("guard raw <= UInt64(UInt32.max), let entry = handlers.handleEntry(UInt32(raw)) else") {
          out.line("throw .badHandle")
        }
        out.line("if let kind, entry.kind != kind { throw .wrongHandleKind }")
        out.line("if !entry.rights.contains(rights) { throw .accessDenied }")
        out.line("return entry")
      }
    }
    return GeneratedFile(path: "kernel/generated/SyscallDispatch.swift", contents: out.text)
  }

  // MARK: - handler signatures

  private func parameterType(_ argument: ShapedArgument, _ scope: NameScope) -> String {
    switch argument.role {
    case .scalar(let scalar): return scalar.swiftType
    case .userAddress: return GeneratedText.kernelUserAddress
    case .enumeration(let decl): return scope.swiftTypeName(decl.name)
    case .flags(let decl): return scope.swiftTypeName(decl.name)
    case .handle: return "HandleEntry<Object>"
    case .pointer(let direction, let element, let length):
      return "\(GeneratedText.kernelUserPointer(direction, buffer: length != nil))<\(scope.swiftType(element))>"
    }
  }

  /// Lengths are not passed on: the buffer they count carries them as `count`.
  private func handlerParameters(_ shape: SyscallShape, _ scope: NameScope) -> String {
    shape.arguments.filter { $0.countsPointer == nil }.map { "\(Names.lowerCamel($0.decl.name)): \(parameterType($0, scope))" }.joined(separator: ", ")
  }

  private func resultType(_ call: SyscallDecl, _ scope: NameScope) -> String? {
    guard let result = call.returns else { return nil }
    switch result.typeName {
    case SpecVocabulary.never: return "Never"
    case SpecVocabulary.handle: return result.kind == SpecVocabulary.anyKind ? "(object: Object, rights: Rights)" : "Object"
    case SpecVocabulary.userAddress: return GeneratedText.kernelUserAddress
    default: return scope.swiftType(result.typeName)
    }
  }

  private func handlerEffects(_ call: SyscallDecl, _ scope: NameScope) -> String {
    let throwing = call.errors.isEmpty ? "" : "throws(AbiError) "
    guard let result = resultType(call, scope) else { return throwing.trimmingTrailingSpace }
    return "\(throwing)-> \(result)"
  }

  // MARK: - one case of the switch

  private func dispatchCase(_ shape: SyscallShape, _ scope: NameScope, _ out: SourceWriter) {
    let call = shape.call
    let name = Names.lowerCamel(call.name)
    let arguments = shape.arguments.filter { $0.countsPointer == nil }
      .map { "\(Names.lowerCamel($0.decl.name)): \(Names.lowerCamel($0.decl.name))" }.joined(separator: ", ")
    let invocation = "handlers.\(name)(\(arguments))"
    let canFail = !call.errors.isEmpty

    let body = {
      for argument in shape.arguments { decode(argument, shape, scope, out) }
      if call.neverReturns {
        out.line(invocation)
      } else if let result = call.returns, result.typeName == SpecVocabulary.handle {
        installing(result, invocation, out)
      } else if call.returns == nil {
        out.line("\(canFail ? "try " : "")\(invocation)")
        out.line("return 0")
      } else {
        out.line("return \(encode("\(canFail ? "try " : "")\(invocation)", call, scope))")
      }
    }
    if canFail {
      out.line("do throws(AbiError) {")
      out.indented(body)
      out.line("} catch {")
      out.indented { out.line("return SyscallResult.rejected(error, by: call, &handlers)") }
      out.line("}")
    } else {
      body()
    }
  }

  /// A call that returns a handle: the slot is reserved first (a full table fails
  /// before anything is made), the object goes in with the spec's kind and rights.
  private func installing(_ result: ReturnDecl, _ invocation: String, _ out: SourceWriter) {
    out.line("let reserved = try handlers.reserveHandle()")
    out.line("do throws(AbiError) {")
    out.indented {
      if result.kind == SpecVocabulary.anyKind {
        out.line("let (object, rights) = try \(invocation)")
        out.line("handlers.installHandle(object, at: reserved, kind: nil, rights: rights)")
      } else {
        out.line("let object = try \(invocation)")
        let kind = Names.lowerCamel(result.kind ?? SpecVocabulary.anyKind)
        out.line("handlers.installHandle(object, at: reserved, kind: .\(kind), rights: \(rightsExpression(result.rights)))")
      }
      out.line("return UInt64(reserved)")
    }
    out.line("} catch {")
    out.indented {
      out.line("handlers.cancelHandle(reserved)")
      out.line("throw error")
    }
    out.line("}")
  }

  private func decode(_ argument: ShapedArgument, _ shape: SyscallShape, _ scope: NameScope, _ out: SourceWriter) {
    let name = Names.lowerCamel(argument.decl.name)
    let register = "registers.pointee.arg\(argument.register)"
    switch argument.role {
    case .scalar(let scalar):
      if argument.countsPointer != nil { return }  // read by the buffer it counts
      out.line("let \(name) = \(convert(register, to: scalar))")
    case .userAddress:
      out.line("let \(name) = \(GeneratedText.kernelUserAddress)(\(register))")
    case .enumeration(let decl):
      let type = scope.swiftTypeName(decl.name)
      out.line("let \(name) = \(type)(rawValue: \(convert(register, to: decl.backing)))")
      out.line("guard \(name).isKnown else { throw .invalidArgument }")
    case .flags(let decl):
      let type = scope.swiftTypeName(decl.name)
      out.line("let \(name) = \(type)(rawValue: \(convert(register, to: decl.backing)))")
      out.line("guard \(name).isKnown else { throw .invalidArgument }")
    case .handle(let kind, let rights):
      let kindText = kind.map { ".\(Names.lowerCamel($0))" } ?? "nil"
      out.line("let \(name) = try SyscallResult.handle(\(register), kind: \(kindText), rights: \(rightsExpression(rights)), &handlers)")
    case .pointer(let direction, let element, let length):
      let type = "\(GeneratedText.kernelUserPointer(direction, buffer: length != nil))<\(scope.swiftType(element))>"
      if let length, let counter = shape.argument(named: length) {
        out.line("let \(name) = try \(type)(address: \(register), count: registers.pointee.arg\(counter.register))")
      } else {
        out.line("let \(name) = try \(type)(address: \(register))")
      }
    }
  }

  private func rightsExpression(_ rights: [String]) -> String {
    guard let first = rights.first else { return "Rights()" }
    return rights.dropFirst().reduce("Rights.\(Names.lowerCamel(first))") { "\($0).union(.\(Names.lowerCamel($1)))" }
  }

  private func convert(_ register: String, to scalar: Scalar) -> String {
    switch scalar {
    case .u64: register
    case .i64: "Int64(bitPattern: \(register))"
    default: "\(scalar.swiftType)(truncatingIfNeeded: \(register))"
    }
  }

  private func encode(_ expression: String, _ call: SyscallDecl, _ scope: NameScope) -> String {
    guard let result = call.returns else { return "0" }
    switch result.typeName {
    case SpecVocabulary.userAddress: return "(\(expression)).value"
    default:
      if let scalar = Scalar(rawValue: result.typeName) {
        return scalar == .u64 ? expression : "UInt64(\(expression))"
      }
      return "UInt64((\(expression)).rawValue)"
    }
  }
}

extension String {
  var trimmingTrailingSpace: String {
    var copy = self
    while copy.last == " " { copy.removeLast() }
    return copy
  }
}
