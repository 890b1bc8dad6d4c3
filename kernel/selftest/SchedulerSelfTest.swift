// The scheduler's test hooks. Each checks its own result before printing its marker:
// interleaving proves preemption (the threads never yield), lock stress proves mutual
// exclusion under preemption, lifecycle proves threads give back every page and byte,
// fpuState proves FPU/SSE registers survive switches.
import X86Shim

enum SchedulerSelfTest {
  // MARK: threads interleave by preemption

  nonisolated(unsafe) private static var order = InlineArray<64, UInt8>(repeating: 0)
  nonisolated(unsafe) private static var orderCount = 0
  nonisolated(unsafe) private static var voluntary = 0
  nonisolated(unsafe) private static var preempted = 0

  static func interleaving() {
    guard let a = Scheduler.spawn(name: "A", entry: { SchedulerSelfTest.printLetters($0) }, argument: UInt64(UInt8(ascii: "A"))),
      let b = Scheduler.spawn(name: "B", entry: { SchedulerSelfTest.printLetters($0) }, argument: UInt64(UInt8(ascii: "B")))
    else { kernelPanic(.outOfMemory, "cannot start threads A and B") }
    _ = Scheduler.join(a)
    _ = Scheduler.join(b)
    var alternations = 0
    for index in 1..<orderCount where order[index] != order[index - 1] { alternations += 1 }
    guard orderCount == 12, alternations >= 4, voluntary == 0, preempted >= 4 else {
      kernelPanic(.selfCheckFailed, "threads: \(orderCount) letters, \(alternations) alternations, \(voluntary) yields, \(preempted) preemptions")
    }
    kprint("SCHED: threads interleaved by preemption alternations=\(alternations) preemptions=\(preempted) yields=0")
  }

  /// Prints its letter six times, each time busy-waiting two ticks: it never yields,
  /// so only the timer can let the other thread run.
  fileprivate static func printLetters(_ letter: UInt64) {
    for _ in 0..<6 {
      Interrupts.withDisabled {
        order[orderCount] = UInt8(letter)
        orderCount += 1
      }
      if letter == UInt64(UInt8(ascii: "A")) { kprint("A") } else { kprint("B") }
      let start = Timer.ticks
      while Timer.ticks < start + 2 { x86_pause() }
    }
    Interrupts.withDisabled {
      let me = ThreadTable[Scheduler.current]
      voluntary += me.voluntarySwitches
      preempted += me.preemptions
    }
  }

  // MARK: lock stress

  static let workers = 8
  static let increments = 10_000
  nonisolated(unsafe) private static var counter = 0
  nonisolated(unsafe) private static var spinLock: SpinLock? = nil
  nonisolated(unsafe) private static var mutex: KernelMutex? = nil

  static func lockStress() {
    spinLock = SpinLock()
    mutex = KernelMutex()
    for useMutex in [false, true] {
      counter = 0
      var threads = InlineArray<8, ThreadID>(repeating: .none)
      for index in 0..<workers {
        guard let thread = Scheduler.spawn(name: "stress", entry: { SchedulerSelfTest.hammer(useMutex: $0 != 0) }, argument: useMutex ? 1 : 0) else {
          kernelPanic(.outOfMemory, "cannot start stress thread")
        }
        threads[index] = thread
      }
      for index in 0..<workers { _ = Scheduler.join(threads[index]) }
      let expected = workers * increments
      guard counter == expected else {
        kernelPanic(.selfCheckFailed, "lock stress lost updates: \(counter) of \(expected) with the \(useMutex ? "mutex" as StaticString : "spinlock")")
      }
      if useMutex {
        guard mutex!.contended > 0 else { kernelPanic(.selfCheckFailed, "mutex stress never blocked: the sleeping path is untested") }
        kprint("SCHED: lock stress ok total=\(counter) lock=mutex contended=\(mutex!.contended)")
      } else {
        kprint("SCHED: lock stress ok total=\(counter) lock=spinlock")
      }
    }
  }

  /// Read, wait, write: a lost update unless the lock excludes everyone else.
  fileprivate static func hammer(useMutex: Bool) {
    for _ in 0..<increments {
      if useMutex {
        mutex!.withLock { incrementSlowly() }
      } else {
        spinLock!.withLock { incrementSlowly() }
      }
    }
  }

  @inline(never)
  private static func incrementSlowly() {
    let seen = counter
    for _ in 0..<40 { x86_pause() }
    counter = seen + 1
  }

  // MARK: lifecycle

  static func lifecycle() {
    let batch = 50
    let total = 1000
    let startFree = PageAllocator.shared.freePages
    let startTables = PageTables.tablePages
    let startHeap = KernelHeap.bytesInUse
    let startThreads = ThreadTable.inUse
    var ran = 0
    var finished = 0
    while finished < total {
      var threads = InlineArray<50, ThreadID>(repeating: .none)
      for index in 0..<batch {
        guard let thread = Scheduler.spawn(name: "worker", entry: { Scheduler.exit(code: Int64($0) * 2) }, argument: UInt64(finished + index)) else {
          kernelPanic(.outOfMemory, "cannot start thread \(finished + index)")
        }
        threads[index] = thread
      }
      for index in 0..<batch {
        if Scheduler.join(threads[index]) == Int64(finished + index) * 2 { ran += 1 }
      }
      finished += batch
    }
    let free = PageTables.freePages(countingTablesSince: startTables)
    guard ran == total, free == startFree, KernelHeap.bytesInUse == startHeap, ThreadTable.inUse == startThreads else {
      kernelPanic(.selfCheckFailed, "lifecycle: ran \(ran), pages \(startFree - free) short, heap \(KernelHeap.bytesInUse - startHeap) bytes over, \(ThreadTable.inUse - startThreads) records left")
    }
    kprint("SCHED: lifecycle ok threads=\(total) free=\(free) pages heap=\(KernelHeap.bytesInUse) bytes")
  }

  // MARK: FPU state

  nonisolated(unsafe) private static var fpuIntact = 0

  static func fpuState() {
    fpuIntact = 0
    guard let a = Scheduler.spawn(name: "fpuA", entry: { SchedulerSelfTest.checkXMM($0) }, argument: 0x1111_2222_3333_4444, usesFPU: true),
      let b = Scheduler.spawn(name: "fpuB", entry: { SchedulerSelfTest.checkXMM($0) }, argument: 0x5555_6666_7777_8888, usesFPU: true)
    else { kernelPanic(.outOfMemory, "cannot start FPU threads") }
    _ = Scheduler.join(a)
    _ = Scheduler.join(b)
    guard fpuIntact == 2 else { kernelPanic(.selfCheckFailed, "xmm0 changed across a switch") }
    kprint("SCHED: fpu state preserved across 200 switches")
  }

  fileprivate static func checkXMM(_ pattern: UInt64) {
    x86_set_xmm0(pattern)
    for _ in 0..<100 {
      Scheduler.yield()
      if x86_get_xmm0() != pattern { return }
    }
    Interrupts.withDisabled { fpuIntact += 1 }
  }
}
