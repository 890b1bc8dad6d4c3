// An ext2 filesystem (revision 0 or 1) on a BlockCache: the superblock, the group
// descriptors, inodes and the block and inode bitmaps. Files (Ext2+Files.swift) and
// directories (Ext2+Directories.swift) build on these.
//
// Trust nothing read from the disk: every block number is checked against the
// filesystem before it is followed (BlockCache refuses those past the end; `checked`
// those before the first data block), every inode number against the inode count,
// every directory entry against its block. A check that fails is `corrupted` for that
// operation with a log line; it never traps and never writes.

final class Ext2 {
  let cache: BlockCache
  let blockSize: Int
  let blocksCount: UInt32
  let inodesCount: UInt32
  let firstDataBlock: UInt32
  let blocksPerGroup: UInt32
  let inodesPerGroup: UInt32
  let inodeSize: Int
  let firstInode: UInt32
  let hasFileType: Bool
  let readOnly: Bool
  /// large_file: a regular file may pass 2 GiB (without it, or in revision 0, it may not).
  let largeFiles: Bool
  var groups: [GroupDescriptor]
  var freeBlocks: UInt32
  var freeInodes: UInt32
  /// Seconds since 1970 at mount (the last write time; there is no clock yet).
  let mountTime: UInt32
  static let rootInode: UInt32 = 2

  enum Feature {
    static let incompatFileType: UInt32 = 0x2
    static let roSparseSuper: UInt32 = 0x1
    static let roLargeFile: UInt32 = 0x2
  }

  var pointersPerBlock: UInt64 { UInt64(blockSize / 4) }

