// User threads: kernel threads (own kernel stack, in the scheduler like any other)
// that belong to a process, run on its address space, and enter ring 3 at a given
// entry with a given stack. They are detached: when they exit, the reaper frees them.
import X86Shim

enum UserThreads {
  /// Creates (not yet started) a thread of `process` that enters ring 3 at `entry`
  /// with rsp = `stack`, rdi and rsi = `arguments`.
  static func create(process: Int32, entry: UInt64, stack: UInt64, arguments: (UInt64, UInt64)) throws(AbiError) -> ThreadID {
    guard let thread = Scheduler.spawn(name: "user", entry: { _ in UserThreads.enterUser() }, argument: 0, usesFPU: true, start: false) else {
      throw .noMemory
    }
    Interrupts.withDisabled {
      let record = ThreadTable.pointer(thread)
      record.pointee.process = process
      record.pointee.addressSpace = ProcessTable.pointer(process).pointee.space.tables.root
      record.pointee.userEntry = entry
      record.pointee.userStack = stack
      record.pointee.userArguments = arguments
      record.pointee.detached = true
    }
    return thread
  }

  /// The kernel side of a user thread's start: straight to ring 3.
  static func enterUser() -> Never {
    let record = ThreadTable[Scheduler.current]
    x86_enter_user(record.userEntry, record.userStack, record.userArguments.0, record.userArguments.1)
  }

  /// Ends the calling user thread (and, if it is the last, its process). Interrupts
  /// stay masked from here to the final switch: a thread preempted after its address
  /// space is freed would be resumed on page tables that no longer exist.
  static func exitCurrent() -> Never {
    x86_cli()
    if let process = ProcessTable.current { ProcessTable.threadExited(process: process) }
    // test=exitwindow: reuse the freed pages at once (the allocator hands back the
    // frame just freed, zeroed) and switch away, as an ill-timed tick on a busy system
    // once did, to prove a thread whose address space is gone resumes safely.
    if yieldInExitWindow {
      let reused = PageAllocator.shared.allocateZeroed()
      Scheduler.yieldEvenIfIdle()
      if let page = reused { PageAllocator.shared.release(page.intoAddress()) }
    }
    Scheduler.exitDetached()
  }

  nonisolated(unsafe) static var yieldInExitWindow = false
}
