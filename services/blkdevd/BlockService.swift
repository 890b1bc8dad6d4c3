// The block protocol (spec/block.xml) over one VirtioBlock, asynchronously: a read,
// write or flush that passes its checks detaches its reply capability
// (ipc_reply_detach) and goes to the device, and the server goes on receiving; the
// device's interrupt (an interrupt message on the same endpoint) completes requests,
// which are answered with ipc_reply. So several clients' requests are in flight at
// once, up to the device's slots; more wait in `pending`, in arrival order.
//
// Each client (by sender id, which the kernel never reuses) attaches one shared
// buffer, mapped here; requests name offsets in it. A barrier request starts only
// when everything before it has completed; a FUA write is followed by a flush before
// its reply.

struct AttachedBuffer {
  var sender: UInt64 = 0  // 0: free
  var shm: UInt32 = 0
  var address: UInt = 0
  var size: UInt64 = 0
  /// Bytes mapped: the whole shm object.
  var mapped: UInt64 = 0
  var inFlight = 0
  var lastUse: UInt64 = 0
}

struct BlockRequest {
  var op = BlockProtocol.Op.read
  var id: UInt64 = 0
  var lba: UInt64 = 0
  var count: UInt32 = 0
  var flags = BlockProtocol.RequestFlags()
  var offset: UInt64 = 0
  var client = 0
  var reply: UInt32 = 0
  /// A FUA write whose data is written and whose flush now runs.
  var flushing = false
}

struct BlockService: BlockProtocol.Server {
  let device: VirtioBlock
  let generation: UInt64
  /// The request being served came from this sender.
  var sender: UInt64 = 0
  private var clients = InlineArray<16, AttachedBuffer>(repeating: AttachedBuffer())
  private var slots = [BlockRequest?](repeating: nil, count: 16)
  private var inFlight = 0
  private var pending = [BlockRequest]()
  private var uses: UInt64 = 0
  /// Test hook (crash-after=N): die inside a request sent to the device, from the N-th
  /// on, once more than one is in flight.
  var crashAfter = 0
  private var started = 0

  init(device: VirtioBlock, generation: UInt64) {
    self.device = device
    self.generation = generation
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
    let existing = find(sender)
    if let existing, clients[existing].inFlight > 0 {  // its requests still use the old buffer
      _ = apus_handle_close(shm)
      return .badRequest
    }
    guard let buffer = SharedBuffer.accept(shm, size: request.bufferSize, largest: 16 << 20) else { return .badRequest }
    guard let slot = existing ?? freeClient() else {
      try? Sys.vmUnmap(addr: buffer.address, len: buffer.mapped)
      return .badRequest
    }
    if existing != nil { release(slot) }
    clients[slot] = AttachedBuffer(sender: sender, shm: buffer.handle, address: buffer.address, size: request.bufferSize,
                                   mapped: buffer.mapped, inFlight: 0, lastUse: uses)
    reply.generation = generation
    return .ok
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
    if request.op != .flush {
      guard request.flags.isKnown, request.count >= 1, request.count <= BlockProtocol.maxBlocksPerRequest else { return .badRequest }
      guard let client = find(sender) else { return .noBuffer }
      let bytes = UInt64(request.count) * VirtioBlock.sectorSize
      guard request.offset <= clients[client].size, bytes <= clients[client].size - request.offset else { return .badRequest }
      if request.op == .write && device.readOnly { return .readOnly }
      guard request.lba <= device.capacity, UInt64(request.count) <= device.capacity - request.lba else { return .outOfRange }
      request.client = client
      uses += 1
      clients[client].lastUse = uses
      clients[client].inFlight += 1
    } else {
      request.client = -1
    }
    let detached = apus_ipc_reply_detach()
    guard detached > 0 else {  // not a call: nobody to answer later
      if request.client >= 0 { clients[request.client].inFlight -= 1 }
      return .badRequest
    }
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
    slots[slot] = request
    inFlight += 1
    switch request.op {
    case .write:
      let source = UnsafeRawPointer(bitPattern: clients[request.client].address + UInt(request.offset))!
      device.buffer(slot).copyMemory(from: source, byteCount: Int(request.count) * Int(VirtioBlock.sectorSize))
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
      if done.ok && request.op == .write && request.flags.contains(.fua) && device.canFlush && !request.flushing {
        request.flushing = true  // the data is written; make it durable before the reply
        slots[done.slot] = request
        device.start(done.slot, type: VirtioBlock.RequestType.flush, sector: 0, sectors: 0)
        continue
      }
      slots[done.slot] = nil
      inFlight -= 1
      if done.ok && request.op == .read {
        let target = UnsafeMutableRawPointer(bitPattern: clients[request.client].address + UInt(request.offset))!
        target.copyMemory(from: device.buffer(done.slot), byteCount: Int(request.count) * Int(VirtioBlock.sectorSize))
      }
      if request.client >= 0 { clients[request.client].inFlight -= 1 }
      answer(request, status: done.ok ? .ok : .ioError)
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

  private func find(_ sender: UInt64) -> Int? {
    for index in 0..<16 where clients[index].sender == sender && sender != 0 { return index }
    return nil
  }

  /// A free entry, or the least recently used one with nothing in flight (its client
  /// is probably gone; if not, it gets no_buffer and attaches again).
  private mutating func freeClient() -> Int? {
    var oldest: Int? = nil
    for index in 0..<16 {
      if clients[index].sender == 0 { return index }
      if clients[index].inFlight == 0 && (oldest == nil || clients[index].lastUse < clients[oldest!].lastUse) { oldest = index }
    }
    if let oldest { release(oldest) }
    return oldest
  }

  private mutating func release(_ index: Int) {
    try? Sys.vmUnmap(addr: clients[index].address, len: clients[index].mapped)
    _ = apus_handle_close(clients[index].shm)
    clients[index] = AttachedBuffer()
  }
}
