// console_read and console_foreground (kernel/dev/ConsoleInput.swift).

extension KernelSyscalls {
  mutating func consoleRead(console: HandleEntry<KernelObject>, buf: UserOutBuffer<UInt8>) throws(AbiError) -> UInt64 {
    guard buf.count >= 1, buf.count <= Abi.pageSize else { throw .invalidArgument }
    var line = InlineArray<256, UInt8>(repeating: 0)
    let taken = withUnsafeMutableBytes(of: &line) { bytes in
      Self.console(console).read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<min(256, Int(buf.count))]))
    }
    switch taken {
    case .endOfFile:
      return 0
    case .nothing:
      throw .peerClosed  // the process is ending
    case .bytes(let count):
      try withUnsafeBytes(of: &line) { bytes throws(AbiError) in try buf.write(UnsafeRawBufferPointer(rebasing: bytes[0..<count])) }
      return UInt64(count)
    }
  }

  mutating func consoleForeground(console: HandleEntry<KernelObject>, process: HandleEntry<KernelObject>) throws(AbiError) {
    Self.console(console).setForeground(unsafeDowncast(process.object, to: Process.self))
  }

  /// The dispatcher checked the handle's kind.
  private static func console(_ entry: HandleEntry<KernelObject>) -> ConsoleObject {
    unsafeDowncast(entry.object, to: ConsoleObject.self)
  }
}
