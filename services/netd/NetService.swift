// The network protocol (spec/net.xml) over the stack: UDP sockets and ping. A socket
// belongs to the process that bound it (by sender id); its id is its slot and a
// generation, so a closed or another process's id is bad_socket. Datagrams for a
// socket wait in its queue (up to `queueLimit`, then dropped and counted) until a
// recv_from takes them; a recv_from that finds none detaches its reply and is answered
// when one comes or its timeout passes. Timeouts (recv_from, ping, ARP, DHCP) are
// netd's endpoint timer (key `timerKey`), armed for the earliest deadline.
//
// What a client keeps here (sockets, with their queued datagrams and waiting receive,
// and pings) is freed when it ends: the first time it gets any of them netd watches
// it (endpoint_watch_caller) and the sender_ended notice calls `clientEnded`. Each
// client holds at most `socketsPerClient` of the `socketLimit` sockets and
// `pingsPerClient` of the `pingLimit` pings, so one cannot take what the others need;
// a ping waits at most `pingTimeoutLimit`.

struct QueuedDatagram {
  var source: UInt32
  var port: UInt16
  var bytes: [UInt8]
}

struct WaitingReceive {
  var reply: DeferredReply
  var offset: UInt64
  var capacity: UInt32
  var deadline: UInt64  // 0: none
}

struct Socket {
  var owner: UInt64 = 0  // 0: free
  var port: UInt16 = 0
  var generation: UInt32 = 0
  var queue: [QueuedDatagram] = []
  var waiting: WaitingReceive? = nil
}

struct PendingPing {
  var owner: UInt64
  var reply: DeferredReply
  var address: UInt32
  var sequence: UInt16
  var sentAt: UInt64
  var deadline: UInt64
}

struct NetService: NetProtocol.Server {
  static let socketLimit = 32
  static let queueLimit = 64
  static let pingLimit = 8
  static let socketsPerClient = Int(NetProtocol.socketsPerClient)
  static let pingsPerClient = Int(NetProtocol.pingsPerClient)
  /// The longest a ping may wait (ms): a slot is not held for a client's 49 days.
  static let pingTimeoutLimit = NetProtocol.maxPingTimeoutMs
  static let firstEphemeralPort: UInt16 = 49152
  static let pingIdentifier: UInt16 = 0x4e44  // "ND"
  static let timerKey: UInt32 = 1

  let stack: NetworkStack
  let endpoint: UInt32
  var sender: UInt64 = 0
  private var buffers = ClientBuffers(largest: 1 << 20, budget: 16 << 20)
  private var sockets = [Socket](repeating: Socket(), count: socketLimit)
  private var pings = [PendingPing?](repeating: nil, count: pingLimit)
  private var nextEphemeral = firstEphemeralPort
  private var armedDeadline: UInt64 = 0
  /// No receive or ping times out before this (it may be early: a receive answered
  /// sooner leaves it behind, and costs one early wake-up, not a scan per message).
  private var earliest = UInt64.max

  init(stack: NetworkStack, endpoint: UInt32) {
    self.stack = stack
    self.endpoint = endpoint
  }

  // MARK: - ops

  mutating func info(_ request: NetProtocol.InfoRequest, handles: inout MessageHandles,
                     reply: inout NetProtocol.InfoReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    reply.address = stack.config.address
    reply.netmask = stack.config.netmask
    reply.gateway = stack.config.gateway
    reply.source = stack.config.source
    for index in 0..<6 { reply.mac[index] = stack.device.mac.bytes[index] }
    reply.mtu = UInt16(NetworkStack.mtu)
    return .ok
  }

  mutating func stats(_ request: NetProtocol.StatsRequest, handles: inout MessageHandles,
                      reply: inout NetProtocol.StatsReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    let header = reply.header
    reply = stack.counters
    reply.header = header
    return .ok
  }

  mutating func attachBuffer(_ request: NetProtocol.AttachBufferRequest, handles: inout MessageHandles,
                             reply: inout NetProtocol.AttachBufferReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    guard let shm = handles.take(0) else { return .badRequest }
    switch buffers.attach(shm, size: request.bufferSize, sender: sender, endpoint: endpoint) {
    case .refused: return .badRequest
    case .full: return .busy
    case .attached: return .ok
    }
  }

