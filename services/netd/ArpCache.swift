// ARP (RFC 826) for IPv4 over Ethernet: a small cache of next hops' Ethernet
// addresses, each kept for `lifetime` after it was last confirmed, and the frames that
// wait for an answer. A frame for a next hop not in the cache is copied into
// `waiting` and an ARP request goes out, repeated every `retryInterval` up to
// `attempts` times; the answer sends every frame waiting for that hop, and silence
// fails them (their owners learn host_unreachable).

struct ArpEntry {
  var address: UInt32 = 0  // 0: free
  var mac = MacAddress()
  var expires: UInt64 = 0
}

/// Who is told when a waiting frame is sent or given up.
enum FrameOwner {
  case nobody
  /// A send_to whose detached reply answers then.
  case sendTo(DeferredReply)
  /// A ping (by its slot in the service's table).
  case ping(Int)
}

struct WaitingFrame {
  var nextHop: UInt32
  var bytes: [UInt8]
  var owner: FrameOwner
}

struct ArpQuery {
  var address: UInt32
  var attempts: Int
  var nextTry: UInt64
}

struct ArpCache {
  static let lifetime: UInt64 = 60_000_000_000  // 60 s
  static let retryInterval: UInt64 = 250_000_000  // 250 ms
  static let attempts = 3
  static let waitingLimit = 32

  /// An Array, not an InlineArray: the stack's `nextDeadline`, read after every
  /// request, copies the whole cache, and -Osize copies an InlineArray byte by byte
  /// (`rep movsb`: an instruction a byte); an Array is one reference to retain.
  private var entries = [ArpEntry](repeating: ArpEntry(), count: 16)
  var waiting: [WaitingFrame] = []
  var queries: [ArpQuery] = []

  /// The Ethernet address of `address`, if it is cached and fresh.
  func lookup(_ address: UInt32, now: UInt64) -> MacAddress? {
    for index in 0..<16 where entries[index].address == address && entries[index].address != 0 {
      return entries[index].expires > now ? entries[index].mac : nil
    }
    return nil
  }

  /// Whether `address` has an entry (fresh or not): RFC 826 updates those from any
  /// ARP packet that names it as sender.
  func has(_ address: UInt32) -> Bool {
    for index in 0..<16 where entries[index].address == address && address != 0 { return true }
    return false
  }

  /// Records (or refreshes) `address` at `mac`; a full cache forgets its oldest entry.
  mutating func learn(_ address: UInt32, _ mac: MacAddress, now: UInt64) {
    var slot = 0
    for index in 0..<16 {
      if entries[index].address == address { slot = index; break }
      if entries[index].expires < entries[slot].expires { slot = index }
    }
    entries[slot] = ArpEntry(address: address, mac: mac, expires: now + Self.lifetime)
  }

  /// The earliest moment a query must be repeated or given up.
  var nextDeadline: UInt64? {
    guard !queries.isEmpty else { return nil }
    return queries.map { $0.nextTry }.min()
  }
}
