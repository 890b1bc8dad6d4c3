// The protocol stack over one card: Ethernet in and out, ARP, IPv4, ICMP echo and
// UDP. `receive` takes one frame and says what it held for the layers above (a UDP
// datagram, an echo reply); everything it cannot use is counted in `counters` (the
// stats reply of spec/net.xml, kept as it is sent) and dropped. The send side builds
// frames straight in the card's transmit buffers; a frame whose next hop needs ARP
// first waits in `arp` (ArpCache), and its owner hears how it went through
// `completions`.

struct InterfaceConfig {
  var address: UInt32 = 0
  var netmask: UInt32 = 0
  var gateway: UInt32 = 0
  var source = NetProtocol.ConfigSource(rawValue: 0)

  func onLink(_ address: UInt32) -> Bool { netmask != 0 && address & netmask == self.address & netmask }
  func isBroadcast(_ address: UInt32) -> Bool {
    address == IPv4Address.broadcast || (netmask != 0 && onLink(address) && address & ~netmask == ~netmask)
  }
}

struct UdpDatagram {
  var source: UInt32
  var sourcePort: UInt16
  var destinationPort: UInt16
  /// In the card's receive buffer: valid until the frame is recycled.
  var payload: PacketBytes
}

enum Arrival {
  case nothing
  case udp(UdpDatagram)
  case echoReply(source: UInt32, identifier: UInt16, sequence: UInt16, ttl: UInt8)
}

enum SendOutcome {
  case sent
  /// Waiting for ARP: the owner hears through `completions`.
  case waiting
  case failed(NetProtocol.Status)
}

enum EtherType {
  static let ipv4: UInt16 = 0x0800
  static let arp: UInt16 = 0x0806
}

enum IPProtocol {
  static let icmp: UInt8 = 1
  static let udp: UInt8 = 17
}

final class NetworkStack {
  let device: VirtioNet
  var config = InterfaceConfig()
  var counters = NetProtocol.StatsReply()
  var arp = ArpCache()
  /// Waiting frames sent (true) or given up (false) since the owner last looked.
  var completions: [(owner: FrameOwner, sent: Bool)] = []
  private var identification: UInt16 = 1

  static let ethernetHeader = 14
  static let ipv4Header = 20
  static let udpHeader = 8
  static let defaultTTL: UInt8 = 64
  static let mtu = 1500

  init(device: VirtioNet) {
    self.device = device
  }

  // MARK: - receiving

  /// One frame from the card.
  func receive(_ frame: PacketBytes, now: UInt64) -> Arrival {
    counters.framesReceived += 1
    // No real card delivers more than the MTU allows (the receive buffers are larger).
    guard frame.count >= Self.ethernetHeader, frame.count <= VirtioNet.maximumFrame else {
      counters.droppedMalformed += 1
      return .nothing
    }
    let destination = frame.mac(0)
    guard destination == device.mac || destination == MacAddress.broadcast else {
      counters.droppedOther += 1
      return .nothing
    }
    let body = frame.slice(Self.ethernetHeader, frame.count - Self.ethernetHeader)
    switch frame.u16(12) {
    case EtherType.arp:
      receiveArp(body, now: now)
      return .nothing
    case EtherType.ipv4:
      return receiveIPv4(body, now: now)
    default:
      counters.droppedEthertype += 1
      return .nothing
    }
  }

  private func receiveArp(_ packet: PacketBytes, now: UInt64) {
    // hardware Ethernet (1), protocol IPv4, 6- and 4-byte addresses; 28 bytes.
    guard packet.count >= 28, packet.u16(0) == 1, packet.u16(2) == EtherType.ipv4, packet.u8(4) == 6, packet.u8(5) == 4 else {
      counters.droppedMalformed += 1
      return
    }
    let operation = packet.u16(6)
    let senderMac = packet.mac(8)
    let sender = packet.u32(14)
    let target = packet.u32(24)
    guard operation == 1 || operation == 2 else {
      counters.droppedMalformed += 1
      return
    }
    // RFC 826: refresh a known sender from any packet; learn a new one when it asks
    // for (or answers) us.
    let forUs = config.address != 0 && target == config.address
    if sender != 0 && (forUs || arp.has(sender)) {
      arp.learn(sender, senderMac, now: now)
      sendWaiting(for: sender, mac: senderMac)
    }
    guard forUs else {
      if !arp.has(sender) { counters.droppedOther += 1 }
      return
    }
    if operation == 1 {
      sendArp(operation: 2, targetMac: senderMac, target: sender)
      counters.arpRepliesSent += 1
    }
  }

