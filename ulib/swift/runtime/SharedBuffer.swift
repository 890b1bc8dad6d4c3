// The shared buffers of the attach_buffer protocols (block, fs, pkg): a client makes
// one and sends a handle with attach_buffer; a server checks what it was sent and maps
// it. One place for both sides, so every server checks a client's buffer alike.

public struct MappedBuffer {
  /// Where it is mapped here, and how many bytes are mapped (the whole object).
  public let address: UInt
  public let mapped: UInt64
  /// A handle to the object the caller now owns: the server's, or the one a client
  /// sends with attach_buffer.
  public let handle: UInt32
}

public enum SharedBuffer {
  /// Server side: `shm`, which came with an attach_buffer asking for `size` bytes, if it
  /// is shared memory of at least that size and at most `largest` bytes (shm_map maps
  /// the whole object: a client must not fill the server's address space) that this
  /// process can map read-write: mapped, with the handle still open. nil otherwise,
  /// with the handle closed.
  public static func accept(_ shm: UInt32, size: UInt64, largest: UInt64) -> MappedBuffer? {
    let handle = ShmHandle(adopting: shm)  // closed if this returns nil
    guard let info = try? Sys.handleInfo(handle: shm), info.kind == HandleKind.shm.rawValue, size > 0, size <= info.size,
      info.size <= largest,
      let address = try? Sys.shmMap(shm: handle, addr: 0, prot: [.read, .write])
    else { return nil }
    return MappedBuffer(address: address, mapped: info.size, handle: handle.release())
  }

  /// Client side: a new shared memory object of `size` bytes mapped here read-write;
  /// its `handle` is the one to send with attach_buffer (it moves to the server).
  public static func create(size: UInt64) -> MappedBuffer? {
    guard let shm = try? Sys.shmCreate(size: size),
      let mine = try? Sys.handleDuplicate(handle: shm.raw, rights: Rights.read.union(.write).union(.map).rawValue),
      let address = try? Sys.shmMap(shm: ShmHandle(adopting: mine), addr: 0, prot: [.read, .write])
    else { return nil }
    return MappedBuffer(address: address, mapped: size, handle: shm.release())
  }
}
