// Directories: entries in their blocks, lookup, paths, and the operations that change
// the tree (create, mkdir, unlink, rename). Directories are kept linear: one that
// carries a hashed index (dir_index) loses the index flag when fsd changes it, which
// leaves a valid linear directory (the index root is an ordinary block to ext2).

struct Entry {
  var inode: UInt32
  var name: [UInt8]
  var type: UInt8
}

extension Ext2 {
  static let pathComponentsMax = 64
  /// Most links an inode may have (Linux's EXT2_LINK_MAX): a directory's count grows
  /// with each subdirectory, and a 16-bit count from the disk must never wrap.
  static let linkMax: UInt16 = 32000

  /// Calls `body` with each entry of directory `dir` (block, offset in it, the entry's
  /// inode, record length, name), from byte `start` of the directory; `body` returns
  /// true to stop. Checks every entry. Returns where it stopped (the stopping entry's
  /// position), or nil at the end.
  @discardableResult
  func forEachEntry(_ dir: Inode, from start: UInt64 = 0,
                    _ body: (UInt32, Int, UInt32, Int, UnsafeRawBufferPointer) throws(FsProtocol.Status) -> Bool) throws(FsProtocol.Status) -> UInt64? {
    guard dir.isDirectory else { throw .notDirectory }
    var inode = dir
    let blocks = dir.size / UInt64(blockSize) + (dir.size % UInt64(blockSize) == 0 ? 0 : 1)  // a size from the disk: no + that wraps
    var index = start / UInt64(blockSize)
    let fileType = hasFileType
    let size = blockSize
    var firstOffset = Int(start % UInt64(blockSize))
    while index < blocks {
      let block = try map(&inode, index)
      index += 1
      guard block != 0 else {
        print("FSD: directory \(dir.number) has a hole")
        throw .corrupted
      }
      let skipTo = firstOffset
      firstOffset = 0
      let stop = try cache.read(block) { bytes throws(FsProtocol.Status) -> Int? in
        var offset = 0
        while offset < size {
          let number = bytes.u32(offset)
          let recordLength = Int(bytes.u16(offset + 4))
          let nameLength = fileType ? Int(bytes.u8(offset + 6)) : Int(bytes.u16(offset + 6))
          guard recordLength >= DirectoryEntry.headerBytes, recordLength % 4 == 0, recordLength <= size - offset,
            nameLength <= recordLength - DirectoryEntry.headerBytes, number <= inodesCount
          else {
            print("FSD: directory \(dir.number): a bad entry at block \(block) offset \(offset)")
            throw .corrupted
          }
          if offset >= skipTo,
            try body(block, offset, number, recordLength, UnsafeRawBufferPointer(start: bytes + offset + 8, count: nameLength)) {
            return offset
          }
          offset += recordLength
        }
        return nil
      }
      if let stop { return (index - 1) * UInt64(size) + UInt64(stop) }
    }
    return nil
  }

  /// The inode number `name` names in `dir`, if any.
  func lookup(_ dir: Inode, _ name: [UInt8]) throws(FsProtocol.Status) -> UInt32? {
    var found: UInt32? = nil
    try forEachEntry(dir) { _, _, number, _, entryName in
      guard number != 0, entryName.elementsEqual(name) else { return false }
      found = number
      return true
    }
    return found
  }

  /// Splits an absolute path into its names (at most pathComponentsMax, each 1 to 255
  /// bytes; "." components dropped, ".." kept for the walk).
  func components(_ path: UnsafeRawBufferPointer) throws(FsProtocol.Status) -> [[UInt8]] {
    guard path.count >= 1, path.count <= Int(FsProtocol.pathMax) else { throw path.count == 0 ? .badRequest : .nameTooLong }
    guard path[0] == UInt8(ascii: "/"), !path.contains(0) else { throw .badRequest }
    var parts = [[UInt8]]()
    for part in path.split(separator: UInt8(ascii: "/")) {
      guard part.count <= Int(FsProtocol.nameMax) else { throw .nameTooLong }
      if part.count == 1 && part[part.startIndex] == UInt8(ascii: ".") { continue }
      parts.append(Array(part))
      guard parts.count <= Self.pathComponentsMax else { throw .nameTooLong }
    }
    return parts
  }

