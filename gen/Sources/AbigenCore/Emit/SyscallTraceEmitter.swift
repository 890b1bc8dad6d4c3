// kernel/generated/SyscallTrace.swift: names and argument formats of every call, for
// the kernel's syscall tracer (`trace=syscalls`). Switches over constants, so the
// tracer looks calls up without allocating.

struct SyscallTraceEmitter {
  let abi: AbiSpec

  func table() -> GeneratedFile {
    let calls = abi.syscalls.sorted { $0.number < $1.number }
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: [abi.file]))
    out.line("//")
    out.doc("What the syscall tracer prints for each call of ABI v\(abi.version).", style: .line)
    out.line()
    out.block("enum SyscallTrace") {
      out.doc("How to print one argument or result.", style: .swift)
      out.block("enum Format") {
        out.line("case unsigned, signed, hex, handle")
      }
      out.line()
      out.block("struct Argument") {
        out.line("let name: StaticString")
        out.line("let format: Format")
      }
      out.line()
      out.doc("The call's name, or nil for an unknown or removed number.", style: .swift)
      out.block("static func name(of number: UInt64) -> StaticString?") {
        out.block("switch number") {
          for call in calls { out.line("case \(call.number): \"\(call.name)\"") }
          out.line("default: nil")
        }
      }
      out.line()
      out.block("static func argumentCount(of number: UInt64) -> Int") {
        out.block("switch number") {
          for call in calls where !call.arguments.isEmpty { out.line("case \(call.number): \(call.arguments.count)") }
          out.line("default: 0")
        }
      }
      out.line()
      out.block("static func argument(_ index: Int, of number: UInt64) -> Argument?") {
        out.block("switch (number, index)") {
          for call in calls {
            for argument in SyscallShape(call, in: abi).arguments {
              out.line("case (\(call.number), \(argument.register)): Argument(name: \"\(argument.decl.name)\", format: .\(format(argument.role)))")
            }
          }
          out.line("default: nil")
        }
      }
      out.line()
      out.doc("False for calls that never return (the tracer logs those on the way in).", style: .swift)
      out.block("static func returns(_ number: UInt64) -> Bool") {
        let never = calls.filter(\.neverReturns).map { "\($0.number)" }
        out.block("switch number") {
          if !never.isEmpty { out.line("case \(never.joined(separator: ", ")): false") }
          out.line("default: true")
        }
      }
      out.line()
      out.doc("The name of an error code, as the spec spells it.", style: .swift)
      out.block("static func errorName(_ code: UInt64) -> StaticString?") {
        out.block("switch code") {
          for error in abi.errors { out.line("case \(error.code): \"\(error.name)\"") }
          out.line("default: nil")
        }
      }
      out.line()
      out.doc("How to print a successful result; nil when the call returns nothing.", style: .swift)
      out.block("static func resultFormat(of number: UInt64) -> Format?") {
        out.block("switch number") {
          for call in calls {
            guard let result = call.returns, !call.neverReturns else { continue }
            let format: String
            switch result.typeName {
            case SpecVocabulary.handle: format = "handle"
            case SpecVocabulary.userAddress: format = "hex"
            default: format = "unsigned"
            }
            out.line("case \(call.number): .\(format)")
          }
          out.line("default: nil")
        }
      }
    }
    return GeneratedFile(path: "kernel/generated/SyscallTrace.swift", contents: out.text)
  }

  private func format(_ role: ArgumentRole) -> String {
    switch role {
    case .scalar(let scalar): scalar.isSigned ? "signed" : "unsigned"
    case .userAddress, .pointer, .flags: "hex"
    case .enumeration: "unsigned"
    case .handle: "handle"
    }
  }
}
