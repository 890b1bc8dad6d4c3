// The scheduler: round-robin over a run queue with a time slice of one timer tick,
// blocking and wakeup through wait queues, an idle thread that halts when nothing is
// ready, and thread exit with join (the joiner frees the dead thread's stack). All
// state is per CPU (`CPU.this`), though there is one CPU. Every entry point masks
// interrupts while it touches scheduler state; a switch always happens with
// interrupts masked, and the thread switched to restores its own state on the way
// out (its interrupt return, its guard, or x86_thread_start for a new thread).
import X86Shim

/// What each CPU owns. One CPU today; kept per CPU so SMP adds instances, not fields.
struct CPU {
  var current = ThreadID.none
  var idle = ThreadID.none
  var runQueue = WaitQueue()
  var sleepers = WaitQueue()
  var ticks: UInt64 = 0
  var switches: UInt64 = 0
  /// TSC ticks spent in the idle thread, and when it last started running.
  var idleTicks: UInt64 = 0
  var idleSince: UInt64 = 0
  /// Dead detached threads waiting for the reaper.
  var dead = WaitQueue()
  var reaper = ThreadID.none
  var reaperIdle = false

  nonisolated(unsafe) static var this = CPU()
}

enum Scheduler {
  static let fpuStateSize = 512

  /// Makes the running boot code thread 0 and starts the idle thread. Interrupts
  /// stay off until the caller enables them.
  static func start() {
    ThreadTable.start()
    FPU.enable()
    guard let boot = ThreadTable.claim() else { kernelPanic(.outOfMemory, "no thread record for kmain") }
    ThreadTable.pointer(boot).pointee.name = "kmain"
    ThreadTable.pointer(boot).pointee.state = .running
    ThreadTable.pointer(boot).pointee.kernelStackTop = UInt64(layout_boot_stack_top())
    CPU.this.current = boot
    guard let idle = spawn(name: "idle", entry: { _ in Scheduler.idleLoop() }, argument: 0, start: false) else {
      kernelPanic(.outOfMemory, "no memory for the idle thread")
    }
    ThreadTable.pointer(idle).pointee.state = .ready  // runs only when nothing else can
    CPU.this.idle = idle
    guard let reaper = spawn(name: "reaper", entry: { _ in Scheduler.reaperLoop() }, argument: 0) else {
      kernelPanic(.outOfMemory, "no memory for the reaper thread")
    }
    CPU.this.reaper = reaper
  }

  static var current: ThreadID { CPU.this.current }

  /// Creates a thread that runs `entry(argument)` on its own stack, then exits.
  /// `chargedToUser`: a user request made it, so its stack stops at the page reserve.
  static func spawn(
    name: StaticString, entry: ThreadEntry, argument: UInt64, usesFPU: Bool = false, chargedToUser: Bool = false,
    start: Bool = true
  ) -> ThreadID? {
    guard let stack = KernelStack.allocate(chargedToUser: chargedToUser) else { return nil }
    var fpu: UnsafeMutableRawPointer? = nil
    if usesFPU {
      guard let area = KernelHeap.allocate(size: fpuStateSize, alignment: 16) else { return nil }
      FPU.initialState(into: area)
      fpu = area
    }
    let created: ThreadID? = Interrupts.withDisabled {
      guard let thread = ThreadTable.claim() else { return nil }
      let record = ThreadTable.pointer(thread)
      record.pointee.name = name
      record.pointee.entry = entry
      record.pointee.argument = argument
      record.pointee.fpuState = fpu
      // The first switch to the thread pops six zeroed callee-saved registers and
      // "returns" to x86_thread_start (arch/x86_64/context/switch.S).
      let top = stack.top
      let frame = UnsafeMutablePointer<UInt64>(bitPattern: UInt(top - 7 * 8))!
      frame.initialize(repeating: 0, count: 6)
      frame[6] = x86_thread_start_address()
      ThreadTable.savedStack[Int(thread.index)] = top - 7 * 8
      record.pointee.kernelStackTop = top
      return thread
    }
    guard let thread = created else {
      if let fpu { _ = KernelHeap.free(fpu) }
      return nil  // `stack` is dropped: its pages go back
    }
    ThreadTable.pointer(thread).pointee.stackSlot = Int32(stack.intoSlot())
    if start { makeReady(thread) }
    return thread
  }