  mutating func bind(_ request: NetProtocol.BindRequest, handles: inout MessageHandles,
                     reply: inout NetProtocol.BindReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    guard sender != 0 else { return .badRequest }
    var port = request.port
    if port == 0 {
      guard let free = freeEphemeralPort() else { return .busy }
      port = free
    } else if sockets.contains(where: { $0.owner != 0 && $0.port == port }) {
      return .addressInUse
    }
    guard let slot = sockets.firstIndex(where: { $0.owner == 0 }),
      sockets.count(where: { $0.owner != 0 && ClientJob.same($0.owner, sender) }) < Self.socketsPerClient
    else { return .busy }
    if let refused = watchSender() { return refused }
    let generation = sockets[slot].generation &+ 1
    sockets[slot] = Socket(owner: sender, port: port, generation: generation)
    reply.socket = UInt32(slot) | generation << 8
    reply.port = port
    return .ok
  }

  mutating func sendTo(_ request: NetProtocol.SendToRequest, handles: inout MessageHandles,
                       reply: inout NetProtocol.SendToReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    guard let slot = socket(request.socket) else { return .badSocket }
    guard request.port != 0, request.length <= NetProtocol.maxDatagram else { return .badRequest }
    guard buffers.has(sender) else { return .noBuffer }
    guard let source = buffers.range(sender, offset: request.bufferOffset, length: UInt64(request.length)) else { return .badRequest }
    let payload = PacketBytes(source, count: Int(request.length))
    // Answered later only if the frame has to wait for ARP.
    let outcome = stack.sendUdp(from: sockets[slot].port, to: request.address, port: request.port, length: Int(request.length),
                                owner: .nobody) { datagram in
      datagram.copy(to: 0, from: payload)
    }
    switch outcome {
    case .sent: return .ok
    case .failed(let status): return status
    case .waiting:
      // The frame waits for ARP; this request is answered when it goes or fails.
      if let deferred = DeferredReply.detach(op: request.header.op, id: request.header.id) { stack.ownLastWaiting(.sendTo(deferred)) }
      return .ok  // this reply goes nowhere when detached
    }
  }

  mutating func recvFrom(_ request: NetProtocol.RecvFromRequest, handles: inout MessageHandles,
                         reply: inout NetProtocol.RecvFromReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    guard let slot = socket(request.socket) else { return .badSocket }
    guard request.flags.isKnown else { return .badRequest }
    guard buffers.has(sender) else { return .noBuffer }
    guard buffers.range(sender, offset: request.bufferOffset, length: UInt64(request.capacity)) != nil else { return .badRequest }
    if !sockets[slot].queue.isEmpty {
      let datagram = sockets[slot].queue.removeFirst()
      return store(datagram, offset: request.bufferOffset, capacity: request.capacity, into: &reply)
    }
    if request.flags.contains(.dontWait) { return .wouldBlock }
    guard sockets[slot].waiting == nil else { return .busy }
    guard let deferred = DeferredReply.detach(op: request.header.op, id: request.header.id) else { return .badRequest }
    let deadline = request.timeoutMs == 0 ? 0 : Sys.timeNow() + UInt64(request.timeoutMs) * 1_000_000
    sockets[slot].waiting = WaitingReceive(reply: deferred, offset: request.bufferOffset, capacity: request.capacity, deadline: deadline)
    if deadline != 0 { earliest = min(earliest, deadline) }
    return .ok  // goes nowhere: the detached reply answers
  }

  mutating func close(_ request: NetProtocol.CloseRequest, handles: inout MessageHandles,
                      reply: inout NetProtocol.CloseReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    guard let slot = socket(request.socket) else { return .badSocket }
    free(slot)
    return .ok
  }

