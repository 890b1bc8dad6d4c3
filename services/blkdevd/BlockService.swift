// The block protocol (spec/block.xml) over one VirtioBlock, asynchronously: a read,
// write or flush that passes its checks detaches its reply capability
// (ipc_reply_detach) and goes to the device, and the server goes on receiving; the
// device's interrupt (an interrupt message on the same endpoint) completes requests,
// which are answered with ipc_reply. So several clients' requests are in flight at
// once, up to the device's slots; more wait in `pending`, in arrival order.
//
// Each client (by sender id, which the kernel never reuses) attaches one shared
// buffer (ClientBuffers), mapped here; requests name offsets in it. A barrier request
// starts only when everything before it has completed; a FUA write is followed by a
// flush before its reply.
//
// Every request held (waiting or at the device) holds its reply capability, a handle
// in blkdevd's table; so requests are limited, `requestsPerClient` for one client and
// `requestLimit` for all (250 threads of barrier reads once filled the table, and the
// server could then take no message carrying a handle). A client is watched
// (endpoint_watch_caller) when it first keeps something here; when it ends, its
// waiting requests go, its requests at the device are orphaned (the device still
// owns their slot; the device moves data only through blkdevd's bounce buffers, never
// the client's buffer, so that buffer is unmapped at once) and its buffer goes.

struct BlockRequest {
  var op = BlockProtocol.Op.read
  var id: UInt64 = 0
  var lba: UInt64 = 0
  var count: UInt32 = 0
  var flags = BlockProtocol.RequestFlags()
  var offset: UInt64 = 0
  /// Whose it is: its data is copied to or from this sender's buffer.
  var sender: UInt64 = 0
  var reply: UInt32 = 0
  /// A FUA write whose data is written and whose flush now runs.
  var flushing = false
  /// Its client ended while the device had it: nothing is copied, nobody answered.
  var orphaned = false
}

struct BlockService: BlockProtocol.Server {
  let device: VirtioBlock
  let generation: UInt64
  /// The request being served came from this sender.
  var sender: UInt64 = 0
  static let requestsPerClient = Int(BlockProtocol.requestsPerClient)
  static let requestLimit = Int(BlockProtocol.maxRequests)
  /// The endpoint served: where the notices of clients' ends come.
  let endpoint: UInt32
  private var buffers = ClientBuffers(largest: 16 << 20, budget: 64 << 20)
  private var slots = [BlockRequest?](repeating: nil, count: 16)
  private var inFlight = 0
  private var pending = [BlockRequest]()
  /// Test hook (crash-after=N): die inside a request sent to the device, from the N-th
  /// on, once more than one is in flight.
  var crashAfter = 0
  private var started = 0

  init(device: VirtioBlock, generation: UInt64, endpoint: UInt32) {
    self.device = device
    self.generation = generation
    self.endpoint = endpoint
  }

  // MARK: - ops

  mutating func info(_ request: BlockProtocol.InfoRequest, handles: inout MessageHandles,
                     reply: inout BlockProtocol.InfoReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    reply.blockSize = UInt32(VirtioBlock.sectorSize)
    reply.blockCount = device.capacity
    reply.generation = generation
    var flags = BlockProtocol.DeviceFlags()
    if device.readOnly { flags.insert(.readOnly) }
    if device.canFlush { flags.insert(.flushSupported) }
    reply.flags = flags
    return .ok
  }

  mutating func attachBuffer(_ request: BlockProtocol.AttachBufferRequest, handles: inout MessageHandles,
                             reply: inout BlockProtocol.AttachBufferReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    guard let shm = handles.take(0) else { return .badRequest }
    if held(by: sender) > 0 {  // its requests still use the old buffer
      _ = apus_handle_close(shm)
      return .badRequest
    }
    switch buffers.attach(shm, size: request.bufferSize, sender: sender, endpoint: endpoint) {
    case .refused: return .badRequest
    case .full: return .busy
    case .attached:
      reply.generation = generation
      return .ok
    }
  }

