// An IPC endpoint: a bounded queue of messages, each up to ipc_message_max bytes and
// ipc_handles_max handles (ABI v0's ipc_send/ipc_recv). Handles name it with rights:
// `write` sends, `read` receives. The endpoint counts the handles of each kind that
// exist in handle tables (KernelObject.handleOpened/handleClosed), which is what
// peer_closed means: a sender finds no reader left, a receiver finds no writer left
// and the queue empty. When the last reader goes, queued messages are dropped with
// their handles, which also breaks any cycle of endpoints holding each other's
// handles in flight.
//
// Storage: `depth` message slots, each a page charged to user memory at creation, so
// a queue can never grow the kernel: a full queue blocks its senders. A queued
// message is copied twice (sender → slot → receiver). A call (ipc_call) that finds a
// receiver already waiting, with room and no handles to move, is copied once, from
// the caller's buffer straight into the receiver's, and the CPU switches straight to
// the receiver: the fast path (CallReply.swift has the reply side).
//
// Device interrupts (kernel/dev/MessageInterrupts.swift) arrive as `signals`, a bit
// per key, OR-ed in from interrupt context without allocating: a receiver gets them
// before any queued message, as one 8-byte interrupt message. Notices that a watched
// caller ended (endpoint_watch_caller, CallerWatch.swift) come next, each an empty
// message with sender_ended.
//
// Lock rule: `lock` guards the slots, the counts, the signals and both wait queues.
// Nothing is released under it: dropped handles are collected and released after.

struct QueuedMessage {
  var length = 0
  var sender: UInt64 = 0
  /// ipc_recv_flags.sender_manage: the sending handle had the manage right.
  var senderManage = false
  /// For a call: who waits for the reply, and the call's serial.
  var caller = ThreadID.none
  var callSerial: UInt64 = 0
  var handles = HandlesInFlight()
}

final class Endpoint: KernelObject {
  static let depth = 8

  let lock = SpinLock()
  /// Physical page of each slot.
  private let pages: InlineArray<8, UInt64>
  private var messages = InlineArray<8, QueuedMessage>(repeating: QueuedMessage())
  private var head = 0
  private(set) var count = 0
  private var readers = 0
  private var writers = 0
  private var receivers = WaitQueue()
  private var senders = WaitQueue()
  /// Interrupt keys posted and not yet received.
  private var signals: UInt64 = 0
  /// Watched callers that ended, not yet received, and how many: the receiver's wait
  /// (a hot path: no reference counting) looks only at the count.
  private var notices = CallerNotices()
  private var noticeCount = 0
  /// The protocol its messages speak, for the IPC tracer (endpoint_label); 0: unknown.
  var protocolLabel: UInt8 = 0
  /// Its own endpoint_timer timers (kernel/ipc/EndpointTimers.swift).
  var timers = EndpointTimerSlots()

  private init(pages: InlineArray<8, UInt64>) {
    self.pages = pages
    super.init(kind: .endpoint)
  }

  /// nil (no_memory) when user memory cannot hold its slots.
  static func make() -> Endpoint? {
    var pages = InlineArray<8, UInt64>(repeating: 0)
    for index in 0..<depth {
      guard let page = PageAllocator.shared.allocateZeroedForUser() else {
        for taken in 0..<index { PageAllocator.shared.release(pages[taken]) }
        return nil
      }
      pages[index] = page.intoAddress()
    }
    return Endpoint(pages: pages)
  }

  deinit {
    EndpointTimers.cancelAll(self)  // off the timer list before it is freed
    for index in 0..<Self.depth { PageAllocator.shared.release(pages[index]) }
  }

  // MARK: - handles

  override func handleOpened(_ rights: Rights) {
    lock.withLock {
      if rights.contains(.read) { readers += 1 }
      if rights.contains(.write) { writers += 1 }
    }
  }

