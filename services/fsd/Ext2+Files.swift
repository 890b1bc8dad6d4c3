// File contents: the block map (twelve direct blocks, then single, double and triple
// indirect tables), reading, writing with growth, and truncation.
//
// Offsets and sizes come from clients (any 64-bit value) and from the disk: each is
// checked against `maximumSize` before any arithmetic that could wrap, so a request
// past what ext2 can hold is bad_request, never a trap. Truncation and deletion walk
// the block map tree and skip holes (a zero table pointer is a whole absent subtree),
// so they cost what the file has allocated, not its logical size.

extension Ext2 {
  private var sectorsPerBlock: UInt32 { UInt32(blockSize / 512) }

  /// The largest file the block map can hold, in blocks.
  var maximumBlocks: UInt64 {
    let pointers = pointersPerBlock
    return 12 + pointers + pointers * pointers + pointers * pointers * pointers
  }

  /// The largest regular file in bytes, as Linux's ext2 computes it: what the block map
  /// addresses, less what i_blocks (512-byte sectors in 32 bits, tables included) can
  /// count; 2 GiB - 1 without large_file (revision 0 has no such feature).
  var maximumSize: UInt64 {
    let pointers = pointersPerBlock
    let countable = (UInt64(UInt32.max) / UInt64(sectorsPerBlock)) - (3 + 2 * pointers + pointers * pointers)
    let bytes = min(maximumBlocks, countable) * UInt64(blockSize)
    return largeFiles ? bytes : min(bytes, UInt64(Int32.max))
  }

  /// Where block `index` (12 or more) of a file hangs: under the inode's indirect slot
  /// 12, 13 or 14, through `levels` tables, at position `rest` within them; nil past
  /// the largest file.
  private func indirectPlace(_ index: UInt64) -> (slot: Int, levels: Int, rest: UInt64)? {
    let pointers = pointersPerBlock
    var rest = index - 12
    if rest < pointers { return (12, 1, rest) }
    rest -= pointers
    if rest < pointers * pointers { return (13, 2, rest) }
    rest -= pointers * pointers
    return rest < pointers * pointers * pointers ? (14, 3, rest) : nil
  }

  /// The disk block holding block `index` of the file; 0 for a hole. With `allocate`,
  /// holes (and the tables on the way) are filled with new zeroed blocks.
  func map(_ inode: inout Inode, _ index: UInt64, allocate: Bool = false) throws(FsProtocol.Status) -> UInt32 {
    guard inode.hasBlockMap else { return 0 }
    let near = group(of: inode.number)
    if index < 12 {
      var block = try checked(inode.block[Int(index)])
      if block == 0 && allocate {
        block = try allocateBlock(near: near)
        inode.block[Int(index)] = block
        inode.sectors &+= sectorsPerBlock
      }
      return block
    }
    let pointers = pointersPerBlock
    guard let (slot, levels, first) = indirectPlace(index) else { throw .badRequest }
    var rest = first
    var table = try checked(inode.block[slot])
    if table == 0 {
      guard allocate else { return 0 }
      table = try allocateBlock(near: near)
      inode.block[slot] = table
      inode.sectors &+= sectorsPerBlock
    }
    var level = levels - 1
    while true {
      var divisor: UInt64 = 1
      for _ in 0..<level { divisor *= pointers }
      let entry = Int(rest / divisor)
      rest %= divisor
      var next = try checked(try cache.read(table) { bytes in bytes.u32(entry * 4) })
      if next == 0 {
        guard allocate else { return 0 }
        next = try allocateBlock(near: near)
        let value = next
        try cache.modify(table) { bytes in bytes.set32(entry * 4, value) }
        inode.sectors &+= sectorsPerBlock
      }
      if level == 0 { return next }
      table = next
      level -= 1
    }
  }

  /// Copies up to `length` bytes from `offset` into `destination`; returns how many
  /// (fewer at the end of the file). Runs of uncached contiguous blocks are read in
  /// one request each, through the bulk area.
  func read(_ file: Inode, offset: UInt64, length: Int, into destination: UnsafeMutableRawPointer) throws(FsProtocol.Status) -> Int {
    guard offset < file.size else { return 0 }
    var inode = file
    let total = Int(min(UInt64(length), file.size - offset))
    var done = 0
    let size = UInt64(blockSize)
    while done < total {
      let position = offset + UInt64(done)
      let index = position / size
      let within = Int(position % size)
      let block = try map(&inode, index)
      var count = min(blockSize - within, total - done)
      if block == 0 {
        (destination + done).initializeMemory(as: UInt8.self, repeating: 0, count: count)
      } else if cache.isCached(block) || within != 0 {
        try cache.read(block) { bytes in (destination + done).copyMemory(from: bytes + within, byteCount: count) }
      } else {
        // A run of whole blocks, contiguous on disk and not cached.
        var run = 1
        let most = min(BlockCache.bulkBytes / blockSize, (total - done) / blockSize)
        while run < most {
          let next = try map(&inode, index + UInt64(run))
          guard UInt64(next) == UInt64(block) + UInt64(run), !cache.isCached(next) else { break }
          run += 1
        }
        if run == 1 && total - done < blockSize {
          try cache.read(block) { bytes in (destination + done).copyMemory(from: bytes, byteCount: count) }
        } else {
          count = run * blockSize
          let bulk = try cache.readBulk(block, count: run)
          (destination + done).copyMemory(from: bulk, byteCount: count)
        }
      }
      done += count
    }
    return total
  }

