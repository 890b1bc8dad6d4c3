// `test=audit`: what the kernel saw a process's system calls return, for the M3
// round-trip check; `SYSCALL: ok` is printed only from these observations, when the
// process has ended. Off (and untouched) unless the hook is on.
//
// Lock rule: only the process's own threads write it, with interrupts masked.

struct SyscallAudit {
  private var debugWriteBytes: UInt64 = 0
  private var debugWriteExact = true
  private var timeNowCalls = 0
  private var lastTime: UInt64 = 0
  private var timeMonotonic = true

  mutating func wrote(_ bytes: UInt64, of asked: UInt64) {
    Interrupts.withDisabled {
      debugWriteBytes += bytes
      if bytes != asked { debugWriteExact = false }
    }
  }

  mutating func readClock(_ now: UInt64) {
    Interrupts.withDisabled {
      if now < lastTime { timeMonotonic = false }
      lastTime = now
      timeNowCalls += 1
    }
  }

  func announce(pid: UInt32, status: ProcessStatus) {
    guard TestHooks.active == .audit, status.reason == .exited, status.code == 0, debugWriteBytes > 0, timeNowCalls >= 2 else { return }
    if debugWriteExact && timeMonotonic {
      kprint("SYSCALL: ok pid=\(pid) debug_write=\(debugWriteBytes) bytes time_now=\(timeNowCalls) calls monotonic")
    } else {
      kprint("SYSCALL: wrong pid=\(pid) debug_write exact=\(debugWriteExact) time_now monotonic=\(timeMonotonic)")
    }
  }
}
