// Timers for servers (endpoint_timer): a one-shot deadline that posts a key bit on
// an endpoint the way a device interrupt does (Endpoint.signal), so a server waits
// for requests, interrupts and its own timeouts in one receive, and the kernel needs
// no sleeping call and no timer threads.
//
// The table is fixed (no allocation on the tick) and checked on every tick, in
// interrupt context, only once the earliest deadline has passed. Lock rule as in
// MessageInterrupts: `slots` changes with interrupts masked (one CPU), and the tick
// reads it masked; `retained` keeps each armed endpoint alive and changes only in
// syscall context, so the tick touches no reference count. A fired slot keeps its
// reference until a later arm reuses it; when an endpoint's last receiver goes, its
// timers go too (nobody could take what they post).

enum EndpointTimers {
  static let capacity = 64
  static let perEndpoint = 4

  private struct Slot {
    var endpoint: Unmanaged<Endpoint>? = nil
    var bit: UInt64 = 0
    /// 0: not armed (free, or fired).
    var deadline: UInt64 = 0
  }

  nonisolated(unsafe) private static var slots = InlineArray<64, Slot>(repeating: Slot())
  nonisolated(unsafe) private static var retained = InlineArray<64, Endpoint?>(repeating: nil)
  /// No deadline is earlier (UInt64.max: none armed).
  nonisolated(unsafe) private static var earliest = UInt64.max

  /// endpoint_timer: posts bit `key` on `endpoint` at `deadline`; 0 cancels.
  static func arm(_ endpoint: Endpoint, key: UInt32, deadline: UInt64) throws(AbiError) {
    guard key < 64 else { throw .invalidArgument }
    let bit = UInt64(1) << UInt64(key)
    var released: Endpoint? = nil
    defer { withExtendedLifetime(released) {} }  // a reused slot's old endpoint, released after the table is consistent
    let outcome: AbiError? = Interrupts.withDisabled {
      var same: Int? = nil
      var free: Int? = nil
      var armedHere = 0
      for index in 0..<capacity {
        let mine = retained[index] === endpoint
        if mine && slots[index].deadline != 0 { armedHere += 1 }
        if mine && slots[index].bit == bit && same == nil { same = index }
        if free == nil && slots[index].deadline == 0 { free = index }
      }
      if deadline == 0 {
        if let same { slots[same].deadline = 0 }
        return nil
      }
      if let same, slots[same].deadline != 0 {
        slots[same].deadline = deadline
      } else {
        guard armedHere < perEndpoint, let slot = same ?? free else { return .noMemory }
        if retained[slot] !== endpoint {
          released = retained[slot]
          retained[slot] = endpoint
        }
        slots[slot] = Slot(endpoint: Unmanaged.passUnretained(endpoint), bit: bit, deadline: deadline)
      }
      earliest = min(earliest, deadline)
      return nil
    }
    if let outcome { throw outcome }
  }

  /// The endpoint's last reader closed: drops its timers and the table's references.
  static func cancelAll(_ endpoint: Endpoint) {
    var released = InlineArray<64, Endpoint?>(repeating: nil)
    Interrupts.withDisabled {
      for index in 0..<capacity where retained[index] === endpoint {
        slots[index] = Slot()
        released[index] = retained[index]
        retained[index] = nil
      }
    }
    withExtendedLifetime(released) {}
  }

  /// From the tick (interrupts masked): posts every timer whose deadline has come.
  static func expire() {
    guard earliest != UInt64.max else { return }
    let now = Clock.nanoseconds()
    guard now >= earliest else { return }
    var next = UInt64.max
    for index in 0..<capacity where slots[index].deadline != 0 {
      if slots[index].deadline <= now {
        slots[index].deadline = 0
        slots[index].endpoint?._withUnsafeGuaranteedRef { $0.signal(slots[index].bit) }
      } else {
        next = min(next, slots[index].deadline)
      }
    }
    earliest = next
  }
}
