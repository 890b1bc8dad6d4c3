// A spinlock whose holder runs with interrupts masked, so neither a preempting thread
// nor an interrupt handler on this CPU can take it while it is held (which would spin
// forever on one CPU). The lock word makes it correct across CPUs too. Holding is a
// noncopyable SpinLockGuard: the lock is released, and the interrupt state restored,
// when the guard goes away. Never sleep while holding one. Rule (docs/design.md,
// "Locks"): spinlocks may be taken in any context, trap handlers included; they are
// innermost — take no mutex while holding one.
import X86Shim

@usableFromInline
final class SpinLock {
  fileprivate var word: UInt32 = 0

  /// Masks interrupts, takes the lock, and returns the proof of holding it.
  func lock() -> SpinLockGuard {
    let interruptsWereEnabled = Interrupts.areEnabled
    x86_cli()
    while withUnsafeMutablePointer(to: &word, { x86_xchg32($0, 1) }) != 0 { x86_pause() }
    return SpinLockGuard(lock: self, interruptsWereEnabled: interruptsWereEnabled)
  }

  /// Runs `body` holding the lock. No guard object: nothing here touches a reference
  /// count, so it is usable on paths that must not (trap context, thread exit).
  @inline(__always)
  func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let interruptsWereEnabled = Interrupts.areEnabled
    x86_cli()
    lockWord()
    defer {
      unlock()
      if interruptsWereEnabled { x86_sti() }
    }
    return try body()
  }

  fileprivate func unlock() {
    withUnsafeMutablePointer(to: &word) { _ = x86_xchg32($0, 0) }
  }

  /// For Scheduler.blockCurrent(releasing:) only: the lock word alone, interrupts
  /// untouched (the holder keeps them masked while it sleeps and after).
  func unlockWord() { unlock() }
  func lockWord() {
    while withUnsafeMutablePointer(to: &word, { x86_xchg32($0, 1) }) != 0 { x86_pause() }
  }
}

/// Holding a SpinLock. Release it by letting it go out of scope or with `release()`.
@frozen @usableFromInline
struct SpinLockGuard: ~Copyable {
  unowned(unsafe) let lock: SpinLock
  let interruptsWereEnabled: Bool

  consuming func release() {}  // deinit runs here

  deinit {
    lock.unlock()
    if interruptsWereEnabled { x86_sti() }
  }
}
