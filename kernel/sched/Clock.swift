// Monotonic time for time_now: the TSC, calibrated against the PIT in the same 10 ms
// the local APIC timer is calibrated in, counted from boot. (Under -icount the TSC
// counts instructions; the clock then measures virtual time, which is what benchmarks
// want.)
import X86Shim

enum Clock {
  nonisolated(unsafe) private static var bootTSC: UInt64 = 0
  nonisolated(unsafe) private(set) static var tscPerSecond: UInt64 = 0

  static func calibrate(tscPer10Milliseconds: UInt64, at now: UInt64) {
    bootTSC = now
    tscPerSecond = max(tscPer10Milliseconds * 100, 1)
  }

  /// Nanoseconds since boot; never decreases.
  static func nanoseconds() -> UInt64 {
    // Whole seconds and the remainder separately: the remainder is below tscPerSecond
    // (a few 10^9), so times 10^9 it fits 64 bits, and no 128-bit division is needed.
    let ticks = x86_rdtsc() &- bootTSC
    let seconds = ticks / tscPerSecond
    let remainder = ticks % tscPerSecond
    return seconds &* 1_000_000_000 &+ remainder &* 1_000_000_000 / tscPerSecond
  }
}
