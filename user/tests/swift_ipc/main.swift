// The generated block protocol client and server (ulib/swift/generated/
// BlockProtocol.swift) talking over real IPC (ulib/swift/runtime/IpcTransport.swift),
// with a handle travelling each way: this program is the client; a copy of it
// started with `server` (its handle 1: the endpoint, read) is a toy block server over
// a shared buffer. Prints SWIFT-IPC: ok only after every answer checked out.

/// A 64-block read-only "disk" whose blocks hold their own number.
struct ToyDisk: BlockProtocol.Server {
  var buffer: UInt = 0
  var bufferSize: UInt64 = 0

  mutating func info(_ request: BlockProtocol.InfoRequest, handles: inout MessageHandles,
                     reply: inout BlockProtocol.InfoReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    reply.blockSize = 512
    reply.blockCount = 64
    reply.flags = [.readOnly]
    reply.generation = 1
    return .ok
  }

  mutating func attachBuffer(_ request: BlockProtocol.AttachBufferRequest, handles: inout MessageHandles,
                             reply: inout BlockProtocol.AttachBufferReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    guard let shm = handles.take(0) else { return .badRequest }
    let mapped = ShmHandle(adopting: shm)
    guard let at = try? Sys.shmMap(shm: mapped, addr: 0, prot: [.read, .write]) else { return .badRequest }
    buffer = at
    bufferSize = request.bufferSize
    reply.generation = 1
    // Answer with a handle too: a read-only duplicate of the buffer (transfer, so it
    // can travel), back to the client.
    guard let copy = try? Sys.handleDuplicate(handle: mapped.raw, rights: Rights.read.union(.map).union(.transfer).rawValue) else {
      return .ioError
    }
    replyHandles.append(copy)
    return .ok  // `mapped` closes our handle here; the mapping keeps the memory
  }

  mutating func read(_ request: BlockProtocol.ReadRequest, handles: inout MessageHandles,
                     reply: inout BlockProtocol.ReadReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    guard buffer != 0 else { return .noBuffer }
    guard request.count > 0, request.count <= BlockProtocol.maxBlocksPerRequest else { return .badRequest }
    guard request.lba + UInt64(request.count) <= 64 else { return .outOfRange }
    let bytes = UInt64(request.count) * 512
    guard request.bufferOffset <= bufferSize, bytes <= bufferSize - request.bufferOffset else { return .badRequest }
    let base = UnsafeMutablePointer<UInt64>(bitPattern: buffer + UInt(request.bufferOffset))!
    for block in 0..<UInt64(request.count) {
      for word in 0..<64 { base[Int(block) * 64 + word] = request.lba + block }
    }
    reply.count = request.count
    return .ok
  }

  mutating func write(_ request: BlockProtocol.WriteRequest, handles: inout MessageHandles,
                      reply: inout BlockProtocol.WriteReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    .readOnly
  }

  mutating func flush(_ request: BlockProtocol.FlushRequest, handles: inout MessageHandles,
                      reply: inout BlockProtocol.FlushReply, replyHandles: inout MessageHandles) -> BlockProtocol.Status {
    .ok
  }
}

func serveForever() -> Int32 {
  var disk = ToyDisk()
  let stopped = IpcServer.run(endpoint: 1) { _, request, handles, reply, replyHandles in
    BlockProtocol.serve(&disk, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
  }
  return stopped == .peerClosed ? 0 : 2
}

func fail(_ why: StaticString) -> Int32 {
  print("SWIFT-IPC: FAILED: \(why)")
  return 1
}

typealias BlockClient = BlockProtocol.Client<IpcTransport>

/// Everything the client asks, with one error type: the protocol's.
func exercise(_ client: inout BlockClient, shm: consuming ShmHandle, mine: UInt) throws(BlockProtocol.Failure) -> StaticString? {
  let info = try client.info()
  guard info.blockSize == 512, info.blockCount == 64, info.flags.contains(.readOnly), info.header.id == 1 else { return "info" }

  // Reading before a buffer is attached is the server's no_buffer.
  do {
    _ = try client.read(lba: 0, count: 1, flags: [], bufferOffset: 0)
    return "read without a buffer"
  } catch .status(let status) {
    guard status == .noBuffer else { return "read without a buffer: wrong status" }
  }

  // The shared buffer goes with attach_buffer; a read-only duplicate comes back.
  _ = try client.attachBuffer(bufferSize: 16384, handles: MessageHandles(shm.release()))
  guard client.replyHandles.count == 1 else { return "no handle in attach_buffer's reply" }
  let readOnly = ShmHandle(adopting: client.replyHandles[0])
  do {
    _ = try Sys.shmMap(shm: readOnly, addr: 0, prot: [.read, .write])
    return "the read-only duplicate mapped writable"
  } catch {
    guard error == .accessDenied else { return "read-only duplicate: wrong error" }
  }

  // Data lands in the shared buffer; the reply says how much.
  let read = try client.read(lba: 5, count: 8, flags: [], bufferOffset: 4096)
  guard read.count == 8 else { return "read count" }
  let words = UnsafePointer<UInt64>(bitPattern: mine + 4096)!
  for block in 0..<8 where words[block * 64] != UInt64(5 + block) || words[block * 64 + 63] != UInt64(5 + block) {
    return "read data"
  }
  do {
    _ = try client.write(lba: 0, count: 1, flags: [], bufferOffset: 0)
    return "write to a read-only disk"
  } catch .status(let status) {
    guard status == .readOnly else { return "write: wrong status" }
  }
  do {
    _ = try client.read(lba: 60, count: 8, flags: [], bufferOffset: 0)
    return "read past the end"
  } catch .status(let status) {
    guard status == .outOfRange else { return "read past the end: wrong status" }
  }
  return nil
}

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  if argc > 1 { return serveForever() }
  let path: StaticString = "tests/swift_ipc"
  let arguments: StaticString = "tests/swift_ipc\0server"
  guard let endpoint = try? Sys.endpointCreate() else { return fail("endpoint_create") }
  var grant = HandleGrant(handle: endpoint.raw, rights: Rights.read.rawValue)
  let started = withUnsafePointer(to: &grant) { grantPointer in
    try? Sys.processSpawnHandles(path: UnsafeBufferPointer(start: path.utf8Start, count: path.utf8CodeUnitCount),
                                 args: UnsafeBufferPointer(start: arguments.utf8Start, count: arguments.utf8CodeUnitCount),
                                 grants: UnsafeBufferPointer(start: grantPointer, count: 1))
  }
  guard let server = started else { return fail("starting the server") }
  guard let shm = try? Sys.shmCreate(size: 16384) else { return fail("shm_create") }
  guard let mine = try? Sys.shmMap(shm: shm, addr: 0, prot: [.read, .write]) else { return fail("shm_map") }
  var client = BlockClient(transport: IpcTransport(endpoint: endpoint.raw))
  do throws(BlockProtocol.Failure) {
    if let problem = try exercise(&client, shm: shm, mine: mine) { return fail(problem) }
  } catch {
    switch error {
    case .status(let status): print("SWIFT-IPC: status \(status.rawValue)")
    case .transport(let error): print("SWIFT-IPC: transport error \(error.rawValue)")
    case .malformedReply: print("SWIFT-IPC: malformed reply")
    }
    return fail("a call failed unexpectedly")
  }
  // Closing our endpoint leaves the server without writers: it ends.
  guard (try? endpoint.close()) != nil else { return fail("close") }
  guard let status = try? Sys.processWait(process: server), status.reason == .exited, status.code == 0 else {
    return fail("the server ended wrong")
  }
  print("SWIFT-IPC: ok")
  return 0
}
