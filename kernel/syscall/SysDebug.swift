// debug_write, time_now and system_info: the console, the clock and the kernel's counts.

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

extension KernelSyscalls {
  mutating func systemInfo(info: UserOut<SystemInfo>) throws(AbiError) {
    let counts = Interrupts.withDisabled { () -> SystemInfo in
      var now = SystemInfo()
      now.freePages = UInt64(PageAllocator.shared.freePages)
      now.heapBytes = UInt64(KernelHeap.bytesInUse)
      now.objects = UInt64(KernelObject.live)
      now.idleTicks = CPU.this.idleTicks
      now.timerTicks = CPU.this.ticks
      return now
    }
    try info.write(counts)
  }
}