  private func receiveIPv4(_ packet: PacketBytes, now: UInt64) -> Arrival {
    guard packet.count >= Self.ipv4Header, packet.u8(0) >> 4 == 4 else {
      counters.droppedMalformed += 1
      return .nothing
    }
    let headerLength = Int(packet.u8(0) & 15) * 4
    let totalLength = Int(packet.u16(2))
    guard headerLength >= Self.ipv4Header, totalLength >= headerLength, totalLength <= packet.count else {
      counters.droppedMalformed += 1
      return .nothing
    }
    guard InternetChecksum.finish(InternetChecksum.add(packet.slice(0, headerLength))) == 0 else {
      counters.droppedChecksum += 1
      return .nothing
    }
    let fragment = packet.u16(6)
    guard fragment & 0x2000 == 0, fragment & 0x1fff == 0 else {  // more fragments, or an offset
      counters.droppedFragments += 1
      return .nothing
    }
    let ttl = packet.u8(8)
    let source = packet.u32(12)
    let destination = packet.u32(16)
    let unconfigured = config.address == 0  // DHCP: take what comes
    guard ttl > 0, unconfigured || destination == config.address || config.isBroadcast(destination) else {
      counters.droppedOther += 1
      return .nothing
    }
    let payload = packet.slice(headerLength, totalLength - headerLength)
    switch packet.u8(9) {
    case IPProtocol.icmp:
      return receiveIcmp(payload, source: source, destination: destination, ttl: ttl)
    case IPProtocol.udp:
      return receiveUdp(payload, source: source, destination: destination)
    default:
      counters.droppedOther += 1
      return .nothing
    }
  }

  private func receiveIcmp(_ message: PacketBytes, source: UInt32, destination: UInt32, ttl: UInt8) -> Arrival {
    guard message.count >= 8 else {
      counters.droppedMalformed += 1
      return .nothing
    }
    guard InternetChecksum.finish(InternetChecksum.add(message)) == 0 else {
      counters.droppedChecksum += 1
      return .nothing
    }
    let type = message.u8(0)
    let code = message.u8(1)
    if type == 8 && code == 0 && destination == config.address {  // echo request; never to a broadcast
      let outcome = sendIPv4(to: source, protocolNumber: IPProtocol.icmp, payloadLength: message.count, owner: .nobody) { reply in
        reply.copy(to: 0, from: message)
        reply.set8(0, 0)  // echo reply
        reply.set16(2, 0)
        reply.set16(2, InternetChecksum.finish(InternetChecksum.add(reply)))
      }
      if case .failed = outcome { return .nothing }
      counters.echoRepliesSent += 1
      return .nothing
    }
    if type == 0 && code == 0 {
      return .echoReply(source: source, identifier: message.u16(4), sequence: message.u16(6), ttl: ttl)
    }
    counters.droppedOther += 1
    return .nothing
  }

  private func receiveUdp(_ datagram: PacketBytes, source: UInt32, destination: UInt32) -> Arrival {
    guard datagram.count >= Self.udpHeader else {
      counters.droppedMalformed += 1
      return .nothing
    }
    let length = Int(datagram.u16(4))
    guard length >= Self.udpHeader, length <= datagram.count else {
      counters.droppedMalformed += 1
      return .nothing
    }
    let covered = datagram.slice(0, length)
    if datagram.u16(6) != 0 {  // 0: the sender computed none (allowed over IPv4)
      let sum = InternetChecksum.add(covered, to: InternetChecksum.pseudoHeader(source: source, destination: destination,
                                                                               protocolNumber: IPProtocol.udp, length: length))
      guard InternetChecksum.finish(sum) == 0 else {
        counters.droppedChecksum += 1
        return .nothing
      }
    }
    return .udp(UdpDatagram(source: source, sourcePort: datagram.u16(0), destinationPort: datagram.u16(2),
                            payload: covered.slice(Self.udpHeader, length - Self.udpHeader)))
  }

