// debug_write and time_now: the console and the clock.

extension KernelSyscalls {
  mutating func debugWrite(buf: UserInBuffer<UInt8>) throws(AbiError) -> UInt64 {
    guard buf.count <= Abi.debugWriteMax else { throw .invalidArgument }
    var chunk = InlineArray<256, UInt8>(repeating: 0)
    var done: UInt64 = 0
    while done < buf.count {
      let length = Int(min(buf.count - done, 256))
      try withUnsafeMutableBytes(of: &chunk) { bytes throws(AbiError) in
        try buf.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<length]), offset: done)
        KernelLog.writeRaw(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
      }
      done += UInt64(length)
    }
    if TestHooks.active == .audit { withProcess { $0.audit.wrote(done, of: buf.count) } }
    return done
  }

  mutating func timeNow() -> UInt64 {
    let now = Clock.nanoseconds()
    if TestHooks.active == .audit { withProcess { $0.audit.readClock(now) } }
    return now
  }
}
