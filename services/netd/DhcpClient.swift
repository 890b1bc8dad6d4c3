// Configuration by DHCP (RFC 2131, options RFC 2132): DISCOVER, take the first
// OFFER, REQUEST it, bound at the ACK with its mask and router. Each step is sent up
// to `attempts` times, `retryInterval` apart; when no server answers (or one says
// NAK) the interface takes the fallback configuration QEMU's user network uses,
// 10.0.2.15/24 via 10.0.2.2. The lease is not renewed (see docs/design.md).

struct DhcpClient {
  enum State { case selecting, requesting, bound, fallback }

  static let clientPort: UInt16 = 68
  static let serverPort: UInt16 = 67
  static let attempts = 3
  static let retryInterval: UInt64 = 1_000_000_000
  static let fallback = InterfaceConfig(address: 0x0a00_020f, netmask: 0xffff_ff00, gateway: 0x0a00_0202,
                                        source: NetProtocol.ConfigSource.fallback)

  private(set) var state = State.selecting
  private let transaction: UInt32
  private var tries = 0
  private(set) var deadline: UInt64 = 0
  private var offered: UInt32 = 0
  private var server: UInt32 = 0
  private(set) var lease: UInt32 = 0

  private enum MessageType {
    static let discover: UInt8 = 1
    static let offer: UInt8 = 2
    static let request: UInt8 = 3
    static let ack: UInt8 = 5
    static let nak: UInt8 = 6
  }
  private static let magicCookie: UInt32 = 0x6382_5363
  private static let optionsOffset = 240
  /// BOOTP's smallest message; servers may ignore shorter ones.
  private static let messageBytes = 300

  init(transaction: UInt32) {
    self.transaction = transaction
  }

  var finished: Bool { state == .bound || state == .fallback }

  mutating func start(_ stack: NetworkStack, now: UInt64) {
    state = .selecting
    tries = 0
    send(stack, now: now)
  }

  /// A datagram for the client port; true when it finished the configuration.
  mutating func receive(_ datagram: UdpDatagram, stack: NetworkStack) -> Bool {
    let message = datagram.payload
    guard !finished, datagram.sourcePort == Self.serverPort, message.count >= Self.optionsOffset,
      message.u8(0) == 2, message.u32(4) == transaction, message.mac(28) == stack.device.mac,
      message.u32(236) == Self.magicCookie
    else { return false }
    var type: UInt8 = 0
    var mask: UInt32 = 0
    var router: UInt32 = 0
    var serverID: UInt32 = 0
    var leaseTime: UInt32 = 0
    var at = Self.optionsOffset
    while at < message.count {
      let code = message.u8(at)
      if code == 255 { break }
      if code == 0 {
        at += 1
        continue
      }
      guard at + 1 < message.count else { break }
      let length = Int(message.u8(at + 1))
      guard at + 2 + length <= message.count else { break }
      switch (code, length) {
      case (53, 1): type = message.u8(at + 2)
      case (1, 4): mask = message.u32(at + 2)
      case (3, 4...): router = message.u32(at + 2)
      case (54, 4): serverID = message.u32(at + 2)
      case (51, 4): leaseTime = message.u32(at + 2)
      default: break
      }
      at += 2 + length
    }
    let yours = message.u32(16)
    switch (state, type) {
    case (.selecting, MessageType.offer) where yours != 0:
      offered = yours
      server = serverID
      state = .requesting
      tries = 0
      send(stack, now: Sys.timeNow())
      return false
    case (.requesting, MessageType.ack) where yours == offered:
      stack.config = InterfaceConfig(address: yours, netmask: mask != 0 ? mask : 0xffff_ff00, gateway: router,
                                     source: NetProtocol.ConfigSource.dhcp)
      lease = leaseTime
      state = .bound
      return true
    case (.requesting, MessageType.nak):
      stack.config = Self.fallback
      state = .fallback
      return true
    default:
      return false
    }
  }

  /// The deadline passed: asks again, or gives up and falls back. True when that
  /// finished the configuration.
  mutating func expire(_ stack: NetworkStack, now: UInt64) -> Bool {
    guard !finished, now >= deadline else { return false }
    if tries >= Self.attempts {
      stack.config = Self.fallback
      state = .fallback
      return true
    }
    send(stack, now: now)
    return false
  }

  private mutating func send(_ stack: NetworkStack, now: UInt64) {
    tries += 1
    deadline = now + Self.retryInterval
    let requesting = state == .requesting
    let mac = stack.device.mac
    let transaction = self.transaction
    let offered = self.offered
    let server = self.server
    _ = stack.sendUdp(from: Self.clientPort, to: IPv4Address.broadcast, port: Self.serverPort, length: Self.messageBytes,
                      owner: .nobody) { message in
      message.zero(0, message.count)
      message.set8(0, 1)  // BOOTREQUEST
      message.set8(1, 1)  // Ethernet
      message.set8(2, 6)
      message.set32(4, transaction)
      message.set16(10, 0x8000)  // answer by broadcast: we have no address yet
      message.setMac(28, mac)
      message.set32(236, Self.magicCookie)
      var at = Self.optionsOffset
      func option(_ code: UInt8, _ bytes: [UInt8]) {
        message.set8(at, code)
        message.set8(at + 1, UInt8(bytes.count))
        for (index, byte) in bytes.enumerated() { message.set8(at + 2 + index, byte) }
        at += 2 + bytes.count
      }
      func quad(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
      }
      option(53, [requesting ? MessageType.request : MessageType.discover])
      if requesting {
        option(50, quad(offered))
        if server != 0 { option(54, quad(server)) }
      }
      option(55, [1, 3, 51, 54])  // mask, router, lease, server
      message.set8(at, 255)
    }
  }
}