  // MARK: - sending

  /// One UDP datagram of `length` payload bytes, which `fill` writes.
  func sendUdp(from sourcePort: UInt16, to destination: UInt32, port: UInt16, length: Int, owner: FrameOwner,
               fill: (PacketBytes) -> Void) -> SendOutcome {
    let source = config.address
    return sendIPv4(to: destination, protocolNumber: IPProtocol.udp, payloadLength: Self.udpHeader + length, owner: owner) { datagram in
      datagram.set16(0, sourcePort)
      datagram.set16(2, port)
      datagram.set16(4, UInt16(Self.udpHeader + length))
      datagram.set16(6, 0)
      fill(datagram.slice(Self.udpHeader, length))
      let sum = InternetChecksum.add(datagram, to: InternetChecksum.pseudoHeader(source: source, destination: destination,
                                                                                protocolNumber: IPProtocol.udp, length: datagram.count))
      let checksum = InternetChecksum.finish(sum)
      datagram.set16(6, checksum == 0 ? 0xffff : checksum)  // 0 would mean "none"
    }
  }

  /// One ICMP echo request with `size` bytes of payload (a counting pattern).
  func sendEchoRequest(to destination: UInt32, identifier: UInt16, sequence: UInt16, size: Int, owner: FrameOwner) -> SendOutcome {
    sendIPv4(to: destination, protocolNumber: IPProtocol.icmp, payloadLength: 8 + size, owner: owner) { message in
      message.set8(0, 8)
      message.set8(1, 0)
      message.set16(2, 0)
      message.set16(4, identifier)
      message.set16(6, sequence)
      for index in 0..<size { message.set8(8 + index, UInt8(truncatingIfNeeded: index)) }
      message.set16(2, InternetChecksum.finish(InternetChecksum.add(message)))
    }
  }

  /// An IPv4 packet to `destination` whose `payloadLength` bytes `fill` writes; sent
  /// now, or kept until ARP finds the next hop.
  func sendIPv4(to destination: UInt32, protocolNumber: UInt8, payloadLength: Int, owner: FrameOwner,
                fill: (PacketBytes) -> Void) -> SendOutcome {
    let total = Self.ipv4Header + payloadLength
    guard total <= Self.mtu else { return .failed(.badRequest) }
    let now = Sys.timeNow()
    let broadcast = config.isBroadcast(destination) || config.address == 0
    let nextHop = broadcast || config.onLink(destination) ? destination : config.gateway
    guard broadcast || nextHop != 0 else { return .failed(.hostUnreachable) }
    let mac: MacAddress? = broadcast ? MacAddress.broadcast : arp.lookup(nextHop, now: now)
    if mac == nil && arp.waiting.count >= ArpCache.waitingLimit { return .failed(.busy) }

    let (slot, frame) = transmitBuffer()
    frame.setMac(0, mac ?? MacAddress())
    frame.setMac(6, device.mac)
    frame.set16(12, EtherType.ipv4)
    let header = frame.slice(Self.ethernetHeader, Self.ipv4Header)
    header.set8(0, 0x45)
    header.set8(1, 0)
    header.set16(2, UInt16(total))
    header.set16(4, identification)
    identification &+= 1
    header.set16(6, 0x4000)  // don't fragment: netd never does
    header.set8(8, Self.defaultTTL)
    header.set8(9, protocolNumber)
    header.set16(10, 0)
    header.set32(12, config.address)
    header.set32(16, destination)
    header.set16(10, InternetChecksum.finish(InternetChecksum.add(header)))
    fill(frame.slice(Self.ethernetHeader + Self.ipv4Header, payloadLength))
    let length = Self.ethernetHeader + total
    if mac != nil {
      device.transmit(slot, length: length)
      counters.framesSent += 1
      return .sent
    }
    // Keep a copy until ARP answers; the card's buffer goes back unused.
    let bytes = [UInt8](UnsafeRawBufferPointer(start: frame.base, count: length))
    device.abandon(slot)
    arp.waiting.append(WaitingFrame(nextHop: nextHop, bytes: bytes, owner: owner))
    if !arp.queries.contains(where: { $0.address == nextHop }) {
      arp.queries.append(ArpQuery(address: nextHop, attempts: 1, nextTry: now + ArpCache.retryInterval))
      sendArp(operation: 1, targetMac: MacAddress(), target: nextHop)
    }
    return .waiting
  }