  /// Why a mount was refused: fsd says it and ends (a restart would meet the same disk).
  struct Refusal: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
  }

  /// Mounts the filesystem behind `server` (a block endpoint registered as `name`), or
  /// throws why not. Revision 0 (the original layout) has 128-byte inodes, first inode
  /// 11 and no feature fields; revision 1 says all three in the superblock.
  static func mount(server: UInt32, name: StaticString) throws(Refusal) -> Ext2 {
    // The superblock is at byte 1024 whatever the block size: read it through a
    // 1 KiB-block cache first.
    guard let probe = BlockCache(server: server, name: name, blockSize: 1024, slotCount: 4) else {
      throw Refusal("cannot attach a buffer to the block server")
    }
    guard let deviceBlocks = probe.deviceBlocks(), deviceBlocks >= 2 else { throw Refusal("the disk is too small for ext2") }
    probe.blockLimit = UInt32(min(deviceBlocks, UInt64(UInt32.max)))
    var fields = InlineArray<26, UInt32>(repeating: 0)
    var magic: UInt16 = 0
    var inodeSizeField: UInt16 = 0
    do {
      try probe.read(1) { bytes in
        for index in 0..<26 { fields[index] = bytes.u32(index * 4) }
        magic = bytes.u16(56)
        inodeSizeField = bytes.u16(88)
      }
    } catch {
      throw Refusal("cannot read the superblock")
    }
    guard magic == 0xef53 else { throw Refusal("bad superblock magic 0x\(String(magic, radix: 16)): not ext2") }
    let logBlockSize = fields[6]
    let revision = fields[19]
    guard logBlockSize <= 2 else { throw Refusal("block size 2^\(10 &+ logBlockSize) is not supported") }
    guard revision <= 1 else { throw Refusal("revision \(revision) is not supported (only 0 and 1)") }
    // Revision 0 has no feature fields (the bytes are not defined there).
    let incompat = revision == 0 ? 0 : fields[24]
    let roCompat = revision == 0 ? 0 : fields[25]
    let inodeSize = revision == 0 ? 128 : inodeSizeField
    let firstInode = revision == 0 ? 11 : fields[21]
    if incompat & ~Feature.incompatFileType != 0 {
      throw Refusal("incompatible feature flags 0x\(String(incompat & ~Feature.incompatFileType, radix: 16)) are not supported")
    }
    var readOnly = probe.readOnlyDevice
    if roCompat & ~(Feature.roSparseSuper | Feature.roLargeFile) != 0 {
      print("FSD: read-only-compatible feature flags 0x\(String(roCompat & ~(Feature.roSparseSuper | Feature.roLargeFile), radix: 16)) are not supported: mounting read-only")
      readOnly = true
    }
    let blockSize = 1024 << Int(logBlockSize)
    let blocksCount = fields[1], inodesCount = fields[0], firstData = fields[5]
    let blocksPerGroup = fields[8], inodesPerGroup = fields[10]
    guard blocksPerGroup > 0, inodesPerGroup > 0, blocksPerGroup <= UInt32(blockSize * 8), inodesPerGroup <= UInt32(blockSize * 8),
      blocksCount > firstData, UInt64(blocksCount) <= deviceBlocks / UInt64(blockSize / 1024), inodeSize >= 128,
      Int(inodeSize) <= blockSize, inodeSize & (inodeSize - 1) == 0, firstData == (blockSize == 1024 ? 1 : 0), inodesCount > 0
    else {
      throw Refusal("the superblock's geometry is inconsistent")
    }
    // In 64 bits: blocksCount near 2^32 plus a group's worth would wrap in 32.
    let groupCount = Int((UInt64(blocksCount - firstData) + UInt64(blocksPerGroup) - 1) / UInt64(blocksPerGroup))
    guard UInt64(groupCount) * UInt64(inodesPerGroup) >= UInt64(inodesCount), groupCount * 32 <= blockSize * 64 else {
      throw Refusal("the superblock's group counts are inconsistent")
    }
    guard let cache = BlockCache(server: server, name: name, blockSize: blockSize, slotCount: max(256, (1 << 20) / blockSize)) else {
      throw Refusal("cannot attach the cache buffer")
    }
    cache.blockLimit = blocksCount
    let fs = Ext2(cache: cache, blockSize: blockSize, blocksCount: blocksCount, inodesCount: inodesCount, firstDataBlock: firstData,
                  blocksPerGroup: blocksPerGroup, inodesPerGroup: inodesPerGroup, inodeSize: Int(inodeSize),
                  firstInode: firstInode, hasFileType: incompat & Feature.incompatFileType != 0, readOnly: readOnly,
                  largeFiles: roCompat & Feature.roLargeFile != 0, freeBlocks: fields[3], freeInodes: fields[4], mountTime: fields[12])
    let root: Inode
    do {
      try fs.loadGroups(count: groupCount)
      root = try fs.inode(rootInode)
    } catch {
      throw Refusal("cannot read the group descriptors or the root")
    }
    guard root.isDirectory else { throw Refusal("the root inode is not a directory") }
    return fs
  }

  private init(cache: BlockCache, blockSize: Int, blocksCount: UInt32, inodesCount: UInt32, firstDataBlock: UInt32,
               blocksPerGroup: UInt32, inodesPerGroup: UInt32, inodeSize: Int, firstInode: UInt32, hasFileType: Bool,
               readOnly: Bool, largeFiles: Bool, freeBlocks: UInt32, freeInodes: UInt32, mountTime: UInt32) {
    self.cache = cache
    self.blockSize = blockSize
    self.blocksCount = blocksCount
    self.inodesCount = inodesCount
    self.firstDataBlock = firstDataBlock
    self.blocksPerGroup = blocksPerGroup
    self.inodesPerGroup = inodesPerGroup
    self.inodeSize = inodeSize
    self.firstInode = max(firstInode, 11)
    self.hasFileType = hasFileType
    self.readOnly = readOnly
    self.largeFiles = largeFiles
    self.freeBlocks = freeBlocks
    self.freeInodes = freeInodes
    self.mountTime = mountTime
    groups = []
  }

  /// Now, in seconds since 1970: the last write time plus the time since boot.
  var now: UInt32 { mountTime &+ UInt32(truncatingIfNeeded: Sys.timeNow() / 1_000_000_000) }

  // MARK: - groups and the superblock

  private var descriptorTable: UInt32 { firstDataBlock + 1 }

  private func loadGroups(count: Int) throws(FsProtocol.Status) {
    let perBlock = blockSize / 32
    for index in 0..<count {
      let group = try cache.read(descriptorTable + UInt32(index / perBlock)) { bytes in
        let at = (index % perBlock) * 32
        return GroupDescriptor(blockBitmap: bytes.u32(at), inodeBitmap: bytes.u32(at + 4), inodeTable: bytes.u32(at + 8),
                               freeBlocks: bytes.u16(at + 12), freeInodes: bytes.u16(at + 14), usedDirectories: bytes.u16(at + 16))
      }
      let inodeTableBlocks = (UInt32(inodeSize) * inodesPerGroup + UInt32(blockSize) - 1) / UInt32(blockSize)
      guard group.blockBitmap >= firstDataBlock, group.blockBitmap < blocksCount, group.inodeBitmap >= firstDataBlock,
        group.inodeBitmap < blocksCount, group.inodeTable >= firstDataBlock,
        UInt64(group.inodeTable) + UInt64(inodeTableBlocks) <= UInt64(blocksCount)
      else {
        print("FSD: group \(index)'s descriptor points outside the filesystem")
        throw .corrupted
      }
      groups.append(group)
    }
  }

  /// Writes group `index`'s counts and the superblock's into the cache.
  func storeCounts(group index: Int) throws(FsProtocol.Status) {
    let perBlock = blockSize / 32
    let group = groups[index]
    try cache.modify(descriptorTable + UInt32(index / perBlock)) { bytes in
      let at = (index % perBlock) * 32
      bytes.set16(at + 12, group.freeBlocks)
      bytes.set16(at + 14, group.freeInodes)
      bytes.set16(at + 16, group.usedDirectories)
    }
    let (block, offset) = blockSize == 1024 ? (UInt32(1), 0) : (UInt32(0), 1024)
    let (blocks, inodes, time) = (freeBlocks, freeInodes, now)
    try cache.modify(block) { bytes in
      bytes.set32(offset + 12, blocks)
      bytes.set32(offset + 16, inodes)
      bytes.set32(offset + 48, time)  // s_wtime
    }
  }

  // MARK: - inodes

  private func inodeLocation(_ number: UInt32) throws(FsProtocol.Status) -> (block: UInt32, offset: Int) {
    guard number >= 1, number <= inodesCount else {
      print("FSD: inode \(number) is outside the filesystem")
      throw .corrupted
    }
    let group = Int((number - 1) / inodesPerGroup)
    guard group < groups.count else { throw .corrupted }
    let index = Int((number - 1) % inodesPerGroup)
    let perBlock = blockSize / inodeSize
    return (groups[group].inodeTable + UInt32(index / perBlock), (index % perBlock) * inodeSize)
  }

  func inode(_ number: UInt32) throws(FsProtocol.Status) -> Inode {
    let (block, offset) = try inodeLocation(number)
    return try cache.read(block) { bytes in Inode(number: number, from: bytes + offset) }
  }

  func store(_ inode: Inode) throws(FsProtocol.Status) {
    guard !readOnly else { throw .readOnly }
    let (block, offset) = try inodeLocation(inode.number)
    try cache.modify(block) { bytes in inode.store(into: bytes + offset) }
  }

  // MARK: - allocation

  /// A free block (zeroed in the cache), preferring `group`.
  func allocateBlock(near group: Int) throws(FsProtocol.Status) -> UInt32 {
    guard !readOnly else { throw .readOnly }
    guard freeBlocks > 0 else { throw .noSpace }
    for step in 0..<groups.count {
      let index = (group + step) % groups.count
      guard groups[index].freeBlocks > 0 else { continue }
      let first = firstDataBlock + UInt32(index) * blocksPerGroup
      let inGroup = Int(min(blocksPerGroup, blocksCount - first))
      guard let bit = try takeFreeBit(in: groups[index].blockBitmap, limit: inGroup) else {
        print("FSD: group \(index) counts free blocks its bitmap lacks")
        throw .corrupted
      }
      groups[index].freeBlocks -= 1
      freeBlocks -= 1
      try storeCounts(group: index)
      let block = first + UInt32(bit)
      try cache.modify(block, fresh: true) { _ in }
      return block
    }
    throw .noSpace
  }

  func releaseBlock(_ block: UInt32) throws(FsProtocol.Status) {
    guard block >= firstDataBlock, block < blocksCount else { throw .corrupted }
    let index = Int((block - firstDataBlock) / blocksPerGroup)
    // The counts come from the disk: one that would pass its field is corrupt.
    guard groups[index].freeBlocks < UInt16.max, freeBlocks < blocksCount else {
      print("FSD: group \(index)'s free block count is past its size")
      throw .corrupted
    }
    try clearBit(in: groups[index].blockBitmap, Int((block - firstDataBlock) % blocksPerGroup))
    groups[index].freeBlocks += 1
    freeBlocks += 1
    try storeCounts(group: index)
  }

  /// A free inode number, zeroed on disk, preferring `group`.
  func allocateInode(near group: Int, directory: Bool) throws(FsProtocol.Status) -> UInt32 {
    guard !readOnly else { throw .readOnly }
    guard freeInodes > 0 else { throw .noSpace }
    for step in 0..<groups.count {
      let index = (group + step) % groups.count
      guard groups[index].freeInodes > 0 else { continue }
      // The last group may hold fewer inodes; a group past the count (its descriptor
      // says it has free ones, the superblock that it has none) is corrupt.
      let before = UInt64(index) * UInt64(inodesPerGroup)
      guard before < UInt64(inodesCount) else {
        print("FSD: group \(index) counts free inodes past the inode count")
        throw .corrupted
      }
      let inGroup = Int(min(UInt64(inodesPerGroup), UInt64(inodesCount) - before))
      let reserved = index == 0 ? Int(firstInode - 1) : 0  // inodes 1 to firstInode-1 are the system's
      guard let bit = try takeFreeBit(in: groups[index].inodeBitmap, limit: inGroup, from: reserved) else {
        print("FSD: group \(index) counts free inodes its bitmap lacks")
        throw .corrupted
      }
      groups[index].freeInodes -= 1
      if directory { groups[index].usedDirectories &+= 1 }  // a hint to e2fsck, not a limit
      freeInodes -= 1
      try storeCounts(group: index)
      let number = UInt32(index) * inodesPerGroup + UInt32(bit) + 1
      let (block, offset) = try inodeLocation(number)
      let size = inodeSize
      try cache.modify(block) { bytes in _ = (bytes + offset).initializeMemory(as: UInt8.self, repeating: 0, count: size) }
      return number
    }
    throw .noSpace
  }

  func releaseInode(_ number: UInt32, directory: Bool) throws(FsProtocol.Status) {
    guard number >= firstInode, number <= inodesCount else { throw .corrupted }
    let index = Int((number - 1) / inodesPerGroup)
    guard groups[index].freeInodes < UInt16.max, freeInodes < inodesCount else {
      print("FSD: group \(index)'s free inode count is past its size")
      throw .corrupted
    }
    try clearBit(in: groups[index].inodeBitmap, Int((number - 1) % inodesPerGroup))
    groups[index].freeInodes += 1
    if directory && groups[index].usedDirectories > 0 { groups[index].usedDirectories -= 1 }
    freeInodes += 1
    try storeCounts(group: index)
  }

  func group(of inode: UInt32) -> Int { Int((inode - 1) / inodesPerGroup) % max(groups.count, 1) }

  private func takeFreeBit(in bitmap: UInt32, limit: Int, from start: Int = 0) throws(FsProtocol.Status) -> Int? {
    try cache.modify(bitmap) { bytes in
      var bit = start
      while bit < limit {
        let byte = bytes.u8(bit / 8)
        if byte == 0xff && bit % 8 == 0 {
          bit += 8
          continue
        }
        if byte & (1 << UInt8(bit % 8)) == 0 {
          bytes.set8(bit / 8, byte | (1 << UInt8(bit % 8)))
          return bit
        }
        bit += 1
      }
      return nil
    }
  }

  private func clearBit(in bitmap: UInt32, _ bit: Int) throws(FsProtocol.Status) {
    try cache.modify(bitmap) { bytes throws(FsProtocol.Status) in
      let byte = bytes.u8(bit / 8)
      guard byte & (1 << UInt8(bit % 8)) != 0 else {
        print("FSD: freeing something the bitmap says is free")
        throw .corrupted
      }
      bytes.set8(bit / 8, byte & ~(1 << UInt8(bit % 8)))
    }
  }

  /// A block number read from the disk, if it is one a file may use.
  func checked(_ block: UInt32) throws(FsProtocol.Status) -> UInt32 {
    guard block == 0 || (block >= firstDataBlock && block < blocksCount) else {
      print("FSD: block number \(block) is outside the filesystem")
      throw .corrupted
    }
    return block
  }
}
