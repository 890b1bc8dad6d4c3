// netd: the virtio-net driver and the network server. init starts it for the card
// with the registry as handle 1, the card's device as handle 2 (read, map, interrupt,
// dma) and handle 3 to say it is ready on, and the name to register (net0, ...) as
// its first argument. It brings the card up, configures the interface by DHCP (or
// the fallback static address when no server answers), registers the name and serves
// spec/net.xml on one endpoint, which also carries the card's interrupt (key 0) and
// netd's timer (key 1).
//
// Why the driver lives in netd rather than a netdevd of its own: every frame would
// otherwise cross one more process boundary (a message and a copy each way) for no
// isolation worth having, since netd is itself an unprivileged process holding only
// this card; the transport and virtqueue code is the shared ulib/swift/virtio, so a
// separate driver later is a move, not a rewrite.
//
// Arguments: NAME [no-dhcp] (skip DHCP: the fallback configuration at once).

let deviceHandle: UInt32 = 2
let readyHandle: UInt32 = 3
let deviceKey: UInt32 = 0

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  guard argc >= 2, let argv, let nameArgument = argv[1] else {
    print("NETD: usage: netd NAME [no-dhcp]")
    return 2
  }
  let name = UnsafeBufferPointer(start: UnsafeRawPointer(nameArgument).assumingMemoryBound(to: UInt8.self), count: strlen(nameArgument))
  var useDhcp = true
  for index in 2..<Int(argc) {
    if let option = argv[index], strcmp(option, "no-dhcp") == 0 { useDhcp = false }
  }

  let device = DeviceHandle(adopting: deviceHandle)
  guard let info = try? Sys.deviceInfo(device: device) else {
    print("NETD: handle 2 is not a device")
    return 1
  }
  let location = DeviceLocation(info)
  let card: VirtioNet
  do {
    card = try VirtioNet(try VirtioPCI(device: device, info: info))
  } catch {
    print("NET: \(location) \(error.explanation): refused")
    return 1
  }
  guard let endpoint = try? card.transport.serverEndpoint(serving: "net", interruptKey: deviceKey) else {
    print("NET: \(location): no endpoint with the device's interrupt")
    return 1
  }
  print("NET: found virtio-net \(location) mac=\(card.mac) rx=\(card.receiveQueue.size) tx=\(card.transmitQueue.size)")

  let stack = NetworkStack(device: card)
  var service = NetService(stack: stack, endpoint: endpoint.raw)
  var dhcp = DhcpClient(transaction: UInt32(truncatingIfNeeded: Sys.timeNow() ^ Sys.timeNow() >> 32))

  // Configuration first: until it is done nobody can find netd, so only the card and
  // the timer speak on the endpoint.
  if useDhcp {
    dhcp.start(stack, now: Sys.timeNow())
    while !dhcp.finished {
      service.armTimer(also: dhcp.deadline)
      var bits: UInt64 = 0
      let received = withUnsafeMutableBytes(of: &bits) { bytes in
        Result { () throws(AbiError) in
          try Sys.ipcRecv(endpoint: endpoint, buf: UnsafeMutableBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8),
                          handles: UnsafeMutableBufferPointer(start: nil, count: 0))
        }
      }
      guard case .success(let message) = received else {
        print("NETD: the endpoint failed during DHCP")
        return 1
      }
      guard IpcRecvFlags(rawValue: message.info.flags).contains(.interrupt) else { continue }
      if bits & (1 << UInt64(NetService.timerKey)) != 0 { service.timerFired() }
      let now = Sys.timeNow()
      if bits & (1 << UInt64(deviceKey)) != 0 {
        pollFrames(card, stack: stack, now: now) { arrival in
          if case .udp(let datagram) = arrival, datagram.destinationPort == DhcpClient.clientPort {
            _ = dhcp.receive(datagram, stack: stack)
          } else {
            service.deliver(arrival, now: now)
          }
        }
      }
      _ = dhcp.expire(stack, now: Sys.timeNow())
      stack.expire(now: Sys.timeNow())
      service.settleCompletions()
    }
  } else {
    stack.config = DhcpClient.fallback
  }
  let config = stack.config
  let prefix = (~config.netmask).leadingZeroBitCount
  if config.source == .dhcp {
    print("NET: configured by DHCP: \(IPv4Address.text(config.address))/\(prefix) gateway \(IPv4Address.text(config.gateway)) lease \(dhcp.lease) s")
  } else {
    print("NET: \(useDhcp ? "no DHCP answer" : "no-dhcp"): fallback \(IPv4Address.text(config.address))/\(prefix) gateway \(IPv4Address.text(config.gateway))")
  }

  let added = ServiceRegistry.publish(name, serving: endpoint)
  guard added == .ok else {
    print("NETD: cannot register the name: status \(added.rawValue)")
    return 1
  }
  print("NETD: ready")
  StartHandshake.ready(on: readyHandle, server: "NETD")
  service.armTimer()
  let stopped = IpcServer.run(endpoint: endpoint.raw) { received, request, handles, reply, replyHandles in
    var length = 0
    if IpcRecvFlags(rawValue: received.flags).contains(.interrupt) {
      let bits = request.count >= 8 ? request.loadUnaligned(as: UInt64.self) : 0
      if bits & (1 << UInt64(NetService.timerKey)) != 0 { service.timerFired() }
      if bits & (1 << UInt64(deviceKey)) != 0 {
        let now = Sys.timeNow()
        pollFrames(card, stack: stack, now: now) { service.deliver($0, now: now) }
      }
    } else if IpcRecvFlags(rawValue: received.flags).contains(.senderEnded) {
      service.clientEnded(received.sender)
    } else {
      service.sender = received.sender
      length = NetProtocol.serve(&service, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
    }
    service.housekeeping()
    return length
  }
  print("NETD: stopped (error \(stopped.rawValue))")
  return 1
}

/// Takes every frame the card has delivered through the stack, hands what each held
/// to `deliver`, gives the buffers back and re-arms the card's interrupt.
func pollFrames(_ card: VirtioNet, stack: NetworkStack, now: UInt64, deliver: (Arrival) -> Void) {
  var any = false
  while let received = card.nextReceived() {
    deliver(stack.receive(received.frame, now: now))
    card.recycle(received.buffer)
    any = true
  }
  if any { card.notifyRecycled() }
  card.acknowledgeInterrupt()
}

@_extern(c, "strlen") func strlen(_ string: UnsafePointer<CChar>) -> Int
@_extern(c, "strcmp") func strcmp(_ a: UnsafePointer<CChar>, _ b: UnsafePointer<CChar>) -> Int32
