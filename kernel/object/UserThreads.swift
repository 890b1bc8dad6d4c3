// User threads: kernel threads (own kernel stack, in the scheduler like any other)
// that belong to a process, run on its address space, and enter ring 3 at a given
// entry with a given stack. They are detached: when one exits it only leaves the CPU;
// the reaper frees it and, for the last one, tears its process down in thread context
// with interrupts enabled. Nothing on the exit path allocates or touches a reference
// count, so a fault in ring 3 can end a thread from trap context.
//
// A thread record holds one reference to its process and one to its ThreadObject,
// taken here and given back by `reaped`.
import X86Shim

enum UserThreads {
  /// Creates (not yet started) a thread of `process` that enters ring 3 at `entry`
  /// with rsp = `stack`, rdi and rsi = `arguments`.
  static func create(in process: Process, entry: UInt64, stack: UInt64, arguments: (UInt64, UInt64)) throws(AbiError) -> ThreadObject {
    guard process.attachThread() else { throw .limitReached }
    guard let thread = Scheduler.spawn(name: "user", entry: { _ in UserThreads.enterUser() }, argument: 0,
                                       usesFPU: true, chargedToUser: true, start: false) else {
      process.detachUnstartedThread()
      throw .noMemory
    }
    let object = ThreadObject(thread)
    Interrupts.withDisabled {
      let record = ThreadTable.pointer(thread)
      record.pointee.process = Unmanaged.passRetained(process)
      record.pointee.object = Unmanaged.passRetained(object)
      record.pointee.addressSpace = process.space.tables.root
      record.pointee.userEntry = entry
      record.pointee.userStack = stack
      record.pointee.userArguments = arguments
      record.pointee.detached = true
    }
    return object
  }

  /// The kernel side of a user thread's start: straight to ring 3.
  static func enterUser() -> Never {
    let record = ThreadTable.pointer(Scheduler.current)
    x86_enter_user(record.pointee.userEntry, record.pointee.userStack, record.pointee.userArguments.0, record.pointee.userArguments.1)
  }

  /// The process of the running thread, borrowed (the thread's record holds it); nil
  /// on a kernel thread.
  static var currentProcess: Unmanaged<Process>? { ThreadTable.pointer(Scheduler.current).pointee.process }

  /// True when the running thread is a user thread whose process is ending: it must
  /// not go back to user mode. Read without the process lock: `exiting` only ever
  /// goes from false to true, and a late read is caught at the next entry.
  static var mustStop: Bool {
    guard let process = currentProcess else { return false }
    return process._withUnsafeGuaranteedRef { $0.exiting }
  }

  /// Inside `lock.withLock`, with the current thread already on one of `object`'s wait
  /// queues (which `lock` guards): sleeps until woken. False when it was woken because
  /// its process is ending; the caller then gives up and returns (the thread stops on
  /// its way out of the kernel). Callers check `mustStop` before queueing.
  /// `next`: a blocked thread to run at once instead of the next ready one (IPC's
  /// direct switch), or .none.
  static func blockInterruptibly(on object: KernelObject, releasing lock: SpinLock, switchingTo next: ThreadID = .none) -> Bool {
    let record = ThreadTable.pointer(Scheduler.current)
    record.pointee.waitingOn = Unmanaged.passUnretained(object)
    if next != .none {
      Scheduler.blockAndSwitch(to: next, releasing: lock)
    } else {
      Scheduler.blockCurrent(releasing: lock)
    }
    record.pointee.waitingOn = nil
    defer { record.pointee.interrupted = false }
    return !record.pointee.interrupted
  }

  /// Wakes every thread of `process` blocked interruptibly, through the object it waits
  /// on. Interrupts stay masked throughout, so no waiter can return (and drop the
  /// object) between being found and being woken.
  static func interruptWaits(of process: Process) {
    let target = Unmanaged.passUnretained(process).toOpaque()
    Interrupts.withDisabled {
      for index in 0..<ThreadTable.capacity {
        let record = ThreadTable.records + index
        guard record.pointee.state == .blocked, record.pointee.process?.toOpaque() == target,
          let object = record.pointee.waitingOn
        else { continue }
        object._withUnsafeGuaranteedRef { $0.interruptWaiter(ThreadID(index: Int32(index))) }
      }
    }
  }

  /// For an object's interruptWaiter: marks `thread` interrupted and makes it ready.
  /// The object has already taken it off its queue.
  static func wakeInterrupted(_ thread: ThreadID) {
    ThreadTable.pointer(thread).pointee.interrupted = true
    Scheduler.makeReady(thread)
  }

  /// Ends the calling user thread. `code` is thread_exit's (see Process.threadExiting).
  /// Interrupts stay masked from here to the final switch.
  static func exitCurrent(code: Int64? = nil) -> Never {
    x86_cli()
    CallReply.abandonHeld()  // a caller waiting on this thread's reply gets peer_closed
    currentProcess?._withUnsafeGuaranteedRef { $0.threadExiting(code: code) }
    // test=exitwindow: reuse a freed page at once and switch away before leaving, as
    // an ill-timed tick on a busy system would, to prove an exiting thread resumes
    // safely whatever ran meanwhile.
    if TestHooks.active == .exitWindow {
      let reused = PageAllocator.shared.allocateZeroed()
      Scheduler.yieldEvenIfIdle()
      if let page = reused { PageAllocator.shared.release(page.intoAddress()) }
    }
    Scheduler.exitDetached()
  }

  /// The reaper freed `record`'s thread: give back its references; the last thread of
  /// a process tears the process down. Thread context, interrupts enabled.
  static func reaped(_ record: ThreadRecord) {
    if let object = record.object {
      object._withUnsafeGuaranteedRef { $0.markExited() }
      object.release()
    }
    if let process = record.process {
      process._withUnsafeGuaranteedRef { $0.threadReaped() }
      process.release()
    }
  }
}