  override func handleClosed(_ rights: Rights) {
    var dropped = InlineArray<32, KernelObject?>(repeating: nil)
    var droppedNotices: CallerWatch?
    var lastReader = false
    defer {
      if lastReader { EndpointTimers.cancelAll(self) }
      // One at a time: a long chain released from its head would recurse.
      while let notice = droppedNotices {
        droppedNotices = notice.next
        notice.next = nil
      }
    }
    lock.withLock {
      if rights.contains(.read) {
        readers -= 1
        if readers == 0 {
          lastReader = true
          // Nobody can receive any more: drop what is queued, fail the senders.
          var droppedCount = 0
          while count > 0 {
            CallReply.fail(messages[head].caller, serial: messages[head].callSerial, .peerClosed)
            for index in 0..<messages[head].handles.count {
              dropped[droppedCount] = messages[head].handles[index].object
              droppedCount += 1
            }
            messages[head] = QueuedMessage()
            head = (head + 1) % Self.depth
            count -= 1
          }
          while let sender = senders.pop() { Scheduler.makeReady(sender) }
          droppedNotices = notices.removeAll()
          noticeCount = 0
        }
      }
      if rights.contains(.write) {
        writers -= 1
        if writers == 0 { while let receiver = receivers.pop() { Scheduler.makeReady(receiver) } }
      }
    }
    // The dropped messages' handles are released here, outside the lock.
    withExtendedLifetime(dropped) {}
  }

  override func interruptWaiter(_ thread: ThreadID) {
    lock.withLock {
      let record = ThreadTable.pointer(thread)
      if receivers.remove(thread) || senders.remove(thread) {
        UserThreads.wakeInterrupted(thread)
      } else if record.pointee.ipc.callSerial != 0 && !record.pointee.ipc.answered {
        // Waiting for a reply: give the call up; a late reply finds no serial to match.
        record.pointee.ipc.callSerial = 0
        UserThreads.wakeInterrupted(thread)
      }
    }
  }

  // MARK: - sending and receiving

  /// Queues `length` bytes copied from the sender's memory at `source` and `handles`
  /// (already out of the sender's table), blocking while the queue is full. On any
  /// failure `handles` keeps them, and the caller drops them: they left the sender's
  /// table for good.
  func send(from source: UInt64, length: Int, handles: inout HandlesInFlight, sender: UInt64, senderManage: Bool) throws(AbiError) {
    let outcome = lock.withLock { () -> AbiError? in
      while true {
        guard readers > 0 else { return .peerClosed }
        if count < Self.depth { break }
        if !waitForRoom() { return .peerClosed }
      }
      return enqueue(from: source, length: length, sender: sender, senderManage: senderManage, handles: &handles, caller: .none, serial: 0)
    }
    // On failure the caller drops `handles` (outside the lock).
    if let outcome { throw outcome }
  }

  enum Arrival {
    /// The head of the queue: its size, and `serial` for `take`.
    case queued(length: Int, handleCount: Int, serial: Int)
    /// A call copied straight into the receive buffer; this thread holds its reply
    /// capability.
    case delivered(length: Int, sender: UInt64, senderManage: Bool)
    /// Device interrupts: the keys posted since the last receive (now cleared).
    case signaled(UInt64)
    /// A watched caller ended (endpoint_watch_caller): `takeNotice` has it.
    case notice
  }

  /// From a device interrupt (interrupts masked): adds `bits` and wakes a receiver.
  func signal(_ bits: UInt64) {
    lock.withLock {
      signals |= bits
      if let receiver = receivers.pop() { Scheduler.makeReady(receiver) }
    }
  }

  /// Puts back signals a receiver could not take (its buffer was too small).
  func resignal(_ bits: UInt64) { signal(bits) }

  /// From a watched caller's teardown: queues its notice and wakes a receiver. With no
  /// reader left nobody is told, and the caller releases the watch.
  func callerEnded(_ watch: CallerWatch) {
    watch.endpoint = nil
    lock.withLock {
      guard readers > 0 else { return }
      notices.append(watch)
      noticeCount += 1
      if let receiver = receivers.pop() { Scheduler.makeReady(receiver) }
    }
  }

  /// The oldest notice, for the receiver to report and release; nil when another
  /// receiver took it first.
  func takeNotice() -> CallerWatch? {
    lock.withLock { () -> CallerWatch? in
      guard let notice = notices.pop() else { return nil }
      noticeCount -= 1
      return notice
    }
  }

  /// Puts back a notice a receiver could not report (its info was not writable).
  func renotice(_ watch: CallerWatch) { callerEnded(watch) }

