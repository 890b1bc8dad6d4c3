// Proves at boot that the Swift features the kernel relies on work in this build:
// class allocation and release (through the kernel heap), array growth, generics and
// a noncopyable type's ownership — and that Swift lays out every ABI struct exactly as
// the generated C header asserts. `SWIFT: kmain ok` is printed only if every result
// is right; a wrong one panics with the name of the check that failed.

enum SwiftSelfCheck {
  static func run() {
    let heapBefore = KernelHeap.bytesInUse
    check(classLifetime(), "class allocation and release")
    check(arrayGrowth(), "array growth")
    check(generics(), "generic functions")
    check(noncopyableOwnership(), "noncopyable ownership")
    check(AbiLayout.verify(), "ABI struct layouts (kernel/generated/AbiTypes.swift)")
    check(KernelHeap.bytesInUse == heapBefore, "heap returned to its starting size")
    kprint("SWIFT: kmain ok")
  }

  private static func check(_ passed: Bool, _ what: StaticString) {
    if !passed { kernelPanic(.selfCheckFailed, "Swift self-check failed: \(what)") }
  }

  // MARK: class allocation and release

  private final class Probe {
    nonisolated(unsafe) static var released = 0
    let value: Int
    init(value: Int) { self.value = value }
    deinit { Probe.released += 1 }
  }

  /// Keeps probes reachable from a global so the optimizer must heap-allocate them
  /// (a purely local object could be promoted to the stack).
  nonisolated(unsafe) private static var retained: [Probe] = []

  private static func classLifetime() -> Bool {
    Probe.released = 0
    let before = KernelHeap.bytesInUse
    for value in 0..<16 { retained.append(Probe(value: value)) }
    let whileAlive = KernelHeap.bytesInUse
    var sum = 0
    for probe in retained { sum += probe.value }
    retained = []
    return whileAlive > before && sum == 120 && Probe.released == 16
      && KernelHeap.bytesInUse == before
  }

  // MARK: array growth

  private static func arrayGrowth() -> Bool {
    var squares: [UInt64] = []
    var reallocations = 0
    var capacity = squares.capacity
    for n in 0..<1000 {
      squares.append(UInt64(n * n))
      if squares.capacity != capacity {
        reallocations += 1
        capacity = squares.capacity
      }
    }
    var sum: UInt64 = 0
    for square in squares { sum += square }
    // Σ n² for n < 1000 = 999·1000·1999 / 6
    return squares.count == 1000 && sum == 332_833_500 && reallocations > 1
  }

  // MARK: generics

  private static func largest<T: Comparable>(_ items: [T]) -> T? {
    var best: T? = nil
    for item in items where best == nil || item > best! { best = item }
    return best
  }

  private struct Version: Comparable {
    let major: Int, minor: Int
    static func < (a: Version, b: Version) -> Bool {
      (a.major, a.minor) < (b.major, b.minor)
    }
  }

  private static func generics() -> Bool {
    largest([3, 9, 2]) == 9 && largest([200, 7] as [UInt8]) == 200
      && largest([Version(major: 1, minor: 9), Version(major: 2, minor: 0)])
        == Version(major: 2, minor: 0)
      && largest([] as [Int]) == nil
  }

  // MARK: noncopyable ownership

  /// A stand-in for the kernel's owning handles: however ownership moves, deinit runs
  /// exactly once per value, when its last owner lets go.
  private struct Ticket: ~Copyable {
    nonisolated(unsafe) static var dropped = 0
    let number: Int
    deinit { Ticket.dropped += 1 }
  }

  private static func take(_ ticket: consuming Ticket) -> Int { ticket.number }

  private static func noncopyableOwnership() -> Bool {
    Ticket.dropped = 0
    var total = 0
    do {
      let first = Ticket(number: 7)
      let moved = first                      // a move: `first` is gone, no copy exists
      total += moved.number
    }                                        // one deinit, for `moved`
    let afterMove = Ticket.dropped
    total += take(Ticket(number: 11))        // deinit when `take` returns
    var slot: Ticket? = Ticket(number: 13)
    if let taken = slot.take() { total += taken.number }  // slot is empty afterwards
    return afterMove == 1 && total == 31 && slot == nil && Ticket.dropped == 3
  }
}
