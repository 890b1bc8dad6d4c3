// fsd's view of the disk: filesystem blocks through the block protocol, cached in the
// shared buffer fsd attached to blkdevd, so a block read lands in its cache slot with
// no copy. Write-back: a modified block is marked dirty and reaches the disk when it
// is evicted or at `sync`, which writes every dirty block in block order and then
// asks the device to flush — the only ordering promise fsd makes (docs/design.md).
// Large file reads bypass the cache through a separate bulk area, a run of contiguous
// blocks per request.
//
// Use: `read(block) { bytes in ... }` and `modify(block) { bytes in ... }` — the
// pointer is good only inside the closure (the next lookup may evict its slot).
//
// A block server that dies and is restarted (issue 16) costs nothing but time: the
// generated client's `reconnect` looks the disk's name up again (waiting for the new
// instance to register) and attaches the same buffer, and the request that failed is
// sent again (reads, writes and flushes are idempotent). Dirty blocks stay dirty until
// a write of them is acknowledged, so nothing acknowledged to fsd's own clients (an
// fsync) depends on the instance that died.

extension FsProtocol.Status: Error {}

final class BlockCache {
  let blockSize: Int
  let sectorsPerBlock: UInt64
  /// Blocks on the filesystem: nothing at or past it is ever read or written.
  var blockLimit: UInt32 = 0
  private var client: BlockProtocol.Client<IpcTransport>
  private let base: UInt
  private let slotCount: Int
  private var blocks: [UInt32]
  /// Block number → slot, for every cached block.
  private var slotOf: [UInt32: Int] = [:]
  private var dirty: [Bool]
  private var lastUse: [UInt64]
  private var clock: UInt64 = 0
  /// The bulk area: `bulkBytes` after the slots.
  let bulkOffset: Int
  static let bulkBytes = 256 << 10
  private static let empty = UInt32.max
  private(set) var readOnlyDevice = false

  /// Attaches a buffer of `slotCount` blocks plus the bulk area to `server`, the block
  /// server registered as `name`.
  init?(server: UInt32, name: StaticString, blockSize: Int, slotCount: Int) {
    self.blockSize = blockSize
    self.slotCount = slotCount
    sectorsPerBlock = UInt64(blockSize / 512)
    bulkOffset = slotCount * blockSize
    let bytes = UInt64(bulkOffset + Self.bulkBytes)
    client = BlockProtocol.Client(transport: IpcTransport(endpoint: server))
    blocks = [UInt32](repeating: Self.empty, count: slotCount)
    dirty = [Bool](repeating: false, count: slotCount)
    lastUse = [UInt64](repeating: 0, count: slotCount)
    guard let buffer = SharedBuffer.create(size: bytes),
      let kept = try? Sys.handleDuplicate(handle: buffer.handle, rights: Self.bufferRights)
    else { return nil }
    base = buffer.address
    guard (try? client.attachBuffer(bufferSize: bytes, handles: MessageHandles(buffer.handle))) != nil,
      let info = try? client.info()
    else { return nil }
    readOnlyDevice = info.flags.contains(.readOnly)
    client.retries = 8
    client.reconnect = { client in Self.reconnect(&client, name: name, buffer: kept, bytes: bytes) }
  }

  private static let bufferRights = Rights.read.union(.write).union(.map).union(.transfer).rawValue

  /// The block server went away: waits for `name` to be registered again and attaches
  /// the same buffer to the new instance.
  private static func reconnect(_ client: inout BlockProtocol.Client<IpcTransport>, name: StaticString, buffer: UInt32,
                                bytes: UInt64) -> Bool {
    guard let endpoint = ServiceRegistry.reconnect(name, closing: client.transport.endpoint) else { return false }
    client.transport = IpcTransport(endpoint: endpoint)
    guard let again = try? Sys.handleDuplicate(handle: buffer, rights: bufferRights),
      let attached = try? client.attachBuffer(bufferSize: bytes, handles: MessageHandles(again))
    else { return false }
    print("FSD: \(name) is back (generation \(attached.generation)): buffer attached again")
    return true
  }

  /// The device's size in filesystem blocks.
  func deviceBlocks() -> UInt64? {
    guard let info = try? client.info(), info.blockSize == 512 else { return nil }
    return info.blockCount / sectorsPerBlock
  }