  /// Puts a blocked or new thread on the run queue.
  static func makeReady(_ thread: ThreadID) {
    Interrupts.withDisabled {
      ThreadTable.pointer(thread).pointee.state = .ready
      CPU.this.runQueue.push(thread)
    }
  }

  /// Gives the CPU to the next ready thread, if any.
  static func yield() {
    // Nothing ready: nothing to do. Reading without masking is safe on one CPU — a
    // thread made ready right after this read waits for the next tick at worst.
    if CPU.this.runQueue.isEmpty { return }
    Interrupts.withDisabled {
      guard !CPU.this.runQueue.isEmpty else { return }
      let me = CPU.this.current
      ThreadTable.pointer(me).pointee.voluntarySwitches += 1
      if me != CPU.this.idle {
        ThreadTable.pointer(me).pointee.state = .ready
        CPU.this.runQueue.push(me)
      }
      switchToNext()
    }
  }

  /// Switches away and back even when nothing else is ready (the idle thread runs
  /// until the next tick). For tests that need a switch at an exact point.
  static func yieldEvenIfIdle() {
    Interrupts.withDisabled {
      let me = CPU.this.current
      let next = CPU.this.runQueue.pop() ?? CPU.this.idle
      ThreadTable.pointer(me).pointee.state = .ready
      CPU.this.runQueue.push(me)
      switchTo(next)
    }
  }

  /// Blocks the current thread until someone makes it ready. The caller has already
  /// put it on the wait queue it will be woken from, with interrupts masked.
  static func blockCurrent() {
    Interrupts.withDisabled {
      ThreadTable.pointer(CPU.this.current).pointee.state = .blocked
      switchToNext()
    }
  }

  /// IPC's direct switch: blocks the current thread (already where it will be woken
  /// from) and runs `next`, a blocked thread, at once, with no trip through the run
  /// queue. Called inside `lock.withLock`; the lock is let go while this thread is
  /// off the CPU and held again when it returns.
  static func blockAndSwitch(to next: ThreadID, releasing lock: SpinLock) {
    ThreadTable.pointer(CPU.this.current).pointee.state = .blocked
    lock.unlockWord()
    switchTo(next)
    lock.lockWord()
  }

  /// The same, from inside `lock.withLock` when the wait queue is guarded by `lock`:
  /// the lock is let go only once this thread is marked blocked (interrupts stay
  /// masked throughout), so a wakeup in between cannot be lost; it is held again when
  /// this returns.
  static func blockCurrent(releasing lock: SpinLock) {
    ThreadTable.pointer(CPU.this.current).pointee.state = .blocked
    lock.unlockWord()
    switchToNext()
    lock.lockWord()
  }

  /// Ends the current thread; its joiner reclaims it.
  static func exit(code: Int64) -> Never {
    x86_cli()
    let me = CPU.this.current
    ThreadTable.pointer(me).pointee.exitCode = code
    ThreadTable.pointer(me).pointee.state = .dead
    while let joiner = ThreadTable.pointer(me).pointee.joiners.pop() {
      ThreadTable.pointer(joiner).pointee.state = .ready
      CPU.this.runQueue.push(joiner)
    }
    switchToNext()
    kernelPanic(.selfCheckFailed, "a dead thread was scheduled")
  }

  /// Waits for `thread` to exit, frees its stack and record, and returns its code.
  static func join(_ thread: ThreadID) -> Int64 {
    Interrupts.withDisabled {
      while ThreadTable[thread].state != .dead {
        ThreadTable.pointer(thread).pointee.joiners.push(CPU.this.current)
        blockCurrent()
      }
      return reclaim(thread).exitCode
    }
  }

  /// Frees a dead thread's stack, FPU area and record; returns what the record held.
  @discardableResult
  private static func reclaim(_ thread: ThreadID) -> ThreadRecord {
    let record = ThreadTable[thread]
    if record.stackSlot >= 0 { _ = KernelStack(adoptingSlot: Int(record.stackSlot)) }  // dropped: freed
    if let fpu = record.fpuState { _ = KernelHeap.free(fpu) }
    ThreadTable.release(thread)
    return record
  }

  /// Ends the current thread with nobody to join it: the reaper frees it.
  static func exitDetached() -> Never {
    x86_cli()
    let me = CPU.this.current
    ThreadTable.pointer(me).pointee.state = .dead
    CPU.this.dead.push(me)
    if CPU.this.reaperIdle {
      CPU.this.reaperIdle = false
      ThreadTable.pointer(CPU.this.reaper).pointee.state = .ready
      CPU.this.runQueue.push(CPU.this.reaper)
    }
    switchToNext()
    kernelPanic(.selfCheckFailed, "a dead thread was scheduled")
  }

