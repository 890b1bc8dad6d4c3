// Runs the test hook named by `test=` on the command line (DESIGN.md §3), after the
// normal boot has succeeded, so every hook also proves the boot path still works.
// Hooks that fault do it on purpose, through the real exception path.
import X86Shim

enum TestHooks {
  /// The hook this boot runs, if any: the one place production code asks whether a
  /// test wants it to behave differently (an extra switch at a race window, an audit).
  nonisolated(unsafe) private(set) static var active: TestHook? = nil

  /// The address the pagefault hook writes to: PML4 slot 384, never mapped.
  static let unmappedAddress: UInt64 = 0xffff_c000_dead_b000

  static func run(_ hook: TestHook) {
    active = hook
    kprint("TEST: running \(hook.name)")
    switch hook {
    case .panic:
      kernelPanic(.testRequested, "test=panic requested on the command line")
    case .bootInfo:
      BootInfoSelfTest.run()
    case .bootInfoPanic:
      BootInfoSelfTest.panicThroughBootPath()
    case .pageFault:
      writeToUnmappedAddress()
    case .breakpoint:
      x86_int3()
      kprint("TEST: resumed after the breakpoint")
    case .divideError:
      kprint("TEST: quotient \(x86_divide(1, UInt64(KernelCommandLine.maximumLength) &- 512))")
    case .stackOverflow:
      kprint("TEST: recursion returned \(recurse(0))")
    case .writeProtect:
      writeToKernelText()
    case .memory:
      MemorySelfTest.run()
    case .ticks:
      let from = Timer.ticks
      Scheduler.sleep(ticks: Timer.hz)
      kprint("TIMER: kmain slept from tick \(from) until tick \(Timer.ticks)")
    case .threads:
      SchedulerSelfTest.interleaving()
    case .lockStress:
      SchedulerSelfTest.lockStress()
    case .lifecycle:
      SchedulerSelfTest.lifecycle()
    case .fpu:
      SchedulerSelfTest.fpuState()
    case .spawnWindow, .exitWindow, .audit:
      break  // take effect as init runs its programs (Process.spawn, UserThreads, SyscallAudit)
    case .tlb:
      MemorySelfTest.staleTLB()
    }
  }

  @inline(never)
  static func writeToUnmappedAddress() {
    kprint("TEST: writing to 0x\(hex: unmappedAddress)")
    UnsafeMutablePointer<UInt64>(bitPattern: UInt(unmappedAddress))!.pointee = 1
  }

  @inline(never)
  static func writeToKernelText() {
    let address = UInt64(layout_text_start()) + 0x40
    kprint("TEST: writing to kernel text at 0x\(hex: address)")
    UnsafeMutablePointer<UInt8>(bitPattern: UInt(address))!.pointee = 0xcc
  }

  /// Each frame holds a buffer the next call reads, so the recursion cannot become a
  /// loop: it runs until the stack meets its guard page.
  @inline(never)
  static func recurse(_ depth: Int) -> Int {
    if depth == Int.max { return 0 }  // never: only the guard page stops this
    var buffer = InlineArray<128, UInt8>(repeating: UInt8(truncatingIfNeeded: depth))
    buffer[depth % 128] = 1
    return recurse(depth + 1) &+ Int(buffer[(depth * 7) % 128])
  }
}
