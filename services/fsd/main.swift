// fsd: the filesystem server. init starts it with the registry as handle 1 and the
// write end of its start endpoint as handle 2. It looks up block0 in the registry (init
// starts it only once a disk driver is ready, so it does not wait), mounts the ext2
// filesystem on it (Ext2.mount says why not, and fsd ends), registers `fs` and serves
// the filesystem protocol. Dirty blocks are written back whenever no request is
// waiting (and the device flushed at sync and fsync), so an idle fsd holds nothing
// the disk lacks.

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  func lookup(_ name: StaticString) -> UInt32? {
    ServiceRegistry.lookup(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), wait: false)
  }
  guard let device = lookup("block0") else {
    print("FSD: no block0")
    return 1
  }
  guard let fs = Ext2.mount(server: device, name: "block0") else {
    print("FSD: mount failed")
    return 1
  }
  print("FSD: mount ok (\(fs.blocksCount) blocks of \(fs.blockSize) bytes, \(fs.freeBlocks) free; \(fs.inodesCount) inodes, \(fs.freeInodes) free)\(fs.readOnly ? " read-only" : "")")
  var mounts = [fs]
  // A second disk is removable media, mounted at /media (read-only if the disk is).
  if let media = lookup("block1") {
    if let mediaFs = Ext2.mount(server: media, name: "block1") {
      print("FSD: /media mounted (\(mediaFs.blocksCount) blocks)\(mediaFs.readOnly ? " read-only" : "")")
      mounts.append(mediaFs)
    } else {
      print("FSD: block1 holds no filesystem fsd can mount: no /media")
    }
  }
  guard let endpoint = try? Sys.endpointCreate() else { return 1 }
  Protocols.label(endpoint, "fs")
  let added = ServiceRegistry.publish("fs", serving: endpoint)
  guard added == .ok else {
    print("FSD: cannot register fs: status \(added.rawValue)")
    return 1
  }
  StartHandshake.ready(on: 2, server: "FSD")
  var service = FsService(mounts: mounts)
  let server = endpoint.raw
  service.endpoint = server
  let stopped = IpcServer.run(endpoint: server) { received, request, handles, reply, replyHandles in
    if IpcRecvFlags(rawValue: received.flags).contains(.senderEnded) {
      service.clientEnded(received.sender)
      return 0
    }
    service.sender = received.sender
    let length = FsProtocol.serve(&service, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
    if (apus_endpoint_status(server) >> 8) & 0xff == 0 { service.writeBack() }
    return length
  }
  try? service.syncAll()
  print("FSD: stopped (error \(stopped.rawValue))")
  return 0
}
