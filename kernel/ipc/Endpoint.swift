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
// a queue can never grow the kernel: a full queue blocks its senders. A message is
// copied twice on this path (sender → slot → receiver).
//
// Lock rule: `lock` guards the slots, the counts and both wait queues. Nothing is
// released under it: dropped handles are collected and released after.

struct QueuedMessage {
  var length = 0
  var sender: UInt64 = 0
  var handleCount = 0
  var handles = InlineArray<4, (object: KernelObject?, rights: Rights)>(repeating: (nil, Rights()))
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
    lock.withLock {
      if rights.contains(.read) {
        readers -= 1
        if readers == 0 {
          // Nobody can receive any more: drop what is queued, fail the senders.
          var droppedCount = 0
          while count > 0 {
            for index in 0..<messages[head].handleCount {
              dropped[droppedCount] = messages[head].handles[index].object
              droppedCount += 1
            }
            messages[head] = QueuedMessage()
            head = (head + 1) % Self.depth
            count -= 1
          }
          while let sender = senders.pop() { Scheduler.makeReady(sender) }
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
      if receivers.remove(thread) || senders.remove(thread) { UserThreads.wakeInterrupted(thread) }
    }
  }

  // MARK: - sending and receiving

  /// Queues `length` bytes copied from the sender's memory at `source` and `handles`
  /// (already out of the sender's table), blocking while the queue is full. On any
  /// failure `handles` keeps them, and the caller drops them: they left the sender's
  /// table for good.
  func send(from source: UInt64, length: Int, handles: inout InlineArray<4, (object: KernelObject?, rights: Rights)>,
            handleCount: Int, sender: UInt64) throws(AbiError) {
    let outcome = lock.withLock { () -> AbiError? in
      while true {
        guard readers > 0 else { return .peerClosed }
        if count < Self.depth { break }
        if UserThreads.mustStop { return .peerClosed }
        senders.push(Scheduler.current)
        if !UserThreads.blockInterruptibly(on: self, releasing: lock) { return .peerClosed }
      }
      let slot = (head + count) % Self.depth
      do throws(AbiError) {
        try UserMemory.copyIn(from: source, into: UnsafeMutableRawBufferPointer(start: DirectMap.pointer(physical: pages[slot]), count: length))
      } catch {
        return error
      }
      messages[slot].length = length
      messages[slot].sender = sender
      messages[slot].handleCount = handleCount
      for index in 0..<handleCount {
        messages[slot].handles[index] = handles[index]
        handles[index] = (nil, Rights())
      }
      count += 1
      if let receiver = receivers.pop() { Scheduler.makeReady(receiver) }
      return nil
    }
    // On failure the caller drops `handles` (outside the lock).
    if let outcome { throw outcome }
  }

  /// What the next message needs: its length and handle count, blocking until there
  /// is one. nil when no writer is left and the queue is empty (peer_closed) or the
  /// receiver's process is ending.
  func waitForMessage() -> (length: Int, handleCount: Int, serial: Int)? {
    lock.withLock { () -> (Int, Int, Int)? in
      while count == 0 {
        guard writers > 0, !UserThreads.mustStop else { return nil }
        receivers.push(Scheduler.current)
        if !UserThreads.blockInterruptibly(on: self, releasing: lock) { return nil }
      }
      return (messages[head].length, messages[head].handleCount, takenCount)
    }
  }

  /// Takes the head message if it is still the one `waitForMessage` described
  /// (`serial`): copies its bytes to the receiver's memory at `destination` and moves
  /// its handles out. nil when another receiver took it first (call again); a fault
  /// leaves it queued.
  func take(serial expected: Int, to destination: UInt64,
            handles: inout InlineArray<4, (object: KernelObject?, rights: Rights)>) throws(AbiError) -> (length: Int, sender: UInt64)? {
    let outcome = lock.withLock { () -> Result<(Int, UInt64)?, AbiError> in
      guard count > 0, takenCount == expected else { return .success(nil) }
      let message = messages[head]
      do throws(AbiError) {
        try UserMemory.copyOut(UnsafeRawBufferPointer(start: DirectMap.pointer(physical: pages[head]), count: message.length), to: destination)
      } catch {
        return .failure(error)
      }
      for index in 0..<message.handleCount { handles[index] = message.handles[index] }
      messages[head] = QueuedMessage()
      head = (head + 1) % Self.depth
      count -= 1
      takenCount += 1
      if let sender = senders.pop() { Scheduler.makeReady(sender) }
      return .success((message.length, message.sender))
    }
    return try outcome.get()
  }

  /// Messages taken so far: tells a receiver whether the head is still the one it saw.
  private var takenCount = 0
}
