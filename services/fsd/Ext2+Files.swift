// File contents: the block map (twelve direct blocks, then single, double and triple
// indirect tables), reading, writing with growth, and truncation.

extension Ext2 {
  private var sectorsPerBlock: UInt32 { UInt32(blockSize / 512) }

  /// The largest file the block map can hold, in blocks.
  var maximumBlocks: UInt64 {
    let pointers = pointersPerBlock
    return 12 + pointers + pointers * pointers + pointers * pointers * pointers
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
          guard next == block + UInt32(run), !cache.isCached(next) else { break }
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
    guard (offset + UInt64(length) + size - 1) / size <= maximumBlocks else { throw .badRequest }
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
    let size = UInt64(blockSize)
    guard (newSize + size - 1) / size <= maximumBlocks else { throw .badRequest }
    if newSize < inode.size && inode.hasBlockMap {
      let keep = (newSize + size - 1) / size
      let had = (inode.size + size - 1) / size
      // The tail of the last kept block reads as zeros if the file grows again.
      if newSize % size != 0 {
        let block = try map(&inode, newSize / size)
        let from = Int(newSize % size)
        if block != 0 { try cache.modify(block) { bytes in _ = (bytes + from).initializeMemory(as: UInt8.self, repeating: 0, count: blockSize - from) } }
      }
      var index = keep
      while index < had {
        try release(&inode, index)
        index += 1
      }
      try prune(&inode)
    }
    inode.size = newSize
    inode.mtime = now
    inode.ctime = inode.mtime
    try store(inode)
  }

  /// Frees every block of the file (it is being deleted).
  func releaseAll(_ inode: inout Inode) throws(FsProtocol.Status) {
    guard inode.hasBlockMap else { return }
    let size = UInt64(blockSize)
    let had = (inode.size + size - 1) / size
    var index: UInt64 = 0
    while index < had {
      try release(&inode, index)
      index += 1
    }
    try prune(&inode)
  }

  /// Frees data block `index` and clears the pointer to it.
  private func release(_ inode: inout Inode, _ index: UInt64) throws(FsProtocol.Status) {
    if index < 12 {
      let block = try checked(inode.block[Int(index)])
      if block != 0 {
        try releaseBlock(block)
        inode.block[Int(index)] = 0
        inode.sectors = inode.sectors &- sectorsPerBlock
      }
      return
    }
    let pointers = pointersPerBlock
    guard let (slot, levels, first) = indirectPlace(index) else { return }
    var rest = first
    var table = try checked(inode.block[slot])
    var level = levels - 1
    while table != 0 {
      var divisor: UInt64 = 1
      for _ in 0..<level { divisor *= pointers }
      let entry = Int(rest / divisor)
      rest %= divisor
      let next = try checked(try cache.read(table) { bytes in bytes.u32(entry * 4) })
      if level == 0 {
        if next != 0 {
          try releaseBlock(next)
          try cache.modify(table) { bytes in bytes.set32(entry * 4, 0) }
          inode.sectors = inode.sectors &- sectorsPerBlock
        }
        return
      }
      table = next
      level -= 1
    }
  }

  /// Frees indirect tables that no longer point at anything.
  private func prune(_ inode: inout Inode) throws(FsProtocol.Status) {
    for (slot, levels) in [(12, 1), (13, 2), (14, 3)] {
      let table = try checked(inode.block[slot])
      if table != 0, try pruneTable(table, level: levels, &inode) {
        inode.block[slot] = 0
      }
    }
  }

  /// True when `table` held nothing and was freed.
  private func pruneTable(_ table: UInt32, level: Int, _ inode: inout Inode) throws(FsProtocol.Status) -> Bool {
    let count = blockSize / 4
    var empty = true
    for entry in 0..<count {
      let child = try checked(try cache.read(table) { bytes in bytes.u32(entry * 4) })
      guard child != 0 else { continue }
      if level > 1, try pruneTable(child, level: level - 1, &inode) {
        try cache.modify(table) { bytes in bytes.set32(entry * 4, 0) }
      } else {
        empty = false
      }
    }
    if empty {
      try releaseBlock(table)
      inode.sectors = inode.sectors &- sectorsPerBlock
    }
    return empty
  }
}
