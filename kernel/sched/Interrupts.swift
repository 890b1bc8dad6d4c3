// Masking interrupts for a critical section, restoring the previous state after. On
// one CPU this is the whole of mutual exclusion for data an interrupt handler or a
// preempting thread could touch; SpinLock adds the lock word SMP will need.
import X86Shim

enum Interrupts {
  private static let interruptFlag: UInt64 = 1 << 9

  static var areEnabled: Bool { x86_read_flags() & interruptFlag != 0 }

  /// Runs `body` with interrupts off, then restores whatever state it found.
  @inline(__always)
  static func withDisabled<R: ~Copyable, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let wereEnabled = areEnabled
    x86_cli()
    defer { if wereEnabled { x86_sti() } }
    return try body()
  }
}
