// Timers for servers (endpoint_timer): a one-shot deadline that posts a key bit on
// an endpoint the way a device interrupt does (Endpoint.signal), so a server waits
// for requests, interrupts and its own timeouts in one receive, and the kernel needs
// no sleeping call and no timer threads.
//
// Each endpoint keeps its own 4 timers (`Endpoint.timers`), stored in the endpoint
// object and so charged with it: there is no system-wide table one program could fill
// for everyone (the old one of 64 was: 16 endpoints x 4 and init's and netd's timers
// failed). Endpoints with a timer armed are on one list, linked through their slots,
// which the tick walks once the earliest deadline has passed; nothing on the tick
// allocates or touches a reference count. The list holds no reference: an endpoint
// leaves it when its last reader goes (nobody could take what its timers post) and,
// whatever happened before, in its deinit, so the tick never meets a freed one.
//
// Lock rule as in MessageInterrupts: the slots, the list and `earliest` change with
// interrupts masked (one CPU), and the tick reads them masked.

/// An endpoint's timers and its place on the armed list.
struct EndpointTimerSlots {
  fileprivate var bits = InlineArray<4, UInt64>(repeating: 0)
  /// 0: not armed (free, or fired).
  fileprivate var deadlines = InlineArray<4, UInt64>(repeating: 0)
  fileprivate var listed = false
  fileprivate var next: Unmanaged<Endpoint>? = nil
  fileprivate var previous: Unmanaged<Endpoint>? = nil

  fileprivate var anyArmed: Bool {
    for index in 0..<EndpointTimers.perEndpoint where deadlines[index] != 0 { return true }
    return false
  }
}

enum EndpointTimers {
  static let perEndpoint = 4

  /// The first endpoint with a timer armed (or one that fired since the last walk).
  nonisolated(unsafe) private static var armed: Unmanaged<Endpoint>? = nil
  /// No deadline is earlier (UInt64.max: none armed).
  nonisolated(unsafe) private static var earliest = UInt64.max

  /// endpoint_timer: posts bit `key` on `endpoint` at `deadline`; 0 cancels. no_memory
  /// when the endpoint's own 4 are armed.
  static func arm(_ endpoint: Endpoint, key: UInt32, deadline: UInt64) throws(AbiError) {
    guard key < 64 else { throw .invalidArgument }
    let bit = UInt64(1) << UInt64(key)
    let outcome: AbiError? = Interrupts.withDisabled {
      var same: Int? = nil
      var free: Int? = nil
      for index in 0..<perEndpoint {
        let armedSlot = endpoint.timers.deadlines[index] != 0
        if armedSlot && endpoint.timers.bits[index] == bit { same = index }
        if !armedSlot && free == nil { free = index }
      }
      if deadline == 0 {
        if let same { endpoint.timers.deadlines[same] = 0 }
        return nil  // left on the list: the next walk takes it off
      }
      guard let slot = same ?? free else { return .noMemory }
      endpoint.timers.bits[slot] = bit
      endpoint.timers.deadlines[slot] = deadline
      link(endpoint)
      earliest = min(earliest, deadline)
      return nil
    }
    if let outcome { throw outcome }
  }

  /// The endpoint's last reader closed, or the endpoint is going: drops its timers and
  /// takes it off the list.
  static func cancelAll(_ endpoint: Endpoint) {
    Interrupts.withDisabled {
      endpoint.timers.deadlines = InlineArray(repeating: 0)
      unlink(Unmanaged.passUnretained(endpoint))
    }
  }

  /// From the tick (interrupts masked): posts every timer whose deadline has come, and
  /// takes endpoints with nothing armed off the list.
  static func expire() {
    guard earliest != UInt64.max else { return }
    let now = Clock.nanoseconds()
    guard now >= earliest else { return }
    var next = UInt64.max
    var cursor = armed
    while let current = cursor {
      cursor = current._withUnsafeGuaranteedRef { endpoint -> Unmanaged<Endpoint>? in
        let following = endpoint.timers.next
        for index in 0..<perEndpoint where endpoint.timers.deadlines[index] != 0 {
          if endpoint.timers.deadlines[index] <= now {
            endpoint.timers.deadlines[index] = 0
            endpoint.signal(endpoint.timers.bits[index])
          } else {
            next = min(next, endpoint.timers.deadlines[index])
          }
        }
        return following
      }
      if !current._withUnsafeGuaranteedRef({ $0.timers.anyArmed }) { unlink(current) }
    }
    earliest = next
  }

  /// Puts `endpoint` at the head of the list unless it is on it. Interrupts masked.
  private static func link(_ endpoint: Endpoint) {
    guard !endpoint.timers.listed else { return }
    let me = Unmanaged.passUnretained(endpoint)
    endpoint.timers.listed = true
    endpoint.timers.previous = nil
    endpoint.timers.next = armed
    armed?._withUnsafeGuaranteedRef { $0.timers.previous = me }
    armed = me
  }

  /// Takes `endpoint` off the list if it is on it. Interrupts masked.
  private static func unlink(_ endpoint: Unmanaged<Endpoint>) {
    endpoint._withUnsafeGuaranteedRef { leaving in
      guard leaving.timers.listed else { return }
      let before = leaving.timers.previous
      let after = leaving.timers.next
      if let before {
        before._withUnsafeGuaranteedRef { $0.timers.next = after }
      } else {
        armed = after
      }
      after?._withUnsafeGuaranteedRef { $0.timers.previous = before }
      leaving.timers.listed = false
      leaving.timers.next = nil
      leaving.timers.previous = nil
    }
  }
}
