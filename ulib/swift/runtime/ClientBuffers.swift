// The attach_buffer protocols' per-client buffers on the server side (fsd, netd):
// one shared buffer per client process (by sender id, which the kernel never
// reuses), mapped here; requests name [offset, offset + length) of it. The table is
// small and fixed; a new client takes a free entry or the least recently used one,
// whose owner (probably gone; if not, it attaches again) is reported so the server can
// drop what else it kept for it.

public struct ClientBuffers {
  public static let capacity = 16

  private struct Entry {
    var sender: UInt64 = 0  // 0: free
    var shm: UInt32 = 0
    var address: UInt = 0
    var size: UInt64 = 0
    var mapped: UInt64 = 0
    var lastUse: UInt64 = 0
  }

  private var entries = InlineArray<16, Entry>(repeating: Entry())
  private var uses: UInt64 = 0

  public init() {}

  public enum Attached {
    /// The buffer is attached (replacing the sender's earlier one, if any).
    case attached
    /// Attached in the entry of `evicted`, another client's, which lost its buffer.
    case evicting(UInt64)
    /// Not shared memory of at least `size` bytes mappable read-write (the handle is closed).
    case refused
  }

  /// Attaches `shm` (which came with `sender`'s attach_buffer) as `sender`'s buffer of `size` bytes.
  public mutating func attach(_ shm: UInt32, size: UInt64, sender: UInt64) -> Attached {
    guard sender != 0, let buffer = SharedBuffer.accept(shm, size: size) else { return .refused }
    var slot = find(sender)
    var evicted: UInt64 = 0
    if slot == nil {
      var oldest = 0
      for index in 0..<Self.capacity {
        if entries[index].sender == 0 {
          slot = index
          break
        }
        if entries[index].lastUse < entries[oldest].lastUse { oldest = index }
      }
      if slot == nil {
        slot = oldest
        evicted = entries[oldest].sender
      }
    }
    let index = slot!
    if entries[index].sender != 0 { unmap(index) }
    uses += 1
    entries[index] = Entry(sender: sender, shm: buffer.handle, address: buffer.address, size: size, mapped: buffer.mapped,
                           lastUse: uses)
    return evicted != 0 ? .evicting(evicted) : .attached
  }

  public func has(_ sender: UInt64) -> Bool { find(sender) != nil }

  /// [offset, offset + length) of `sender`'s buffer; nil when it has none or the range
  /// leaves it.
  public mutating func range(_ sender: UInt64, offset: UInt64, length: UInt64) -> UnsafeMutableRawPointer? {
    guard let index = find(sender) else { return nil }
    uses += 1
    entries[index].lastUse = uses
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

  private mutating func unmap(_ index: Int) {
    try? Sys.vmUnmap(addr: entries[index].address, len: entries[index].mapped)
    _ = apus_handle_close(entries[index].shm)
    entries[index] = Entry()
  }
}