  /// A free transmit buffer; when the card holds them all, waits for it to finish one
  /// (it sends without netd's help, so this is short).
  private func transmitBuffer() -> (slot: UInt16, frame: PacketBytes) {
    while true {
      if let free = device.transmitBuffer() { return free }
      Sys.yield()
    }
  }

  private func sendArp(operation: UInt16, targetMac: MacAddress, target: UInt32) {
    let (slot, frame) = transmitBuffer()
    frame.setMac(0, operation == 1 ? MacAddress.broadcast : targetMac)
    frame.setMac(6, device.mac)
    frame.set16(12, EtherType.arp)
    let packet = frame.slice(Self.ethernetHeader, 28)
    packet.set16(0, 1)
    packet.set16(2, EtherType.ipv4)
    packet.set8(4, 6)
    packet.set8(5, 4)
    packet.set16(6, operation)
    packet.setMac(8, device.mac)
    packet.set32(14, config.address)
    packet.setMac(18, targetMac)
    packet.set32(24, target)
    // The shortest Ethernet frame is 60 bytes without the FCS: pad with zeros.
    frame.zero(Self.ethernetHeader + 28, 60 - Self.ethernetHeader - 28)
    device.transmit(slot, length: 60)
    counters.framesSent += 1
  }

  /// ARP found `address` at `mac`: sends what waited for it.
  private func sendWaiting(for address: UInt32, mac: MacAddress) {
    arp.queries.removeAll { $0.address == address }
    guard arp.waiting.contains(where: { $0.nextHop == address }) else { return }
    var kept: [WaitingFrame] = []
    for waiting in arp.waiting {
      guard waiting.nextHop == address else {
        kept.append(waiting)
        continue
      }
      let (slot, frame) = transmitBuffer()
      waiting.bytes.withUnsafeBytes { bytes in
        frame.base.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
      }
      frame.setMac(0, mac)
      device.transmit(slot, length: waiting.bytes.count)
      counters.framesSent += 1
      completions.append((waiting.owner, true))
    }
    arp.waiting = kept
  }

  /// Gives the frame the last send left waiting (it answered .waiting) an owner.
  func ownLastWaiting(_ owner: FrameOwner) {
    arp.waiting[arp.waiting.count - 1].owner = owner
  }

  // MARK: - time

  /// Repeats ARP queries that are due, and gives up those asked often enough.
  func expire(now: UInt64) {
    var index = 0
    while index < arp.queries.count {
      guard arp.queries[index].nextTry <= now else {
        index += 1
        continue
      }
      if arp.queries[index].attempts >= ArpCache.attempts {
        let address = arp.queries[index].address
        arp.queries.remove(at: index)
        var kept: [WaitingFrame] = []
        for waiting in arp.waiting {
          if waiting.nextHop == address { completions.append((waiting.owner, false)) } else { kept.append(waiting) }
        }
        arp.waiting = kept
        continue
      }
      arp.queries[index].attempts += 1
      arp.queries[index].nextTry = now + ArpCache.retryInterval
      sendArp(operation: 1, targetMac: MacAddress(), target: arp.queries[index].address)
      index += 1
    }
  }

  var nextDeadline: UInt64? { arp.nextDeadline }
}