  mutating func read(_ request: BlockProtocol.ReadRequest, handles: inout MessageHandles,
                     reply: inout BlockProtocol.ReadReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    accept(BlockRequest(op: .read, id: request.header.id, lba: request.lba, count: request.count, flags: request.flags,
                        offset: request.bufferOffset))
  }

  mutating func write(_ request: BlockProtocol.WriteRequest, handles: inout MessageHandles,
                      reply: inout BlockProtocol.WriteReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    accept(BlockRequest(op: .write, id: request.header.id, lba: request.lba, count: request.count, flags: request.flags,
                        offset: request.bufferOffset))
  }

  mutating func flush(_ request: BlockProtocol.FlushRequest, handles: inout MessageHandles,
                      reply: inout BlockProtocol.FlushReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    guard request.flags.isKnown else { return .badRequest }
    guard device.canFlush else { return .ok }  // no volatile cache: every completed write is durable
    return accept(BlockRequest(op: .flush, id: request.header.id, flags: request.flags))
  }

  // MARK: - checking and queueing

  /// Checks a request; if it is good, takes its reply capability and queues it (the
  /// reply comes from `complete`). A status other than ok is the answer now.
  private mutating func accept(_ candidate: BlockRequest) -> BlockProtocol.Status {
    var request = candidate
    guard sender != 0 else { return .badRequest }
    if request.op != .flush {
      guard request.flags.isKnown, request.count >= 1, request.count <= BlockProtocol.maxBlocksPerRequest else { return .badRequest }
      guard buffers.has(sender) else { return .noBuffer }
      let bytes = UInt64(request.count) * VirtioBlock.sectorSize
      guard buffers.range(sender, offset: request.offset, length: bytes) != nil else { return .badRequest }
      if request.op == .write && device.readOnly { return .readOnly }
      guard request.lba <= device.capacity, UInt64(request.count) <= device.capacity - request.lba else { return .outOfRange }
    }
    guard pending.count + inFlight < Self.requestLimit, held(by: sender) < Self.requestsPerClient else { return .busy }
    // A client with a buffer is watched already (attach did it); a flush may come
    // from one without.
    if !buffers.has(sender) {
      let watched = apus_endpoint_watch_caller(endpoint)
      if watched == -Int64(AbiError.limitReached.rawValue) { return .busy }
      guard watched >= 0 else { return .badRequest }  // not a call: nobody to answer later
    }
    let detached = apus_ipc_reply_detach()
    guard detached > 0 else { return .badRequest }  // not a call: nobody to answer later
    request.sender = sender
    request.reply = UInt32(detached)
    pending.append(request)
    startPending()
    return .ok  // this reply goes nowhere: the detached capability answers later
  }

  /// Starts waiting requests in order while slots are free; a barrier waits for an
  /// empty device, and everything after it waits for the barrier.
  private mutating func startPending() {
    while let next = pending.first {
      if next.flags.contains(.barrier) && inFlight > 0 { return }
      guard let slot = slots.firstIndex(where: { $0 == nil }), slot < device.slotCount else { return }
      pending.removeFirst()
      begin(next, in: slot)
    }
  }

  private mutating func begin(_ request: BlockRequest, in slot: Int) {
    if request.op == .write {
      // Checked at accept; the buffer cannot change meanwhile (attach is refused while
      // the sender has requests, and its end drops its waiting ones). Checked again all
      // the same: a client's buffer is never trusted to be there.
      let bytes = Int(request.count) * Int(VirtioBlock.sectorSize)
      guard let source = buffers.range(request.sender, offset: request.offset, length: UInt64(bytes)) else {
        answer(request, status: .noBuffer)
        return
      }
      device.buffer(slot).copyMemory(from: source, byteCount: bytes)
    }
    slots[slot] = request
    inFlight += 1
    switch request.op {
    case .write:
      device.start(slot, type: VirtioBlock.RequestType.write, sector: request.lba, sectors: request.count)
    case .read:
      device.start(slot, type: VirtioBlock.RequestType.read, sector: request.lba, sectors: request.count)
    default:
      device.start(slot, type: VirtioBlock.RequestType.flush, sector: 0, sectors: 0)
    }
    started += 1
    // Mid-stream: wait for a moment with several requests at the device (or give up
    // waiting 64 requests later).
    if crashAfter > 0 && started >= crashAfter && (inFlight > 1 || started >= crashAfter + 64) {
      print("BLKDEVD: crash-after=\(crashAfter): dying with \(inFlight) requests in flight")
      fatalError("test hook crash-after")
    }
  }

