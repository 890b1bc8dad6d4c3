// `make bench` (the `bench` option, booted with -icount shift=0 so the TSC counts
// guest instructions: DESIGN.md §7). Each benchmark prints
// `BENCH <name> ticks_per_op=<N>`. kmain masks the timer for the whole bench run so
// ticks are the operations' own; the user-space benchmarks (user/bench/syscalls.c)
// run after these, started by init.
import X86Shim

enum Benchmarks {
  static func run() {
    contextSwitch()
  }

  static let roundTrips: UInt64 = 20_000
  nonisolated(unsafe) private static var elapsed: UInt64 = 0

  /// Two threads yield to each other: one round trip is two switches (A→B, B→A).
  private static func contextSwitch() {
    guard let a = Scheduler.spawn(name: "benchA", entry: { _ in Benchmarks.pingPong(measure: true) }, argument: 0),
      let b = Scheduler.spawn(name: "benchB", entry: { _ in Benchmarks.pingPong(measure: false) }, argument: 0)
    else { kernelPanic(.outOfMemory, "cannot start benchmark threads") }
    _ = Scheduler.join(a)
    _ = Scheduler.join(b)
    kprint("BENCH context_switch ticks_per_op=\(elapsed / roundTrips)")
  }

  private static func pingPong(measure: Bool) {
    Scheduler.yield()  // both threads running before the clock starts
    let start = x86_rdtsc()
    for _ in 0..<roundTrips { Scheduler.yield() }
    if measure { elapsed = x86_rdtsc() - start }
  }
}
