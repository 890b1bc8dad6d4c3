// `trace=syscalls`: one line per system call, decoded with the generated name table
// (kernel/generated/SyscallTrace.swift), e.g.
//   TRACE pid=1 debug_write(buf=0x4023f0, len=12) = 12
//   TRACE pid=1 process_wait(process=3, status=0x7f7fffffee80) = -4 (fault)
// Calls that may not return (exits) are traced on the way in, without a result.

enum SyscallTracer {
  static func log(process: Unmanaged<Process>, _ registers: SyscallRegisters, result: UInt64?) {
    let pid = process._withUnsafeGuaranteedRef { $0.pid }
    guard let name = SyscallTrace.name(of: registers.number) else {
      kprint("TRACE pid=\(pid) syscall#\(registers.number) = \(describe(result))")
      return
    }
    var line: LogLine = "TRACE pid=\(pid) \(name)("
    let count = SyscallTrace.argumentCount(of: registers.number)
    for index in 0..<count {
      guard let argument = SyscallTrace.argument(index, of: registers.number) else { continue }
      let value = register(index, registers)
      if index > 0 { line.appendLiteral(", ") }
      line.appendInterpolation(argument.name)
      line.appendLiteral("=")
      switch argument.format {
      case .hex:
        line.appendLiteral("0x")
        line.appendInterpolation(hex: value)
      case .signed: line.appendInterpolation(Int64(bitPattern: value))
      case .unsigned, .handle: line.appendInterpolation(value)
      }
    }
    line.appendLiteral(")")
    if result != nil {
      line.appendLiteral(" = ")
      line.appendInterpolation(describe(result))
    }
    kprint(line)
  }

  private static func describe(_ result: UInt64?) -> LogLine {
    guard let result else { return "" }
    let signed = Int64(bitPattern: result)
    if signed < 0, let name = SyscallTrace.errorName(UInt64(-signed)) {
      return "\(signed) (\(name))"
    }
    return "\(result)"
  }

  private static func register(_ index: Int, _ registers: SyscallRegisters) -> UInt64 {
    switch index {
    case 0: registers.arg0
    case 1: registers.arg1
    case 2: registers.arg2
    case 3: registers.arg3
    case 4: registers.arg4
    default: registers.arg5
    }
  }
}
