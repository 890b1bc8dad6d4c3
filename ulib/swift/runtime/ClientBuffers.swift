// The attach_buffer protocols' per-client buffers on the server side (fsd, netd):
// one shared buffer per client process (by sender id, which the kernel never
// reuses), mapped here; requests name [offset, offset + length) of it.
//
// A client's buffer lives until the client ends: attach watches the client
// (endpoint_watch_caller), and the server calls `release` at the sender_ended notice.
// Nothing is ever taken from a live client to make room for another (an earlier
// version evicted the least recently used buffer, so 16 hostile clients could strip
// everyone else's): when the table, the client's job's share of it or the byte budget
// is full, attach says `full`.
// Each buffer is at most `largest` bytes and all of them `budget` bytes together, so
// clients cannot fill the server's address space (shm_map maps a whole object).

public struct ClientBuffers {
  public static let capacity = 32
  /// Most entries one job (ClientJob) may hold: a program's children are its share,
  /// not more clients (32 children of one program took every entry).
  public static let perJob = 8

  private struct Entry {
    var sender: UInt64 = 0  // 0: free
    var shm: UInt32 = 0
    var address: UInt = 0
    var size: UInt64 = 0
    var mapped: UInt64 = 0
  }

  /// An Array, not an InlineArray: -Osize copies a whole InlineArray (1,280 bytes, a
  /// `rep movsb` of as many instructions) for every element read in a loop, and `find`
  /// runs several times per request; an Array's elements are read in place.
  private var entries = [Entry](repeating: Entry(), count: capacity)
  /// Most bytes one client's buffer (the whole shared object) may have.
  public let largest: UInt64
  /// Most bytes all the buffers mapped here may have together.
  public let budget: UInt64
  private var mappedBytes: UInt64 = 0

  public init(largest: UInt64, budget: UInt64) {
    self.largest = largest
    self.budget = budget
  }

  public enum Attached {
    /// The buffer is attached (replacing the sender's earlier one, if any).
    case attached
    /// No room: every entry is another live client's, the byte budget would be passed,
    /// or the client is watched by as many servers as the kernel allows (the handle is
    /// closed).
    case full
    /// Not shared memory of at least `size` bytes (and at most `largest`) mappable
    /// read-write (the handle is closed).
    case refused
  }

  /// Attaches `shm` (which came with `sender`'s attach_buffer, a call received on
  /// `endpoint`, whose reply capability this thread holds) as `sender`'s buffer of
  /// `size` bytes, and watches the sender so the server hears when it ends.
  public mutating func attach(_ shm: UInt32, size: UInt64, sender: UInt64, endpoint: UInt32) -> Attached {
    guard sender != 0, let info = try? Sys.handleInfo(handle: shm), info.size <= largest else {
      _ = apus_handle_close(shm)
      return .refused
    }
    let earlier = find(sender)
    let freed = earlier.map { entries[$0].mapped } ?? 0
    let free = earlier ?? (held(by: sender) < Self.perJob ? firstFree() : nil)
    // Checked before mapping: the budget counts whole objects, as shm_map maps them.
    guard let free, mappedBytes - freed <= budget, info.size <= budget - (mappedBytes - freed),
      apus_endpoint_watch_caller(endpoint) >= 0
    else {
      _ = apus_handle_close(shm)
      return .full
    }
    guard let buffer = SharedBuffer.accept(shm, size: size, largest: largest) else { return .refused }
    if entries[free].sender != 0 { unmap(free) }
    entries[free] = Entry(sender: sender, shm: buffer.handle, address: buffer.address, size: size, mapped: buffer.mapped)
    mappedBytes += buffer.mapped
    return .attached
  }

  public func has(_ sender: UInt64) -> Bool { find(sender) != nil }

  /// [offset, offset + length) of `sender`'s buffer; nil when it has none or the range
  /// leaves it.
  public func range(_ sender: UInt64, offset: UInt64, length: UInt64) -> UnsafeMutableRawPointer? {
    guard let index = find(sender) else { return nil }
    guard offset <= entries[index].size, length <= entries[index].size - offset else { return nil }
    return UnsafeMutableRawPointer(bitPattern: entries[index].address + UInt(offset))
  }

  /// Drops `sender`'s buffer (the client is gone).
  public mutating func release(_ sender: UInt64) {
    if let index = find(sender) { unmap(index) }
  }

  private func find(_ sender: UInt64) -> Int? {
    for index in 0..<Self.capacity where entries[index].sender == sender && sender != 0 { return index }
    return nil
  }

  /// Entries the sender's job holds.
  private func held(by sender: UInt64) -> Int {
    var count = 0
    for index in 0..<Self.capacity where entries[index].sender != 0 && ClientJob.same(entries[index].sender, sender) { count += 1 }
    return count
  }

  private func firstFree() -> Int? {
    for index in 0..<Self.capacity where entries[index].sender == 0 { return index }
    return nil
  }

  private mutating func unmap(_ index: Int) {
    try? Sys.vmUnmap(addr: entries[index].address, len: entries[index].mapped)
    _ = apus_handle_close(entries[index].shm)
    mappedBytes -= entries[index].mapped
    entries[index] = Entry()
  }
}
