// Synchronous calls (ipc_call / ipc_reply_recv): what each thread carries while a call
// is in flight, and the moves between caller and server. The reply capability is
// implicit, as in seL4: the thread that received a call holds it in `replyTo`, with
// the call's serial; the caller waits with the same serial in `callSerial`. Only that
// thread can answer, once (answering clears both), and a serial never repeats, so a
// stale capability (the caller was killed, its record reused) answers nobody.
//
// Lock rule: the scheduler's — these fields live in ThreadRecord and change only with
// interrupts masked (every path here runs inside an endpoint's lock or masked).

struct ThreadIpc {
  /// While blocked receiving: where a direct delivery may write its bytes (capacity 0:
  /// none), and what was delivered.
  var receiveBuffer: UInt64 = 0
  var receiveCapacity: UInt64 = 0
  var delivered = false
  var deliveredLength = 0
  var deliveredSender: UInt64 = 0
  var deliveredManage = false

  /// The call this thread received and owes a reply to.
  var replyTo = ThreadID.none
  var replySerial: UInt64 = 0

  /// While blocked in ipc_call: the call's serial (0: not calling), where the reply
  /// goes, and how it was answered.
  var callSerial: UInt64 = 0
  var replyBuffer: UInt64 = 0
  var replyCapacity: UInt64 = 0
  var replyHandleCapacity: UInt64 = 0
  var answered = false
  var replyLength = 0
  var replyError = AbiError(rawValue: 0)  // 0: none
  var replyHandles = InlineArray<4, UInt32>(repeating: 0)
  var replyHandleCount = 0
}

enum CallReply {
  nonisolated(unsafe) private static var lastSerial: UInt64 = 0

  /// A new call serial (interrupts masked).
  static func nextSerial() -> UInt64 {
    lastSerial += 1
    return lastSerial
  }

  /// True when `caller` still waits for the reply with `serial`.
  static func isWaiting(_ caller: ThreadID, serial: UInt64) -> Bool {
    caller != .none && ThreadTable.pointer(caller).pointee.ipc.callSerial == serial && serial != 0
  }

  /// Ends `caller`'s call with `error` (peer_closed: the server is gone or gave up the
  /// capability) and makes it ready. Interrupts masked.
  static func fail(_ caller: ThreadID, serial: UInt64, _ error: AbiError) {
    guard isWaiting(caller, serial: serial) else { return }
    let record = ThreadTable.pointer(caller)
    markAnswered(record)
    record.pointee.ipc.replyError = error
    Scheduler.makeReady(caller)
  }

  /// The caller's call is over (answered or failed): nothing may answer it again.
  /// Interrupts masked.
  @inline(__always)
  static func markAnswered(_ caller: UnsafeMutablePointer<ThreadRecord>) {
    caller.pointee.ipc.callSerial = 0
    caller.pointee.ipc.answered = true
  }

  /// Copies the reply's bytes straight into the waiting caller's reply buffer (through
  /// its page tables) and records the length, or records `fault` when the caller's
  /// buffer cannot take them. False when reading the server's `reply` faulted: that
  /// error is the server's. Interrupts masked.
  @inline(__always)
  static func copyReply(_ reply: UserInBuffer<UInt8>, to caller: UnsafeMutablePointer<ThreadRecord>) -> Bool {
    switch UserMemory.copy(from: reply.address, count: Int(reply.count), to: caller.pointee.ipc.replyBuffer,
                           in: PageTables(root: caller.pointee.addressSpace)) {
    case .sourceFault: return false
    case .destinationUnusable: caller.pointee.ipc.replyError = .fault
    case .done: caller.pointee.ipc.replyLength = Int(reply.count)
    }
    return true
  }

  /// The running thread gives up the reply capability it holds, if any: its caller
  /// gets peer_closed. (Receiving again without replying, or exiting.) Interrupts masked.
  static func abandonHeld() {
    let record = ThreadTable.pointer(Scheduler.current)
    let caller = record.pointee.ipc.replyTo
    guard caller != .none else { return }
    record.pointee.ipc.replyTo = .none
    fail(caller, serial: record.pointee.ipc.replySerial, .peerClosed)
  }

  /// The running thread now holds the reply capability of `caller`'s call `serial`.
  static func hold(_ caller: ThreadID, serial: UInt64) {
    abandonHeld()
    let record = ThreadTable.pointer(Scheduler.current)
    record.pointee.ipc.replyTo = caller
    record.pointee.ipc.replySerial = serial
  }

  /// `server` (blocked receiving, so holding nothing: it replied or gave up before it
  /// waited) now holds the reply capability of `caller`'s call `serial`.
  static func hold(_ caller: ThreadID, serial: UInt64, by server: ThreadID) {
    let record = ThreadTable.pointer(server)
    record.pointee.ipc.replyTo = caller
    record.pointee.ipc.replySerial = serial
  }
}

extension CallReply {
  /// ipc_reply_recv's reply: if the running thread holds a call's reply capability and
  /// that caller still waits, copies `reply` straight into the caller's reply buffer
  /// (through the caller's page tables), moves `handles` into the caller's table, and
  /// marks the call answered. Returns the caller, which the receive that follows runs
  /// next (or makes ready); .none when nothing was held or the caller is gone (the
  /// reply is dropped). A fault reading `reply` is the server's error: it keeps the
  /// capability and may answer again.
  static func answer(with reply: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>,
                     from syscalls: KernelSyscalls) throws(AbiError) -> ThreadID {
    let me = ThreadTable.pointer(Scheduler.current)
    let (caller, serial) = Interrupts.withDisabled { (me.pointee.ipc.replyTo, me.pointee.ipc.replySerial) }
    guard caller != .none else { return .none }
    if handles.count == 0 { return try answerWithoutHandles(caller, serial: serial, reply: reply, held: true) }
    return try deliver(reply, handles: handles, to: caller, serial: serial, from: syscalls, held: true)
  }

