// pkgd: the package manager's server. init starts it after fsd with the registry as
// handle 1 and its start endpoint as handle 2. It cleans up what a crash left in
// /pkg/.staging, registers `pkg` and serves the package protocol, verifying every
// package with the keys built into it (TrustedKeys) before it writes anything.

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  func lookup(_ name: StaticString) -> UInt32? {
    ServiceRegistry.lookup(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), wait: false)
  }
  guard let fs = lookup("fs"), let files = FileStore(server: fs) else {
    print("PKGD: no filesystem")
    return 1
  }
  guard let endpoint = try? Sys.endpointCreate() else { return 1 }
  var service = PkgService(files: files, endpoint: endpoint.raw)
  service.recover()
  Protocols.label(endpoint, "pkg")
  guard ServiceRegistry.publish("pkg", serving: endpoint) == .ok else {
    print("PKGD: cannot register pkg")
    return 1
  }
  print("PKGD: ready (\(TrustedKeys.all.count) trusted key)")
  StartHandshake.ready(on: 2, server: "PKGD")
  let stopped = IpcServer.run(endpoint: endpoint.raw) { received, request, handles, reply, replyHandles in
    if IpcRecvFlags(rawValue: received.flags).contains(.senderEnded) {
      service.clientEnded(received.sender)
      return 0
    }
    service.sender = received.sender
    return PkgProtocol.serve(&service, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
  }
  print("PKGD: stopped (error \(stopped.rawValue))")
  return 0
}
