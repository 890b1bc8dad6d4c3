// endpoint_watch_caller: a server hears when a client process ends, so it can free
// what it kept for that client (open files, sockets, buffers, waiting requests) when
// the client goes, not when a reply to it happens to fail.
//
// A watch is charged to the watched process, never to the server: a process holds at
// most Abi.endpointWatchersMax of them (one per endpoint that asked), allocated when
// the server asks. While the process runs, the watch sits in its list; its teardown
// moves each watch to its endpoint's notices, and the endpoint's receivers take
// notices before any queued message. Nothing on that path allocates, and a notice
// needs no queue slot, so a full queue cannot lose one.
//
// Ownership: the process's list holds the watch, and the watch holds its endpoint;
// once queued, the endpoint's notices hold the watch and the watch no longer holds
// the endpoint, so no cycle keeps either alive.

final class CallerWatch {
  /// The watched process's identifier (ipc_recv_info.sender).
  let sender: UInt64
  /// Where the notice goes; nil once it is queued there.
  var endpoint: Endpoint?
  /// The next notice in an endpoint's queue.
  var next: CallerWatch?

  init(sender: UInt64, endpoint: Endpoint) {
    self.sender = sender
    self.endpoint = endpoint
  }
}

/// An endpoint's notices not yet received, oldest first. Guarded by the endpoint's
/// lock; what leaves it is released by the caller after the lock is let go.
struct CallerNotices {
  private var first: CallerWatch?
  private var last: CallerWatch?

  mutating func append(_ watch: CallerWatch) {
    watch.next = nil
    if let last { last.next = watch } else { first = watch }
    last = watch
  }

  /// The oldest notice, out of the queue.
  mutating func pop() -> CallerWatch? {
    guard let head = first else { return nil }
    first = head.next
    if first == nil { last = nil }
    head.next = nil
    return head
  }

  /// Every notice, as a chain for the caller to release outside the lock.
  mutating func removeAll() -> CallerWatch? {
    defer {
      first = nil
      last = nil
    }
    return first
  }
}