  mutating func ping(_ request: NetProtocol.PingRequest, handles: inout MessageHandles,
                     reply: inout NetProtocol.PingReply, replyHandles: inout MessageHandles) -> NetProtocol.Status {
    guard request.size <= UInt16(NetProtocol.maxDatagram), request.timeoutMs <= Self.pingTimeoutLimit else { return .badRequest }
    guard sender != 0 else { return .badRequest }
    guard let slot = pings.firstIndex(where: { $0 == nil }),
      pings.count(where: { $0.map { ClientJob.same($0.owner, sender) } ?? false }) < Self.pingsPerClient
    else { return .busy }
    if let refused = watchSender() { return refused }
    let now = Sys.timeNow()
    let outcome = stack.sendEchoRequest(to: request.address, identifier: Self.pingIdentifier, sequence: request.sequence,
                                        size: Int(request.size), owner: .ping(slot))
    if case .failed(let status) = outcome { return status }
    guard let deferred = DeferredReply.detach(op: request.header.op, id: request.header.id) else { return .badRequest }
    let timeout = UInt64(request.timeoutMs == 0 ? 1000 : request.timeoutMs) * 1_000_000
    pings[slot] = PendingPing(owner: sender, reply: deferred, address: request.address, sequence: request.sequence, sentAt: now,
                              deadline: now + timeout)
    earliest = min(earliest, now + timeout)
    return .ok  // goes nowhere: the detached reply answers
  }

  // MARK: - arrivals

  /// What a frame held for a socket or a ping.
  mutating func deliver(_ arrival: Arrival, now: UInt64) {
    switch arrival {
    case .nothing:
      break
    case .udp(let datagram):
      guard let slot = sockets.firstIndex(where: { $0.owner != 0 && $0.port == datagram.destinationPort }) else {
        stack.counters.droppedNoSocket += 1
        return
      }
      let bytes = [UInt8](UnsafeRawBufferPointer(start: datagram.payload.base, count: datagram.payload.count))
      let queued = QueuedDatagram(source: datagram.source, port: datagram.sourcePort, bytes: bytes)
      if let waiting = sockets[slot].waiting {
        sockets[slot].waiting = nil
        var reply = NetProtocol.RecvFromReply()
        let status = store(queued, offset: waiting.offset, capacity: waiting.capacity, owner: sockets[slot].owner, into: &reply)
        if !waiting.reply.answer(&reply, status: status.rawValue) { forget(sockets[slot].owner) }
      } else if sockets[slot].queue.count < Self.queueLimit {
        sockets[slot].queue.append(queued)
      } else {
        stack.counters.droppedQueueFull += 1
      }
    case .echoReply(let source, let identifier, let sequence, let ttl):
      guard identifier == Self.pingIdentifier,
        let slot = pings.firstIndex(where: { $0 != nil && $0!.address == source && $0!.sequence == sequence }),
        let ping = pings[slot]
      else {
        stack.counters.droppedOther += 1
        return
      }
      pings[slot] = nil
      var reply = NetProtocol.PingReply()
      reply.roundTripNs = now - ping.sentAt
      reply.ttl = ttl
      ping.reply.answer(&reply, status: NetProtocol.Status.ok.rawValue)
    }
  }

  /// Owners of frames that waited for ARP: a send_to answers now; a ping whose
  /// request never left fails.
  mutating func settleCompletions() {
    let done = stack.completions
    stack.completions = []
    for (owner, sent) in done {
      switch owner {
      case .nobody: break
      case .sendTo(let deferred):
        deferred.answer(NetProtocol.SendToReply.self, status: (sent ? NetProtocol.Status.ok : .hostUnreachable).rawValue)
      case .ping(let slot):
        guard !sent, let ping = pings[slot] else { break }
        pings[slot] = nil
        ping.reply.answer(NetProtocol.PingReply.self, status: NetProtocol.Status.hostUnreachable.rawValue)
      }
    }
  }

  // MARK: - time

  /// Answers receives and pings whose time is up.
  mutating func expire(now: UInt64) {
    guard now >= earliest else { return }
    earliest = UInt64.max
    for index in 0..<sockets.count {
      guard let deadline = sockets[index].waiting?.deadline, deadline != 0 else { continue }
      if deadline <= now { answerWaiting(index, status: .timedOut) } else { earliest = min(earliest, deadline) }
    }
    for index in 0..<pings.count {
      guard let ping = pings[index] else { continue }
      if ping.deadline <= now {
        pings[index] = nil
        ping.reply.answer(NetProtocol.PingReply.self, status: NetProtocol.Status.timedOut.rawValue)
      } else {
        earliest = min(earliest, ping.deadline)
      }
    }
  }