  // MARK: - completion

  /// The device interrupted: answers every finished request, starts waiting ones.
  mutating func deviceInterrupted() {
    while let done = device.nextCompleted() {
      guard var request = slots[done.slot] else { continue }
      if done.ok && !request.orphaned && request.op == .write && request.flags.contains(.fua) && device.canFlush && !request.flushing {
        request.flushing = true  // the data is written; make it durable before the reply
        slots[done.slot] = request
        device.start(done.slot, type: VirtioBlock.RequestType.flush, sector: 0, sectors: 0)
        continue
      }
      slots[done.slot] = nil
      inFlight -= 1
      // The slot is free only now that the device is done with its bounce buffer.
      if request.orphaned { continue }
      var status: BlockProtocol.Status = done.ok ? .ok : .ioError
      if done.ok && request.op == .read {
        let bytes = Int(request.count) * Int(VirtioBlock.sectorSize)
        if let target = buffers.range(request.sender, offset: request.offset, length: UInt64(bytes)) {
          target.copyMemory(from: device.buffer(done.slot), byteCount: bytes)
        } else {
          status = .noBuffer
        }
      }
      answer(request, status: status)
    }
    _ = try? Sys.deviceIrqAck(device: device.transport.device)
    startPending()
  }

  private func answer(_ request: BlockRequest, status: BlockProtocol.Status) {
    let header = MsgHeader(op: request.op.rawValue, status: status.rawValue, id: request.id)
    switch request.op {
    case .read:
      var reply = BlockProtocol.ReadReply()
      reply.header = header
      reply.count = status == .ok ? request.count : 0
      send(&reply, to: request.reply)
    case .write:
      var reply = BlockProtocol.WriteReply()
      reply.header = header
      reply.count = status == .ok ? request.count : 0
      send(&reply, to: request.reply)
    default:
      var reply = BlockProtocol.FlushReply()
      reply.header = header
      send(&reply, to: request.reply)
    }
  }

  private func send<Reply: ProtocolMessage>(_ reply: inout Reply, to handle: UInt32) {
    _ = withUnsafeBytes(of: &reply) { bytes in
      apus_ipc_reply(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0)
    }
  }

  // MARK: - clients

  /// Requests of `sender` waiting or at the device.
  private func held(by sender: UInt64) -> Int {
    var count = 0
    for request in pending where ClientJob.same(request.sender, sender) { count += 1 }
    for slot in slots where slot.map({ ClientJob.same($0.sender, sender) && !$0.orphaned }) ?? false { count += 1 }
    return count
  }

  /// The sender_ended notice: the client's waiting requests go (their reply
  /// capabilities closed unanswered), its requests at the device are orphaned (the
  /// slot stays the device's until it completes; nothing is copied or answered then)
  /// and its buffer is unmapped.
  mutating func clientEnded(_ client: UInt64) {
    guard client != 0 else { return }
    var kept: [BlockRequest] = []
    for request in pending {
      if request.sender == client { _ = apus_handle_close(request.reply) } else { kept.append(request) }
    }
    pending = kept
    for index in 0..<slots.count where slots[index]?.sender == client && slots[index]?.orphaned == false {
      _ = apus_handle_close(slots[index]!.reply)
      slots[index]!.orphaned = true
      slots[index]!.reply = 0
    }
    buffers.release(client)
    startPending()  // a barrier of the client may have held others back
  }
}