  /// Walks `names` from the root: the inode they name. Symbolic links are not followed.
  func walk(_ names: ArraySlice<[UInt8]>) throws(FsProtocol.Status) -> Inode {
    var current = try inode(Self.rootInode)
    for name in names {
      guard current.isDirectory else { throw .notDirectory }
      guard let next = try lookup(current, name) else { throw .notFound }
      current = try inode(next)
      guard current.links > 0, current.mode != 0 else {
        print("FSD: a directory entry names free inode \(next)")
        throw .corrupted
      }
    }
    return current
  }

  func resolve(_ path: UnsafeRawBufferPointer) throws(FsProtocol.Status) -> Inode {
    try walk(try components(path)[...])
  }

  /// The directory that would hold `path`'s last name, and that name.
  func resolveParent(_ path: UnsafeRawBufferPointer) throws(FsProtocol.Status) -> (Inode, [UInt8]) {
    let names = try components(path)
    guard let last = names.last, !(last.count == 2 && last[0] == UInt8(ascii: ".") && last[1] == UInt8(ascii: ".")) else {
      throw .badRequest  // the root, or a path ending in ".."
    }
    let parent = try walk(names.dropLast())
    guard parent.isDirectory else { throw .notDirectory }
    return (parent, last)
  }

  // MARK: - changing directories

  /// Adds `name` → `number` to `dir` (which must not hold the name), growing it by a
  /// block when no entry has room.
  func addEntry(_ dir: inout Inode, _ name: [UInt8], _ number: UInt32, type: UInt8) throws(FsProtocol.Status) {
    guard !readOnly else { throw .readOnly }
    let needed = DirectoryEntry.size(nameLength: name.count)
    var placed = false
    let fileType = hasFileType
    try forEachEntry(dir) { block, offset, entryInode, recordLength, entryName throws(FsProtocol.Status) in
      let used = entryInode == 0 ? 0 : DirectoryEntry.size(nameLength: entryName.count)
      guard recordLength - used >= needed else { return false }
      try cache.modify(block) { bytes in
        var at = offset
        var length = recordLength
        if used > 0 {
          bytes.set16(offset + 4, UInt16(used))
          at = offset + used
          length = recordLength - used
        }
        Self.writeEntry(bytes + at, number, recordLength: length, name: name, type: type, fileType: fileType)
      }
      placed = true
      return true
    }
    if !placed {
      guard dir.size <= maximumSize - UInt64(blockSize) else { throw .noSpace }
      let index = dir.size / UInt64(blockSize)
      let block = try map(&dir, index, allocate: true)
      let size = blockSize
      try cache.modify(block) { bytes in
        Self.writeEntry(bytes, number, recordLength: size, name: name, type: type, fileType: fileType)
      }
      dir.size += UInt64(blockSize)
    }
    dir.flags &= ~Inode.indexFlag
    dir.mtime = now
    dir.ctime = dir.mtime
    try store(dir)
  }

  private static func writeEntry(_ at: UnsafeMutableRawPointer, _ number: UInt32, recordLength: Int, name: [UInt8], type: UInt8,
                                 fileType: Bool) {
    at.set32(0, number)
    at.set16(4, UInt16(recordLength))
    if fileType {
      at.set8(6, UInt8(name.count))
      at.set8(7, type)
    } else {
      at.set16(6, UInt16(name.count))
    }
    for (index, byte) in name.enumerated() { at.set8(8 + index, byte) }
  }

