// fsd: the filesystem server. init starts it with the registry as handle 1 and the
// write end of its start endpoint as handle 2. It looks up block0 in the registry (init
// starts it only once a disk driver is ready, so it does not wait), mounts the ext2
// filesystem on it (Ext2.mount says why not, and fsd ends), registers `fs` and serves
// the filesystem protocol. Dirty blocks are written back whenever no request is
// waiting (and the device flushed at sync and fsync), so an idle fsd holds nothing
// the disk lacks.

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var name = InlineArray<6, UInt8>(repeating: 0)
  for (index, byte) in "block0".utf8.enumerated() { name[index] = byte }
  let device = withUnsafeBytes(of: &name) { bytes in
    ServiceRegistry.lookup(UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 6), wait: false)
  }
  guard let device else {
    print("FSD: no block0")
    return 1
  }
  guard let fs = Ext2.mount(server: device) else {
    print("FSD: mount failed")
    return 1
  }
  print("FSD: mount ok (\(fs.blocksCount) blocks of \(fs.blockSize) bytes, \(fs.freeBlocks) free; \(fs.inodesCount) inodes, \(fs.freeInodes) free)\(fs.readOnly ? " read-only" : "")")
  guard let endpoint = try? Sys.endpointCreate(),
    let clientEnd = try? Sys.handleDuplicate(handle: endpoint.raw, rights: Rights.write.union(.transfer).rawValue)
  else { return 1 }
  var fsName = InlineArray<2, UInt8>(repeating: 0)
  fsName[0] = UInt8(ascii: "f")
  fsName[1] = UInt8(ascii: "s")
  let added = withUnsafeBytes(of: &fsName) { bytes in
    ServiceRegistry.add(UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 2), endpoint: clientEnd)
  }
  guard added == .ok else {
    print("FSD: cannot register fs: status \(added.rawValue)")
    return 1
  }
  do {  // tell init it serves; the handle closes at the end of this scope
    let ready = EndpointHandle(adopting: 2)
    var note: UInt64 = 1
    try withUnsafeBytes(of: &note) { bytes throws(AbiError) in
      try Sys.ipcSend(endpoint: ready, msg: UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8),
                      handles: UnsafeBufferPointer(start: nil, count: 0))
    }
  } catch {
    print("FSD: cannot tell init it is ready (error \(error.rawValue))")
  }
  var service = FsService(fs: fs)
  let server = endpoint.raw
  let stopped = IpcServer.run(endpoint: server) { received, request, handles, reply, replyHandles in
    service.sender = received.sender
    let length = FsProtocol.serve(&service, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
    if fs.cache.hasDirtyBlocks && (apus_endpoint_status(server) >> 8) & 0xff == 0 {
      try? fs.cache.writeBack()
    }
    return length
  }
  try? fs.cache.sync()
  print("FSD: stopped (error \(stopped.rawValue))")
  return 0
}