  /// Waits for the next message. A caller may copy a handle-free request straight into
  /// [`buffer`, `buffer` + `capacity`) meanwhile (capacity 0: never). `answered` is a
  /// caller this thread just replied to: if this thread must wait, the CPU goes
  /// straight to it (the direct switch back); otherwise it is made ready. nil when no
  /// writer is left and the queue is empty (peer_closed) or the receiver's process is
  /// ending.
  func waitForMessage(buffer: UInt64, capacity: UInt64, answered: ThreadID) -> Arrival? {
    var wake = answered
    defer { if wake != .none { Scheduler.makeReady(wake) } }
    return lock.withLock { () -> Arrival? in
      let me = ThreadTable.pointer(Scheduler.current)
      while count == 0 && signals == 0 && noticeCount == 0 {
        guard writers > 0, !UserThreads.mustStop else { return nil }
        me.pointee.ipc.receiveBuffer = buffer
        me.pointee.ipc.receiveCapacity = capacity
        me.pointee.ipc.delivered = false
        receivers.push(Scheduler.current)
        let next = wake
        wake = .none
        let woken = UserThreads.blockInterruptibly(on: self, releasing: lock, switchingTo: next)
        me.pointee.ipc.receiveCapacity = 0
        if me.pointee.ipc.delivered {
          me.pointee.ipc.delivered = false
          return .delivered(length: me.pointee.ipc.deliveredLength, sender: me.pointee.ipc.deliveredSender,
                            senderManage: me.pointee.ipc.deliveredManage)
        }
        if !woken { return nil }
      }
      if signals != 0 {
        defer { signals = 0 }
        return .signaled(signals)
      }
      if noticeCount > 0 { return .notice }
      return .queued(length: messages[head].length, handleCount: messages[head].handles.count, serial: takenCount)
    }
  }

  /// Takes the head message if it is still the one `waitForMessage` described
  /// (`serial`): copies its bytes to the receiver's memory at `destination` and moves
  /// its handles out. nil when another receiver took it first (call again); a fault
  /// leaves it queued.
  func take(serial expected: Int, to destination: UInt64,
            handles: inout HandlesInFlight) throws(AbiError) -> (length: Int, sender: UInt64, flags: IpcRecvFlags)? {
    let outcome = lock.withLock { () -> Result<(Int, UInt64, IpcRecvFlags)?, AbiError> in
      guard count > 0, takenCount == expected else { return .success(nil) }
      let message = messages[head]
      do throws(AbiError) {
        try UserMemory.copyOut(UnsafeRawBufferPointer(start: DirectMap.pointer(physical: pages[head]), count: message.length), to: destination)
      } catch {
        return .failure(error)
      }
      handles = message.handles
      messages[head] = QueuedMessage()
      head = (head + 1) % Self.depth
      count -= 1
      takenCount += 1
      if let sender = senders.pop() { Scheduler.makeReady(sender) }
      if message.caller != .none { CallReply.hold(message.caller, serial: message.callSerial) }
      var flags = IpcRecvFlags()
      if message.caller != .none { flags.insert(.call) }
      if message.senderManage { flags.insert(.senderManage) }
      return .success((message.length, message.sender, flags))
    }
    return try outcome.get()
  }

  /// ipc_call's kernel half: delivers the request (straight into a waiting receiver
  /// when it can, else through the queue) and blocks until the reply, which the
  /// server leaves in this thread's record (ThreadIpc). Returns an error only when
  /// the request could not go out or the wait was cut short; how the call was
  /// answered is in the record.
  func call(from source: UInt64, length: Int, handles: inout HandlesInFlight, sender: UInt64, senderManage: Bool) -> AbiError? {
    lock.withLock { () -> AbiError? in
      let me = Scheduler.current
      let record = ThreadTable.pointer(me)
      while true {
        guard readers > 0 else { return .peerClosed }
        if handles.count == 0 {
          switch deliverDirectly(from: source, length: length, sender: sender, senderManage: senderManage) {
          case .fault: return .fault
          case .to(let receiver): return waitForAnswer(switchingTo: receiver)
          case .notNow: break
          }
        }
        if count < Self.depth { break }
        if !waitForRoom() { return .peerClosed }
      }
      let serial = CallReply.nextSerial()
      if let error = enqueue(from: source, length: length, sender: sender, senderManage: senderManage, handles: &handles,
                             caller: me, serial: serial) {
        return error
      }
      record.pointee.ipc.callSerial = serial
      return waitForAnswer(switchingTo: .none)
    }
  }

  /// Inside the lock, with the queue full: blocks as a sender until a slot frees up
  /// (or the last reader goes). False when this thread's process is ending.
  private func waitForRoom() -> Bool {
    if UserThreads.mustStop { return false }
    senders.push(Scheduler.current)
    return UserThreads.blockInterruptibly(on: self, releasing: lock)
  }

