// svcman, the service registry (spec/registry.xml): names to server endpoints. It
// serves the generated RegistryProtocol on its handle 1 (the registry endpoint, read)
// through IpcServer, so every answer is one ipc_reply_recv. A lookup that waits for a
// name not registered yet detaches its reply capability (ipc_reply_detach) and is
// answered with ipc_reply when a server adds the name; servers start in any order.
//
// Names are capabilities (issue 21). Only senders whose registry handle has manage
// may add (ipc_recv_flags sender_manage): init gives manage to its supervised servers
// and to the run= programs the command line marks as system tools, never to ordinary
// programs. A name whose server is gone (its endpoint has no reader: endpoint_status)
// stays reserved for the server's restart: a lookup without wait says not_found, one
// with wait waits for the restart's add, and only a manage sender can take it. Device
// names (block*: raw sectors, under fsd's permissions and pkgd's signatures) are
// answered only to manage senders; to anyone else they do not exist.
//
// Waiting lookups are per client: at most `waitsPerClient` each, and a client's are
// freed (their reply capabilities closed) when it ends: svcman watches every client
// that waits (endpoint_watch_caller) and the kernel posts a sender_ended notice.
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

  /// A device's name (block0, block1, ...: blkdevd's raw sectors), which only manage
  /// senders may look up.
  var isDevice: Bool {
    let prefix: StaticString = "block"
    guard count >= prefix.utf8CodeUnitCount else { return false }
    for index in 0..<prefix.utf8CodeUnitCount where bytes[index] != prefix.utf8Start[index] { return false }
    return true
  }

  static func == (a: Name, b: Name) -> Bool {
    guard a.count == b.count else { return false }
    for index in 0..<a.count where a.bytes[index] != b.bytes[index] { return false }
    return true
  }
}

struct Registry: RegistryProtocol.Server {
  /// endpoint 0 and not reserved: free. reserved: the name of a server that is gone,
  /// kept for its restart (endpoint 0).
  struct Entry { var name = Name(); var endpoint: UInt32 = 0; var reserved = false }
  /// reply 0: free. sender: the client that waits (its notice frees the waiter).
  struct Waiter { var name = Name(); var id: UInt64 = 0; var reply: UInt32 = 0; var sender: UInt64 = 0 }

  static let entryMax = 32
  static let waiterMax = 16
  /// One client cannot take every waiting lookup: fsd's and pkgd's reconnects wait too.
  static let waitsPerClient = 4

  var entries = InlineArray<32, Entry>(repeating: Entry())
  var waiters = InlineArray<16, Waiter>(repeating: Waiter())
  /// The request being served: whether it came through a handle with manage, and from
  /// whom.
  var senderMayAdd = false
  var sender: UInt64 = 0

  mutating func add(_ request: RegistryProtocol.AddRequest, handles: inout MessageHandles,
                    reply: inout RegistryProtocol.AddReply, replyHandles: inout MessageHandles) -> RegistryProtocol.Status {
    guard senderMayAdd else { return .accessDenied }
    guard let name = Name(request.name, length: request.nameLen), let sent = handles.take(0) else { return .badRequest }
    // Only the sending side is kept: a handle that could also receive would make
    // svcman a reader of the endpoint, so its server could never be seen gone and its
    // endpoint would live as long as the name (the stateful fuzzer's adds did that).
    // And it must be an endpoint: anything else (a shm object, a reply) never looks
    // gone (endpoint_status refuses it), so it would be kept, and handed out, for ever.
    let kind = (try? Sys.handleInfo(handle: sent))?.kind
    let narrowed = kind == HandleKind.endpoint.rawValue ? apus_handle_duplicate(sent, Rights.write.union(.transfer).rawValue) : -1
    _ = apus_handle_close(sent)
    guard narrowed > 0 else { return .badRequest }
    let endpoint = UInt32(narrowed)
    let slot: Int
    if let index = find(name) {
      guard entries[index].reserved else {
        _ = apus_handle_close(endpoint)
        return .nameTaken
      }
      slot = index  // the restart (or another manage sender) takes the reserved name
    } else if let free = firstFreeEntry() {
      slot = free
    } else {
      _ = apus_handle_close(endpoint)
      return .busy
    }
    entries[slot] = Entry(name: name, endpoint: endpoint)
    // The adder's end is heard (its notice reserves the names whose servers went with
    // it, closing their endpoints now rather than when the name is next looked up). A
    // refused watch only leaves that to the lookup.
    _ = apus_endpoint_watch_caller(serverEndpoint)
    answerWaiters(for: name, endpoint: endpoint)
    Self.journal(request, endpoint: endpoint)
    return .ok
  }