  /// Writes `length` bytes from `source` at `offset`, allocating blocks and growing
  /// the file; stores the inode.
  func write(_ inode: inout Inode, offset: UInt64, length: Int, from source: UnsafeRawPointer) throws(FsProtocol.Status) {
    guard !readOnly else { throw .readOnly }
    let size = UInt64(blockSize)
    let limit = maximumSize
    guard offset <= limit, UInt64(length) <= limit - offset else { throw .badRequest }
    var done = 0
    defer {
      if offset + UInt64(done) > inode.size { inode.size = offset + UInt64(done) }
      inode.mtime = now
      inode.ctime = inode.mtime
      try? store(inode)
    }
    while done < length {
      let position = offset + UInt64(done)
      let within = Int(position % size)
      let count = min(blockSize - within, length - done)
      let block = try map(&inode, position / size, allocate: true)
      let chunk = source + done
      try cache.modify(block) { bytes in (bytes + within).copyMemory(from: chunk, byteCount: count) }
      done += count
    }
  }

  /// Sets the size; blocks wholly past the new end are freed (and tables left empty).
  func truncate(_ inode: inout Inode, to newSize: UInt64) throws(FsProtocol.Status) {
    guard !readOnly else { throw .readOnly }
    guard newSize <= maximumSize else { throw .badRequest }
    let size = UInt64(blockSize)
    if newSize < inode.size && inode.hasBlockMap {
      // The tail of the last kept block reads as zeros if the file grows again.
      if newSize % size != 0 {
        let block = try map(&inode, newSize / size)
        let from = Int(newSize % size)
        if block != 0 { try cache.modify(block) { bytes in _ = (bytes + from).initializeMemory(as: UInt8.self, repeating: 0, count: blockSize - from) } }
      }
      try release(&inode, from: newSize / size + (newSize % size == 0 ? 0 : 1))
    }
    inode.size = newSize
    inode.mtime = now
    inode.ctime = inode.mtime
    try store(inode)
  }

  /// Frees every block of the file (it is being deleted), whatever its size says.
  func releaseAll(_ inode: inout Inode) throws(FsProtocol.Status) {
    guard inode.hasBlockMap else { return }
    try release(&inode, from: 0)
  }

  /// Frees every data block at file index `keep` or later, and every table left empty.
  private func release(_ inode: inout Inode, from keep: UInt64) throws(FsProtocol.Status) {
    var index = keep
    while index < 12 {
      let block = try checked(inode.block[Int(index)])
      if block != 0 {
        try releaseBlock(block)
        inode.block[Int(index)] = 0
        inode.sectors = inode.sectors &- sectorsPerBlock
      }
      index += 1
    }
    let pointers = pointersPerBlock
    var first: UInt64 = 12
    var span = pointers  // file blocks under the slot's table
    for (slot, levels) in [(12, 1), (13, 2), (14, 3)] {
      let table = try checked(inode.block[slot])
      if table != 0 && first + span > keep, try releaseTree(table, levels: levels, first: first, keep: keep, &inode) {
        inode.block[slot] = 0
      }
      first += span
      span *= pointers
    }
  }

  /// Frees what `table` (`levels` tables above the data, covering file blocks from
  /// `first`) holds at index `keep` or later; only subtrees that are there are visited.
  /// True when the table was left empty and freed.
  private func releaseTree(_ table: UInt32, levels: Int, first: UInt64, keep: UInt64,
                           _ inode: inout Inode) throws(FsProtocol.Status) -> Bool {
    let pointers = Int(pointersPerBlock)
    // A copy of the table: the cache slot may be evicted by what is freed below.
    var entries = [UInt32](repeating: 0, count: pointers)
    try cache.read(table) { bytes in
      for entry in 0..<pointers { entries[entry] = bytes.u32(entry * 4) }
    }
    var childSpan: UInt64 = 1
    for _ in 1..<levels { childSpan *= UInt64(pointers) }
    var empty = true
    var changed = false
    for entry in 0..<pointers {
      let child = try checked(entries[entry])
      guard child != 0 else { continue }
      let childFirst = first + UInt64(entry) * childSpan
      if childFirst + childSpan <= keep {
        empty = false  // wholly kept
        continue
      }
      if levels == 1 {
        try releaseBlock(child)
        inode.sectors = inode.sectors &- sectorsPerBlock
      } else if try !releaseTree(child, levels: levels - 1, first: childFirst, keep: keep, &inode) {
        empty = false
        continue
      }
      entries[entry] = 0
      changed = true
    }
    if empty {
      try releaseBlock(table)
      inode.sectors = inode.sectors &- sectorsPerBlock
    } else if changed {
      try cache.modify(table) { bytes in
        for entry in 0..<pointers { bytes.set32(entry * 4, entries[entry]) }
      }
    }
    return empty
  }
}