  /// Inside the lock, with a free slot: copies the message in from the sender's memory,
  /// moves `handles` into it, and wakes a receiver. A fault leaves nothing queued.
  private func enqueue(from source: UInt64, length: Int, sender: UInt64, senderManage: Bool, handles: inout HandlesInFlight,
                       caller: ThreadID, serial: UInt64) -> AbiError? {
    let slot = (head + count) % Self.depth
    do throws(AbiError) {
      try UserMemory.copyIn(from: source, into: UnsafeMutableRawBufferPointer(start: DirectMap.pointer(physical: pages[slot]), count: length))
    } catch {
      return error
    }
    messages[slot].length = length
    messages[slot].sender = sender
    messages[slot].senderManage = senderManage
    messages[slot].caller = caller
    messages[slot].callSerial = serial
    messages[slot].handles = handles
    handles = HandlesInFlight()
    count += 1
    if let receiver = receivers.pop() { Scheduler.makeReady(receiver) }
    return nil
  }

  enum DirectDelivery { case to(ThreadID), fault, notNow }

  /// The fast path, inside the lock: if a receiver waits with room, copies a
  /// handle-free request from the caller's memory straight into the receiver's
  /// buffer, hands it the reply capability and returns it, to run next. Nothing here
  /// allocates or touches a reference count (tests/tooling/test_hot_paths.py).
  @inline(never)
  private func deliverDirectly(from source: UInt64, length: Int, sender: UInt64, senderManage: Bool) -> DirectDelivery {
    guard let receiver = receivers.first else { return .notNow }
    let target = ThreadTable.pointer(receiver)
    guard UInt64(length) <= target.pointee.ipc.receiveCapacity else { return .notNow }
    switch UserMemory.copy(from: source, count: length, to: target.pointee.ipc.receiveBuffer,
                           in: PageTables(root: target.pointee.addressSpace)) {
    case .sourceFault:
      return .fault
    case .destinationUnusable:
      return .notNow  // the receiver's buffer went away: let it find the message queued
    case .done:
      _ = receivers.pop()
      let me = Scheduler.current
      let serial = CallReply.nextSerial()
      ThreadTable.pointer(me).pointee.ipc.callSerial = serial
      target.pointee.ipc.delivered = true
      target.pointee.ipc.deliveredLength = length
      target.pointee.ipc.deliveredSender = sender
      target.pointee.ipc.deliveredManage = senderManage
      CallReply.hold(me, serial: serial, by: receiver)
      return .to(receiver)
    }
  }

  /// Inside the lock: blocks until this thread's call is answered (first running
  /// `next`, if any).
  @inline(never)
  private func waitForAnswer(switchingTo next: ThreadID) -> AbiError? {
    let record = ThreadTable.pointer(Scheduler.current)
    var first = next
    while !record.pointee.ipc.answered {
      if UserThreads.mustStop {
        record.pointee.ipc.callSerial = 0
        if first != .none { Scheduler.makeReady(first) }
        return .peerClosed
      }
      let woken = UserThreads.blockInterruptibly(on: self, releasing: lock, switchingTo: first)
      first = .none
      if !woken { return .peerClosed }
    }
    return nil
  }

  /// ipc_discard: drops the head message (one a receive refused: its handles do not fit
  /// the receiver's table), closing its handles and failing its caller with
  /// peer_closed, so a server goes on with the next. False when nothing is queued.
  func discardHead() -> Bool {
    var dropped = HandlesInFlight()
    let found = lock.withLock { () -> Bool in
      guard count > 0 else { return false }
      CallReply.fail(messages[head].caller, serial: messages[head].callSerial, .peerClosed)
      dropped = messages[head].handles
      messages[head] = QueuedMessage()
      head = (head + 1) % Self.depth
      count -= 1
      takenCount += 1  // a receiver that saw this message must not take the next for it
      if let sender = senders.pop() { Scheduler.makeReady(sender) }
      return true
    }
    withExtendedLifetime(dropped) {}  // released here, outside the lock
    return found
  }

  /// endpoint_status: bit 0 no reader left, bit 1 no writer left, bits 8-15 queued.
  var status: UInt64 {
    lock.withLock {
      (readers == 0 ? 1 : 0) | (writers == 0 ? 2 : 0) | (UInt64(count) << 8)
    }
  }

  /// Messages taken so far: tells a receiver whether the head is still the one it saw.
  private var takenCount = 0
}