  /// After every message: answers what finished, times out what is due (reading the
  /// clock only when something can be due) and re-arms the timer.
  mutating func housekeeping() {
    settleCompletions()
    if stack.nextDeadline != nil || earliest != UInt64.max {
      let now = Sys.timeNow()
      stack.expire(now: now)
      expire(now: now)
      settleCompletions()
    }
    armTimer()
  }

  /// Arms the endpoint timer for the earliest deadline of all (`also`: the caller's).
  mutating func armTimer(also: UInt64? = nil) {
    var next = min(also ?? UInt64.max, earliest)
    if let arp = stack.nextDeadline { next = min(next, arp) }
    let deadline = next == UInt64.max ? 0 : next
    guard deadline != armedDeadline else { return }
    armedDeadline = deadline
    _ = apus_endpoint_timer(endpoint, Self.timerKey, deadline)
  }

  /// The timer fired: nothing is armed until armTimer runs again.
  mutating func timerFired() { armedDeadline = 0 }

  // MARK: - sockets

  private func socket(_ id: UInt32) -> Int? {
    let slot = Int(id & 0xff)
    guard slot < sockets.count, sockets[slot].owner == sender, sender != 0, sockets[slot].generation == id >> 8 else { return nil }
    return slot
  }

  private mutating func freeEphemeralPort() -> UInt16? {
    for _ in 0..<(65536 - Int(Self.firstEphemeralPort)) {
      let candidate = nextEphemeral
      nextEphemeral = nextEphemeral == 65535 ? Self.firstEphemeralPort : nextEphemeral + 1
      if !sockets.contains(where: { $0.owner != 0 && $0.port == candidate }) { return candidate }
    }
    return nil
  }

  private mutating func free(_ slot: Int) {
    answerWaiting(slot, status: .badSocket)
    sockets[slot] = Socket(generation: sockets[slot].generation)
  }

  private mutating func answerWaiting(_ slot: Int, status: NetProtocol.Status) {
    guard let waiting = sockets[slot].waiting else { return }
    sockets[slot].waiting = nil
    waiting.reply.answer(NetProtocol.RecvFromReply.self, status: status.rawValue)
  }

  // MARK: - clients

  /// Watches the sender of the call being served, so its end frees what it keeps
  /// here (watching again is a no-op). nil when it is watched; otherwise the answer:
  /// busy when it is watched by as many servers as the kernel allows, bad_request when
  /// no call is held (a send: nobody to keep anything for).
  private func watchSender() -> NetProtocol.Status? {
    let watched = apus_endpoint_watch_caller(endpoint)
    if watched >= 0 { return nil }
    return watched == -Int64(AbiError.limitReached.rawValue) ? .busy : .badRequest
  }

  /// The sender_ended notice: everything the client kept goes.
  mutating func clientEnded(_ client: UInt64) { forget(client) }

  /// A client that ended (or whose reply could not be delivered: it is gone): its
  /// sockets, waiting receives, pings and buffer go. Their detached replies are
  /// closed unanswered (the kernel fails such a call with peer_closed, if anybody
  /// still waits on it).
  private mutating func forget(_ owner: UInt64) {
    guard owner != 0 else { return }
    for index in 0..<sockets.count where sockets[index].owner == owner {
      sockets[index].waiting?.reply.drop()
      sockets[index].waiting = nil
      free(index)
    }
    for index in 0..<pings.count where pings[index]?.owner == owner {
      pings[index]?.reply.drop()
      pings[index] = nil
    }
    buffers.release(owner)
  }

  /// Copies `datagram` into the sender's (or `owner`'s) buffer and fills the reply.
  private mutating func store(_ datagram: QueuedDatagram, offset: UInt64, capacity: UInt32, owner: UInt64? = nil,
                              into reply: inout NetProtocol.RecvFromReply) -> NetProtocol.Status {
    let length = min(Int(capacity), datagram.bytes.count)
    guard let target = buffers.range(owner ?? sender, offset: offset, length: UInt64(length)) else { return .noBuffer }
    datagram.bytes.withUnsafeBytes { bytes in
      if length > 0 { target.copyMemory(from: bytes.baseAddress!, byteCount: length) }
    }
    reply.length = UInt32(length)
    reply.flags = length < datagram.bytes.count ? .truncated : []
    reply.address = datagram.source
    reply.port = datagram.port
    return .ok
  }
}
