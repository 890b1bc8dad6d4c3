// A spinlock whose holder runs with interrupts masked, so neither a preempting thread
// nor an interrupt handler on this CPU can take it while it is held (which would spin
// forever on one CPU). The lock word makes it correct across CPUs too. It is held for
// exactly the body of `withLock`, which touches no reference count (so trap context
// and the thread-exit path may use it; a guard object did retain the lock). Never
// sleep while holding one, except through Scheduler.blockCurrent(releasing:). Rule
// (docs/design.md, "Locks"): spinlocks may be taken in any context, trap handlers
// included; they are innermost — take no mutex while holding one.
import X86Shim

final class SpinLock {
  private var word: UInt32 = 0

  /// Runs `body` holding the lock, interrupts masked; restores their state after.
  @inline(__always)
  func withLock<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let interruptsWereEnabled = Interrupts.areEnabled
    x86_cli()
    lockWord()
    defer {
      unlockWord()
      if interruptsWereEnabled { x86_sti() }
    }
    return try body()
  }

  /// The lock word alone, interrupts untouched: for withLock, and for
  /// Scheduler.blockCurrent(releasing:), whose holder keeps interrupts masked while it
  /// sleeps and after.
  func lockWord() {
    while withUnsafeMutablePointer(to: &word, { x86_xchg32($0, 1) }) != 0 { x86_pause() }
  }

  func unlockWord() {
    withUnsafeMutablePointer(to: &word) { _ = x86_xchg32($0, 0) }
  }
}
