// svcman, the service registry (spec/registry.xml): names to server endpoints. It
// serves the generated RegistryProtocol on its handle 1 (the registry endpoint, read)
// through IpcServer, so every answer is one ipc_reply_recv. A lookup that waits for a
// name not registered yet detaches its reply capability (ipc_reply_detach) and is
// answered with ipc_reply when a server adds the name; servers start in any order.
// Only senders whose registry handle has manage may add (ipc_recv_flags
// sender_manage). A name whose server is gone (its endpoint has no reader:
// endpoint_status) is dropped when it is next touched. svcman ends when no writer to
// the registry is left.
//
// The names outlive svcman (issue 16): every add it accepts is copied to init's
// journal (handle 2: the request itself and a duplicate of the endpoint, sent to init's
// supervisor), so when svcman dies and init starts it again, init adds them all back.
// Handle 3 is init's start handshake.

struct Name: Equatable {
  var bytes = InlineArray<48, UInt8>(repeating: 0)
  var count = 0

  /// The request's name, or nil when its length is out of range.
  init?(_ bytes: InlineArray<48, UInt8>, length: UInt32) {
    guard length >= 1, length <= RegistryProtocol.nameMax else { return nil }
    self.bytes = bytes
    count = Int(length)
    for index in count..<48 { self.bytes[index] = 0 }  // compare only what is used
  }

  init() {}

  static func == (a: Name, b: Name) -> Bool {
    guard a.count == b.count else { return false }
    for index in 0..<a.count where a.bytes[index] != b.bytes[index] { return false }
    return true
  }
}

struct Registry: RegistryProtocol.Server {
  struct Entry { var name = Name(); var endpoint: UInt32 = 0 }  // endpoint 0: free
  struct Waiter { var name = Name(); var id: UInt64 = 0; var reply: UInt32 = 0 }  // reply 0: free

  var entries = InlineArray<32, Entry>(repeating: Entry())
  var waiters = InlineArray<16, Waiter>(repeating: Waiter())
  /// Whether the request being served came through a handle with manage.
  var senderMayAdd = false

  mutating func add(_ request: RegistryProtocol.AddRequest, handles: inout MessageHandles,
                    reply: inout RegistryProtocol.AddReply, replyHandles: inout MessageHandles) -> RegistryProtocol.Status {
    guard senderMayAdd else { return .accessDenied }
    guard let name = Name(request.name, length: request.nameLen), let endpoint = handles.take(0) else { return .badRequest }
    if find(name) != nil {
      _ = apus_handle_close(endpoint)
      return .nameTaken  // find() drops a name whose server is gone
    }
    guard let free = firstFreeEntry() else {
      _ = apus_handle_close(endpoint)
      return .busy
    }
    entries[free] = Entry(name: name, endpoint: endpoint)
    answerWaiters(for: name, endpoint: endpoint)
    Self.journal(request, endpoint: endpoint)
    return .ok
  }

  mutating func lookup(_ request: RegistryProtocol.LookupRequest, handles: inout MessageHandles,
                       reply: inout RegistryProtocol.LookupReply, replyHandles: inout MessageHandles) -> RegistryProtocol.Status {
    guard let name = Name(request.name, length: request.nameLen), request.flags.isKnown else { return .badRequest }
    if let index = find(name) {
      let copy = Self.clientHandle(entries[index].endpoint)
      guard copy > 0 else { return .busy }
      replyHandles.append(UInt32(copy))
      return .ok
    }
    guard request.flags.contains(.wait) else { return .notFound }
    guard let slot = firstFreeWaiter() else { return .busy }
    let detached = apus_ipc_reply_detach()
    guard detached > 0 else { return .busy }
    waiters[slot] = Waiter(name: name, id: request.header.id, reply: UInt32(detached))
    return .ok  // this reply goes nowhere: the capability is the waiter's now
  }

  /// The entry with `name`, if its server still reads its endpoint; a gone server's
  /// entry is dropped here.
  private mutating func find(_ name: Name) -> Int? {
    for index in 0..<32 where entries[index].endpoint != 0 && entries[index].name == name {
      if apus_endpoint_status(entries[index].endpoint) & 1 == 0 { return index }
      _ = apus_handle_close(entries[index].endpoint)
      entries[index] = Entry()
      print("SVCMAN: dropped a name whose server is gone")
      return nil
    }
    return nil
  }

  private func firstFreeEntry() -> Int? {
    for index in 0..<32 where entries[index].endpoint == 0 { return index }
    return nil
  }

  private func firstFreeWaiter() -> Int? {
    for index in 0..<16 where waiters[index].reply == 0 { return index }
    return nil
  }

  /// Copies an accepted add to init's journal: the request, with a duplicate of the
  /// endpoint. A journal that cannot take it costs the name's survival, nothing else.
  static func journal(_ request: RegistryProtocol.AddRequest, endpoint: UInt32) {
    let copy = apus_handle_duplicate(endpoint, Rights.write.union(.transfer).rawValue)
    guard copy > 0 else { return }
    var message = request
    var handle = UInt32(copy)
    // The duplicate leaves this process whether or not the send succeeds.
    _ = withUnsafeBytes(of: &message) { bytes in
      withUnsafePointer(to: &handle) { apus_ipc_send(journalHandle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), $0, 1) }
    }
  }

  /// A write-only (and transferable) duplicate of a server's endpoint, for a client.
  private static func clientHandle(_ endpoint: UInt32) -> Int64 {
    apus_handle_duplicate(endpoint, Rights.write.union(.transfer).rawValue)
  }

  /// Answers every lookup waiting for `name`.
  private mutating func answerWaiters(for name: Name, endpoint: UInt32) {
    for index in 0..<16 where waiters[index].reply != 0 && waiters[index].name == name {
      var answer = RegistryProtocol.LookupReply()
      answer.header = MsgHeader(op: RegistryProtocol.Op.lookup.rawValue, status: RegistryProtocol.Status.ok.rawValue,
                                id: waiters[index].id)
      var copy = UInt32(truncatingIfNeeded: Self.clientHandle(endpoint))
      let count: UInt64 = Int32(bitPattern: copy) > 0 ? 1 : 0
      if count == 0 { answer.header.status = RegistryProtocol.Status.busy.rawValue }
      _ = withUnsafeBytes(of: &answer) { bytes in
        withUnsafePointer(to: &copy) { apus_ipc_reply(waiters[index].reply, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                      UInt64(bytes.count), $0, count) }
      }
      waiters[index] = Waiter()
    }
  }
}

let journalHandle: UInt32 = 2
let readyHandle: UInt32 = 3

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var registry = Registry()
  print("SVCMAN: ready")
  StartHandshake.ready(on: readyHandle, server: "SVCMAN")
  let stopped = IpcServer.run(endpoint: 1) { info, request, handles, reply, replyHandles in
    registry.senderMayAdd = IpcRecvFlags(rawValue: info.flags).contains(.senderManage)
    return RegistryProtocol.serve(&registry, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
  }
  return stopped == .peerClosed ? 0 : 1
}