  /// The reaper: frees detached threads (user threads) once they are off the CPU for
  /// good, then lets UserThreads give back what the thread held (the last thread of a
  /// process tears the process down) with interrupts enabled.
  static func reaperLoop() -> Never {
    while true {
      let record = Interrupts.withDisabled { () -> ThreadRecord? in
        if let thread = CPU.this.dead.pop() { return reclaim(thread) }
        CPU.this.reaperIdle = true
        blockCurrent()
        return nil
      }
      if let record { UserThreads.reaped(record) }
    }
  }

  /// Sleeps for at least `ticks` timer ticks.
  static func sleep(ticks: UInt64) {
    Interrupts.withDisabled {
      let me = CPU.this.current
      ThreadTable.pointer(me).pointee.wakeTick = CPU.this.ticks + max(ticks, 1)
      CPU.this.sleepers.push(me)
      blockCurrent()
    }
  }

  /// The timer's share: wake sleepers that are due and, when the slice is over and
  /// another thread is ready, preempt. Runs in the timer interrupt, after EOI.
  static func tick() {
    CPU.this.ticks += 1
    let now = CPU.this.ticks
    CPU.this.sleepers.removeAll(where: { ThreadTable[$0].wakeTick <= now }) { thread in
      ThreadTable.pointer(thread).pointee.state = .ready
      CPU.this.runQueue.push(thread)
    }
    guard !CPU.this.runQueue.isEmpty else { return }
    let me = CPU.this.current
    if me != CPU.this.idle {
      ThreadTable.pointer(me).pointee.preemptions += 1
      ThreadTable.pointer(me).pointee.state = .ready
      CPU.this.runQueue.push(me)
    }
    switchToNext()
  }

  /// From a device interrupt that made a thread ready: if the CPU was idle, run it now
  /// rather than at the next tick (a driver waits for its device, not for the clock).
  static func preemptIdle() {
    guard CPU.this.current == CPU.this.idle, !CPU.this.runQueue.isEmpty else { return }
    switchToNext()
  }

  // MARK: - switching (interrupts masked)

  private static func switchToNext() {
    switchTo(CPU.this.runQueue.pop() ?? CPU.this.idle)
  }

  private static func switchTo(_ next: ThreadID) {
    let previous = CPU.this.current
    guard next != previous else {
      ThreadTable.pointer(next).pointee.state = .running
      return
    }
    let from = ThreadTable.pointer(previous)
    let to = ThreadTable.pointer(next)
    to.pointee.state = .running
    CPU.this.current = next
    CPU.this.switches += 1
    if previous == CPU.this.idle {
      CPU.this.idleTicks &+= x86_rdtsc() &- CPU.this.idleSince
    } else if next == CPU.this.idle {
      CPU.this.idleSince = x86_rdtsc()
    }
    // The next thread's address space, and its kernel stack for traps and system
    // calls from ring 3.
    let space = to.pointee.addressSpace
    let wanted = space == 0 ? KernelAddressSpace.tables.root : space
    if x86_read_cr3() & ~0xfff != wanted { x86_write_cr3(wanted) }
    let stackTop = to.pointee.kernelStackTop
    x86_percpu_this().pointee.kernel_rsp = stackTop
    DescriptorTables.setKernelStack(stackTop)
    if let area = from.pointee.fpuState { x86_fxsave(area) }
    if let area = to.pointee.fpuState { x86_fxrstor(area) }
    x86_context_switch(ThreadTable.savedStack + Int(previous.index), ThreadTable.savedStack[Int(next.index)])
  }

  /// The idle thread: halt until an interrupt, forever. The timer tick switches away
  /// from it when something is ready.
  static func idleLoop() -> Never {
    while true { x86_sti_hlt() }
  }
}

/// Where every new thread begins (called by x86_thread_start on its own stack, with
/// interrupts masked from the switch that started it).
@_cdecl("kernel_thread_entry")
func kernelThreadEntry() -> Never {
  let record = ThreadTable[Scheduler.current]
  x86_sti()
  record.entry?(record.argument)
  Scheduler.exit(code: 0)
}
