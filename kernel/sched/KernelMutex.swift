// A sleeping lock: a thread that finds it held blocks on its wait queue instead of
// spinning, and unlock hands ownership straight to the first waiter (FIFO, no
// barging). Thread context only — never in a trap handler, never while holding a
// spinlock (docs/design.md, "Locks").

final class KernelMutex {
  private var owner = ThreadID.none
  private var waiters = WaitQueue()
  /// How many lock() calls had to wait: evidence the blocking path runs.
  private(set) var contended = 0

  func lock() {
    Interrupts.withDisabled {
      let me = Scheduler.current
      if owner == .none {
        owner = me
        return
      }
      contended += 1
      waiters.push(me)
      Scheduler.blockCurrent()  // returns once unlock() handed us ownership
    }
  }

  func unlock() {
    Interrupts.withDisabled {
      guard owner == Scheduler.current else {
        kernelPanic(.selfCheckFailed, "mutex unlocked by a thread that does not hold it")
      }
      if let next = waiters.pop() {
        owner = next
        Scheduler.makeReady(next)
      } else {
        owner = .none
      }
    }
  }

  func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    lock()
    defer { unlock() }
    return try body()
  }
}
