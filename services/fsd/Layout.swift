// Reading and writing little-endian fields of on-disk structures, and the ext2
// structures fsd uses (revision 1: "The Second Extended File System", Poirier).

extension UnsafeMutableRawPointer {
  func u8(_ at: Int) -> UInt8 { load(fromByteOffset: at, as: UInt8.self) }
  func u16(_ at: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt16.self)) }
  func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
  func set8(_ at: Int, _ value: UInt8) { storeBytes(of: value, toByteOffset: at, as: UInt8.self) }
  func set16(_ at: Int, _ value: UInt16) { storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt16.self) }
  func set32(_ at: Int, _ value: UInt32) { storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt32.self) }
}

/// An inode's fields fsd uses; the rest of its bytes are left as they are on disk.
struct Inode {
  var number: UInt32 = 0
  var mode: UInt16 = 0
  var size: UInt64 = 0
  var atime: UInt32 = 0
  var ctime: UInt32 = 0
  var mtime: UInt32 = 0
  var dtime: UInt32 = 0
  var links: UInt16 = 0
  /// 512-byte sectors held, indirect blocks included.
  var sectors: UInt32 = 0
  var flags: UInt32 = 0
  var block = InlineArray<15, UInt32>(repeating: 0)

  static let typeMask: UInt16 = 0xf000
  static let regular: UInt16 = 0x8000
  static let directory: UInt16 = 0x4000
  static let symlink: UInt16 = 0xa000
  /// A hashed-index directory (dir_index): fsd keeps directories linear and clears it.
  static let indexFlag: UInt32 = 0x1000

  var isDirectory: Bool { mode & Self.typeMask == Self.directory }
  var isRegular: Bool { mode & Self.typeMask == Self.regular }
  var isSymlink: Bool { mode & Self.typeMask == Self.symlink }

  var kind: FsProtocol.FileKind {
    isDirectory ? .directory : isSymlink ? .symlink : .regular
  }

  /// A fast symlink keeps its target in the block array: it has no blocks to walk.
  var hasBlockMap: Bool { !(isSymlink && sectors == 0) }

  init() {}

  init(number: UInt32, from bytes: UnsafeMutableRawPointer) {
    self.number = number
    mode = bytes.u16(0)
    size = UInt64(bytes.u32(4))
    atime = bytes.u32(8)
    ctime = bytes.u32(12)
    mtime = bytes.u32(16)
    dtime = bytes.u32(20)
    links = bytes.u16(26)
    sectors = bytes.u32(28)
    flags = bytes.u32(32)
    for index in 0..<15 { block[index] = bytes.u32(40 + index * 4) }
    if isRegular { size |= UInt64(bytes.u32(108)) << 32 }  // large_file
  }

  func store(into bytes: UnsafeMutableRawPointer) {
    bytes.set16(0, mode)
    bytes.set32(4, UInt32(truncatingIfNeeded: size))
    bytes.set32(8, atime)
    bytes.set32(12, ctime)
    bytes.set32(16, mtime)
    bytes.set32(20, dtime)
    bytes.set16(26, links)
    bytes.set32(28, sectors)
    bytes.set32(32, flags)
    for index in 0..<15 { bytes.set32(40 + index * 4, block[index]) }
    if isRegular { bytes.set32(108, UInt32(truncatingIfNeeded: size >> 32)) }
  }
}

/// One block group's descriptor.
struct GroupDescriptor {
  var blockBitmap: UInt32 = 0
  var inodeBitmap: UInt32 = 0
  var inodeTable: UInt32 = 0
  var freeBlocks: UInt16 = 0
  var freeInodes: UInt16 = 0
  var usedDirectories: UInt16 = 0
}

enum DirectoryEntry {
  static let headerBytes = 8

  /// Bytes an entry with a name of `length` needs (4-aligned).
  static func size(nameLength: Int) -> Int { (headerBytes + nameLength + 3) & ~3 }

  /// ext2's file_type byte for a mode.
  static func fileType(_ mode: UInt16) -> UInt8 {
    switch mode & Inode.typeMask {
    case Inode.regular: 1
    case Inode.directory: 2
    case Inode.symlink: 7
    default: 0
    }
  }
}