  private func slotAddress(_ slot: Int) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: base + UInt(slot * blockSize))!
  }

  /// The slot holding `block`, read from the disk if it was not cached (or zeroed,
  /// with `fresh`: a newly allocated block whose old contents do not matter).
  private func slot(for block: UInt32, fresh: Bool = false) throws(FsProtocol.Status) -> Int {
    guard block < blockLimit else {
      print("FSD: block \(block) is past the end of the filesystem (\(blockLimit))")
      throw .corrupted
    }
    clock += 1
    if let found = slotOf[block] {
      lastUse[found] = clock
      if fresh { slotAddress(found).initializeMemory(as: UInt8.self, repeating: 0, count: blockSize) }
      return found
    }
    var victim = 0
    for index in 0..<slotCount {
      if blocks[index] == Self.empty { victim = index; break }
      if lastUse[index] < lastUse[victim] { victim = index }
    }
    if dirty[victim] { try writeSlot(victim) }
    if blocks[victim] != Self.empty { slotOf[blocks[victim]] = nil }
    blocks[victim] = Self.empty
    if fresh {
      slotAddress(victim).initializeMemory(as: UInt8.self, repeating: 0, count: blockSize)
    } else {
      do {
        _ = try client.read(lba: UInt64(block) * sectorsPerBlock, count: UInt32(sectorsPerBlock), flags: [],
                            bufferOffset: UInt64(victim * blockSize))
      } catch {
        print("FSD: reading block \(block) failed")
        throw .ioError
      }
    }
    blocks[victim] = block
    slotOf[block] = victim
    lastUse[victim] = clock
    return victim
  }

  private func writeSlot(_ slot: Int) throws(FsProtocol.Status) {
    do {
      _ = try client.write(lba: UInt64(blocks[slot]) * sectorsPerBlock, count: UInt32(sectorsPerBlock), flags: [],
                           bufferOffset: UInt64(slot * blockSize))
    } catch {
      print("FSD: writing block \(blocks[slot]) failed")
      throw .ioError
    }
    dirty[slot] = false
  }

  func read<R>(_ block: UInt32, _ body: (UnsafeMutableRawPointer) throws(FsProtocol.Status) -> R) throws(FsProtocol.Status) -> R {
    try body(slotAddress(try slot(for: block)))
  }

  func modify<R>(_ block: UInt32, fresh: Bool = false, _ body: (UnsafeMutableRawPointer) throws(FsProtocol.Status) -> R) throws(FsProtocol.Status) -> R {
    let found = try slot(for: block, fresh: fresh)
    dirty[found] = true
    return try body(slotAddress(found))
  }

  /// Whether `block` is cached (its cached copy is the truth, dirty or not).
  func isCached(_ block: UInt32) -> Bool { slotOf[block] != nil }

  /// Reads `count` contiguous blocks from `first` into the bulk area, uncached.
  func readBulk(_ first: UInt32, count: Int) throws(FsProtocol.Status) -> UnsafeMutableRawPointer {
    guard count * blockSize <= Self.bulkBytes, UInt64(first) + UInt64(count) <= UInt64(blockLimit) else { throw .corrupted }
    do {
      _ = try client.read(lba: UInt64(first) * sectorsPerBlock, count: UInt32(UInt64(count) * sectorsPerBlock), flags: [],
                          bufferOffset: UInt64(bulkOffset))
    } catch {
      throw .ioError
    }
    return UnsafeMutableRawPointer(bitPattern: base + UInt(bulkOffset))!
  }

  var hasDirtyBlocks: Bool { dirty.contains(true) }

  /// Writes every dirty block, lowest block first.
  func writeBack() throws(FsProtocol.Status) {
    var order = [Int]()
    for index in 0..<slotCount where dirty[index] { order.append(index) }
    order.sort { blocks[$0] < blocks[$1] }
    for index in order { try writeSlot(index) }
  }

  /// Writes every dirty block, then flushes the device (a barrier: after everything
  /// before it).
  func sync() throws(FsProtocol.Status) {
    try writeBack()
    do { _ = try client.flush(flags: [.barrier]) } catch { throw .ioError }
  }
}