  /// ipc_reply's answer through a reply handle (ipc_reply_detach made it): the same
  /// delivery, from any thread; the caller is made ready. True when the caller was
  /// still there to take it.
  static func answer(_ call: ReplyObject, with reply: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>,
                     from syscalls: KernelSyscalls) throws(AbiError) -> Bool {
    let caller = handles.count == 0
      ? try answerWithoutHandles(call.caller, serial: call.serial, reply: reply, held: false)
      : try deliver(reply, handles: handles, to: call.caller, serial: call.serial, from: syscalls, held: false)
    call.markAnswered()
    guard caller != .none else { return false }
    Scheduler.makeReady(caller)
    return true
  }

  /// Moves a reply (bytes and handles) to `caller`, waiting on call `serial`.
  /// `held`: the running thread holds the capability in its record, which this clears.
  ///
  /// The handles leave the server's table first, on every path: installed in the
  /// caller's table when the whole reply fits and all of them install, otherwise closed
  /// here (the caller gets buffer_too_small with their count, or is gone). A bad handle
  /// list fails before anything moves, and the server keeps the capability. The
  /// caller's process is retained in the same masked step that finds the caller still
  /// waiting, so a caller killed meanwhile leaves a live Process behind (never a freed
  /// one, nor another process's handles); the serial is checked again at the end, and
  /// handles installed for a call that ended meanwhile are taken back out and closed.
  private static func deliver(_ reply: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>, to caller: ThreadID,
                              serial: UInt64, from syscalls: KernelSyscalls, held: Bool) throws(AbiError) -> ThreadID {
    let me = ThreadTable.pointer(Scheduler.current)
    let target = ThreadTable.pointer(caller)
    var moved = HandlesInFlight()  // whatever is left here when this returns is closed
    var mover = syscalls
    try mover.takeHandles(handles, messageLength: reply.count, into: &moved)
    let count = moved.count
    // One masked step: still waiting? then its process (retained), and the bytes.
    let found = Interrupts.withDisabled { () -> Result<(process: Process, fits: Bool)?, AbiError> in
      guard isWaiting(caller, serial: serial), let process = target.pointee.process?.takeUnretainedValue() else {
        if held { me.pointee.ipc.replyTo = .none }
        return .success(nil)
      }
      let fits = reply.count <= target.pointee.ipc.replyCapacity && UInt64(count) <= target.pointee.ipc.replyHandleCapacity
      guard fits else { return .success((process, false)) }
      guard copyReply(reply, to: target) else { return .failure(.fault) }  // ours: we keep the capability
      // The caller's reply buffer was unusable (its error is fault): no handles either.
      return .success((process, target.pointee.ipc.replyError.rawValue == 0))
    }
    guard let (process, fits) = try found.get() else { return .none }
    // Into the caller's table outside any lock (installing may take an endpoint's),
    // all or none: a table that fills part way gets back what went in.
    var values = InlineArray<4, UInt32>(repeating: 0)
    var installed = 0
    if fits {
      while installed < count, let object = moved[installed].object,
        let value = process.installHandle(object, rights: moved[installed].rights)
      {
        values[installed] = value
        installed += 1
      }
    }
    let delivered = Interrupts.withDisabled { () -> Bool in
      if held { me.pointee.ipc.replyTo = .none }
      guard isWaiting(caller, serial: serial) else { return false }
      if fits && installed == count {
        target.pointee.ipc.replyHandles = values
        target.pointee.ipc.replyHandleCount = count
      } else if target.pointee.ipc.replyError.rawValue == 0 {
        target.pointee.ipc.replyError = .bufferTooSmall  // with the count, as the spec says
        target.pointee.ipc.replyHandleCount = count
      }
      markAnswered(target)
      return true
    }
    if !delivered || installed < count {
      for index in 0..<installed { _ = process.removeHandle(values[index]) }  // closed, released here
    }
    return delivered ? caller : .none
  }

  /// The common reply, bytes only: one masked section does all of it.
  private static func answerWithoutHandles(_ caller: ThreadID, serial: UInt64, reply: UserInBuffer<UInt8>,
                                           held: Bool) throws(AbiError) -> ThreadID {
    let outcome = Interrupts.withDisabled { () -> Result<ThreadID, AbiError> in
      let me = ThreadTable.pointer(Scheduler.current)
      guard isWaiting(caller, serial: serial) else {
        if held { me.pointee.ipc.replyTo = .none }
        return .success(.none)
      }
      let target = ThreadTable.pointer(caller)
      if reply.count > target.pointee.ipc.replyCapacity {
        target.pointee.ipc.replyError = .bufferTooSmall
      } else {
        guard copyReply(reply, to: target) else { return .failure(.fault) }  // ours: we keep the capability
      }
      if held { me.pointee.ipc.replyTo = .none }
      markAnswered(target)
      return .success(caller)
    }
    return try outcome.get()
  }
}

/// A call's reply capability as a handle (ipc_reply_detach): whoever holds the handle
/// answers the call once, from any thread (ipc_reply). Dropped unanswered (the handle
/// closed, its process gone), it fails the call with peer_closed, so no caller waits
/// forever on a capability nobody holds.
final class ReplyObject: KernelObject {
  let caller: ThreadID
  let serial: UInt64
  private var answered = false

  init(caller: ThreadID, serial: UInt64) {
    self.caller = caller
    self.serial = serial
    super.init(kind: .reply)
  }

  func markAnswered() { Interrupts.withDisabled { answered = true } }

  deinit {
    if !answered { Interrupts.withDisabled { CallReply.fail(caller, serial: serial, .peerClosed) } }
  }
}