  /// Removes `name` from `dir`: the entry merges into the one before it in its block
  /// (or, first in its block, is marked unused). Returns the inode it named.
  @discardableResult
  func removeEntry(_ dir: inout Inode, _ name: [UInt8]) throws(FsProtocol.Status) -> UInt32 {
    guard !readOnly else { throw .readOnly }
    var removed: UInt32 = 0
    var previous: (block: UInt32, offset: Int)? = nil
    try forEachEntry(dir) { block, offset, number, recordLength, entryName throws(FsProtocol.Status) in
      if previous?.block != block { previous = nil }
      guard number != 0, entryName.elementsEqual(name) else {
        previous = (block, offset)
        return false
      }
      let before = previous
      try cache.modify(block) { bytes in
        if let before {
          bytes.set16(before.offset + 4, bytes.u16(before.offset + 4) &+ UInt16(recordLength))
        } else {
          bytes.set32(offset, 0)
        }
      }
      removed = number
      return true
    }
    guard removed != 0 else { throw .notFound }
    dir.flags &= ~Inode.indexFlag
    dir.mtime = now
    dir.ctime = dir.mtime
    try store(dir)
    return removed
  }

  /// Whether a directory holds nothing but "." and "..".
  func isEmpty(_ dir: Inode) throws(FsProtocol.Status) -> Bool {
    var empty = true
    try forEachEntry(dir) { _, _, number, _, name in
      guard number != 0 else { return false }
      let dot = name.count == 1 && name[0] == UInt8(ascii: ".")
      let dotDot = name.count == 2 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: ".")
      if !dot && !dotDot { empty = false }
      return !empty
    }
    return empty
  }

  // MARK: - operations

  /// Creates a regular file at `name` in `parent`; returns it.
  func createFile(in parent: inout Inode, _ name: [UInt8], mode: UInt32) throws(FsProtocol.Status) -> Inode {
    let number = try allocateInode(near: group(of: parent.number), directory: false)
    var file = Inode()
    file.number = number
    file.mode = Inode.regular | UInt16(mode & 0o7777)
    file.links = 1
    file.atime = now
    file.ctime = file.atime
    file.mtime = file.atime
    try store(file)
    try addEntry(&parent, name, number, type: DirectoryEntry.fileType(file.mode))
    return file
  }

  func makeDirectory(in parent: inout Inode, _ name: [UInt8], mode: UInt32) throws(FsProtocol.Status) {
    guard parent.links < Self.linkMax else { throw .noSpace }  // its ".." would be one link too many
    let number = try allocateInode(near: group(of: parent.number), directory: true)
    var dir = Inode()
    dir.number = number
    dir.mode = Inode.directory | UInt16(mode & 0o7777)
    dir.links = 2
    dir.atime = now
    dir.ctime = dir.atime
    dir.mtime = dir.atime
    let block = try map(&dir, 0, allocate: true)
    let (size, fileType, parentNumber) = (blockSize, hasFileType, parent.number)
    try cache.modify(block) { bytes in
      Self.writeEntry(bytes, number, recordLength: 12, name: [UInt8(ascii: ".")], type: 2, fileType: fileType)
      Self.writeEntry(bytes + 12, parentNumber, recordLength: size - 12, name: [UInt8(ascii: "."), UInt8(ascii: ".")], type: 2,
                      fileType: fileType)
    }
    dir.size = UInt64(blockSize)
    try store(dir)
    try addEntry(&parent, name, number, type: 2)
    parent.links += 1
    try store(parent)
  }

  /// Drops one link to `number` (its entry is already gone); frees it at zero.
  /// Drops one link of inode `number`; true when that was its last and the inode is
  /// free now (so whatever fsd kept of it, such as open files, must go too).
  @discardableResult
  func dropLink(_ number: UInt32) throws(FsProtocol.Status) -> Bool {
    var target = try inode(number)
    if target.isDirectory {
      target.links = 0
    } else if target.links > 0 {
      target.links -= 1
    }
    target.ctime = now
    if target.links == 0 {
      try releaseAll(&target)
      target.dtime = now
      target.size = 0
      try store(target)
      try releaseInode(number, directory: target.isDirectory)
      return true
    }
    try store(target)
    return false
  }

  /// unlink: a file, or an empty directory. Returns the inode freed, if its last link went.
  @discardableResult
  func remove(_ path: UnsafeRawBufferPointer) throws(FsProtocol.Status) -> UInt32? {
    guard !readOnly else { throw .readOnly }
    var (parent, name) = try resolveParent(path)
    guard let number = try lookup(parent, name) else { throw .notFound }
    let target = try inode(number)
    if target.isDirectory {
      guard try isEmpty(target) else { throw .notEmpty }
    }
    try removeEntry(&parent, name)
    if target.isDirectory {
      parent.links = parent.links &- 1
      try store(parent)
    }
    return try dropLink(number) ? number : nil
  }

  /// rename: moves `from` to `to`, replacing a file or an empty directory there.
  /// Returns the replaced inode if that freed it.
  @discardableResult
  func rename(_ from: UnsafeRawBufferPointer, _ to: UnsafeRawBufferPointer) throws(FsProtocol.Status) -> UInt32? {
    guard !readOnly else { throw .readOnly }
    var (sourceParent, sourceName) = try resolveParent(from)
    guard let number = try lookup(sourceParent, sourceName) else { throw .notFound }
    let moving = try inode(number)
    let targetNames = try components(to)
    guard let targetName = targetNames.last else { throw .badRequest }
    if moving.isDirectory {
      // Not into itself: no prefix of the target may be the directory being moved.
      var walked = try inode(Self.rootInode)
      for name in targetNames.dropLast() {
        guard let next = try lookup(walked, name) else { throw .notFound }
        guard next != number else { throw .badRequest }
        walked = try inode(next)
      }
    }
    var (targetParent, _) = try resolveParent(to)
    var freed: UInt32? = nil
    if moving.isDirectory && sourceParent.number != targetParent.number && targetParent.links >= Self.linkMax { throw .noSpace }
    if let existing = try lookup(targetParent, targetName) {
      if existing == number {
        // Both names lead here: a rename cut short between its two writes (or a
        // no-op). Finish it: the source name goes, the target stays.
        guard sourceParent.number != targetParent.number || sourceName != targetName else { return nil }
        try finishMove(moving, from: &sourceParent, sourceName, to: targetParent.number)
        return nil
      }
      let replaced = try inode(existing)
      if replaced.isDirectory {
        guard moving.isDirectory, try isEmpty(replaced) else { throw .exists }
      } else if moving.isDirectory {
        throw .notDirectory
      }
      try removeEntry(&targetParent, targetName)
      if replaced.isDirectory {
        targetParent.links = targetParent.links &- 1
        try store(targetParent)
      }
      if try dropLink(existing) { freed = existing }
    }
    let sameParent = sourceParent.number == targetParent.number
    try addEntry(&targetParent, targetName, number, type: DirectoryEntry.fileType(moving.mode))
    if sameParent { sourceParent = targetParent }
    // Crash order: the new name reaches the disk before the old one goes, so a crash
    // in between leaves both names (which the next rename of the same pair finishes),
    // never neither.
    try cache.writeBack()
    try finishMove(moving, from: &sourceParent, sourceName, to: targetParent.number)
    return freed
  }

  /// The second half of a rename: the source name goes and a moved directory's ".."
  /// and its parents' link counts follow it.
  private func finishMove(_ moving: Inode, from sourceParent: inout Inode, _ sourceName: [UInt8], to newParent: UInt32) throws(FsProtocol.Status) {
    try removeEntry(&sourceParent, sourceName)
    guard moving.isDirectory && sourceParent.number != newParent else { return }
    var dir = moving
    let first = try map(&dir, 0)
    guard first != 0 else { throw .corrupted }
    let size = blockSize
    try cache.modify(first) { bytes in
      let dotLength = Int(bytes.u16(4))
      if dotLength + 8 <= size { bytes.set32(dotLength, newParent) }
    }
    sourceParent.links = sourceParent.links &- 1
    try store(sourceParent)
    var target = try inode(newParent)
    if target.links < Self.linkMax { target.links += 1 }  // checked before a move begins; never wraps
    try store(target)
  }
}