  mutating func lookup(_ request: RegistryProtocol.LookupRequest, handles: inout MessageHandles,
                       reply: inout RegistryProtocol.LookupReply, replyHandles: inout MessageHandles) -> RegistryProtocol.Status {
    guard let name = Name(request.name, length: request.nameLen), request.flags.isKnown else { return .badRequest }
    // A device is not in the public registry: to an ordinary handle it does not exist,
    // and waiting for it would wait for ever.
    if name.isDevice && !senderMayAdd { return .notFound }
    if let index = find(name), !entries[index].reserved {
      let copy = Self.clientHandle(entries[index].endpoint)
      guard copy > 0 else { return .busy }
      replyHandles.append(UInt32(copy))
      return .ok
    }
    guard request.flags.contains(.wait) else { return .notFound }
    guard waiting(sender) < Self.waitsPerClient, let slot = firstFreeWaiter() else { return .busy }
    // Watched before the reply is detached (the call must still be held): when this
    // client ends, the kernel's notice frees its waiters. Refused: keep nothing.
    guard apus_endpoint_watch_caller(serverEndpoint) >= 0 else { return .busy }
    let detached = apus_ipc_reply_detach()
    guard detached > 0 else { return .busy }
    waiters[slot] = Waiter(name: name, id: request.header.id, reply: UInt32(detached), sender: sender)
    return .ok  // this reply goes nowhere: the capability is the waiter's now
  }

  /// A client ended (the kernel's sender_ended notice): its waiting lookups go, their
  /// reply capabilities closed (they would answer nobody), and the names of servers
  /// gone with it are reserved, their endpoints closed (a system tool that added names
  /// and ended kept its dead endpoints alive in svcman until a lookup touched them).
  mutating func clientEnded(_ client: UInt64) {
    for index in 0..<Self.waiterMax where waiters[index].reply != 0 && waiters[index].sender == client {
      _ = apus_handle_close(waiters[index].reply)
      waiters[index] = Waiter()
    }
    for index in 0..<Self.entryMax where entries[index].endpoint != 0 && !entries[index].reserved {
      _ = find(entries[index].name)
    }
  }

  /// The entry with `name`, live or reserved. A live entry whose server no longer reads
  /// its endpoint becomes reserved here: its handle closed, its name kept for the restart.
  private mutating func find(_ name: Name) -> Int? {
    for index in 0..<Self.entryMax where (entries[index].endpoint != 0 || entries[index].reserved) && entries[index].name == name {
      if !entries[index].reserved && apus_endpoint_status(entries[index].endpoint) & 1 != 0 {
        _ = apus_handle_close(entries[index].endpoint)
        entries[index].endpoint = 0
        entries[index].reserved = true
        Self.unjournal(entries[index].name)
        print("SVCMAN: a server is gone: its name is reserved for its restart")
      }
      return index
    }
    return nil
  }

  /// A free entry; when there is none, a reserved one: a reservation only keeps the name
  /// from other manage senders, and a table full of dead servers' names (a system tool
  /// that added many and ended) must not refuse a live server's add.
  private func firstFreeEntry() -> Int? {
    for index in 0..<Self.entryMax where entries[index].endpoint == 0 && !entries[index].reserved { return index }
    for index in 0..<Self.entryMax where entries[index].reserved { return index }
    return nil
  }

  private func firstFreeWaiter() -> Int? {
    for index in 0..<Self.waiterMax where waiters[index].reply == 0 { return index }
    return nil
  }

  /// How many lookups `client` has waiting.
  private func waiting(_ client: UInt64) -> Int {
    var count = 0
    for index in 0..<Self.waiterMax where waiters[index].reply != 0 && ClientJob.same(waiters[index].sender, client) { count += 1 }
    return count
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

  /// Tells init's journal that `name`'s server is gone: the request without an
  /// endpoint. The journal then lets the dead endpoint go, rather than keep it until a
  /// replay or a newer add of the name.
  static func unjournal(_ name: Name) {
    var message = RegistryProtocol.AddRequest()
    message.name = name.bytes
    message.nameLen = UInt32(name.count)
    _ = withUnsafeBytes(of: &message) { bytes in
      apus_ipc_send(journalHandle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0)
    }
  }

  /// A write-only (and transferable) duplicate of a server's endpoint, for a client.
  private static func clientHandle(_ endpoint: UInt32) -> Int64 {
    apus_handle_duplicate(endpoint, Rights.write.union(.transfer).rawValue)
  }

  /// Answers every lookup waiting for `name`.
  private mutating func answerWaiters(for name: Name, endpoint: UInt32) {
    for index in 0..<Self.waiterMax where waiters[index].reply != 0 && waiters[index].name == name {
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

let serverEndpoint: UInt32 = 1
let journalHandle: UInt32 = 2
let readyHandle: UInt32 = 3

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  var registry = Registry()
  print("SVCMAN: ready")
  StartHandshake.ready(on: readyHandle, server: "SVCMAN")
  let stopped = IpcServer.run(endpoint: serverEndpoint) { info, request, handles, reply, replyHandles in
    let flags = IpcRecvFlags(rawValue: info.flags)
    if flags.contains(.senderEnded) {  // a notice, not a request: nothing is answered
      registry.clientEnded(info.sender)
      return 0
    }
    registry.senderMayAdd = flags.contains(.senderManage)
    registry.sender = info.sender
    return RegistryProtocol.serve(&registry, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
  }
  return stopped == .peerClosed ? 0 : 1
}
