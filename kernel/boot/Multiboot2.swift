// Reads the Multiboot2 boot information (Multiboot2 spec §3.6) into a BootInfo. Every
// read is checked against the structure's own total_size and the tag's own size; a
// malformed list becomes a BootInfoError naming the offset, never a wild read.
import X86Shim

enum BootInfoError: Error, Equatable {
  case wrongMagic(UInt32)
  case outsideDirectMap(address: UInt64)
  case misaligned(address: UInt64)
  case badTotalSize(UInt32)
  case tagTooSmall(offset: Int, size: UInt32)
  case tagOverruns(offset: Int, size: UInt32)
  case badEndTag(offset: Int, size: UInt32)
  case missingEndTag
  case unterminatedString(tag: UInt32, offset: Int)
  case badMemoryMapEntrySize(UInt32)
  case badModuleRange(start: UInt32, end: UInt32)

  var reason: LogLine {
    switch self {
    case .wrongMagic(let magic):
      "boot info: loader magic 0x\(hex: magic) is not Multiboot2's 0x36d76289"
    case .outsideDirectMap(let address):
      "boot info: structure at 0x\(hex: address) is outside the early direct map"
    case .misaligned(let address):
      "boot info: structure at 0x\(hex: address) is not 8-byte aligned"
    case .badTotalSize(let size):
      "boot info: total_size \(size) is impossible"
    case .tagTooSmall(let offset, let size):
      "boot info: tag at offset \(offset) has size \(size), below the 8-byte header"
    case .tagOverruns(let offset, let size):
      "boot info: tag at offset \(offset) with size \(size) runs past total_size"
    case .badEndTag(let offset, let size):
      "boot info: end tag at offset \(offset) has size \(size), not 8"
    case .missingEndTag:
      "boot info: tag list has no end tag"
    case .unterminatedString(let tag, let offset):
      "boot info: string in tag type \(tag) at offset \(offset) has no NUL"
    case .badMemoryMapEntrySize(let size):
      "boot info: memory map entry_size \(size) is not a multiple of 8 of at least 24"
    case .badModuleRange(let start, let end):
      "boot info: module range 0x\(hex: start)-0x\(hex: end) is inverted or unmapped"
    }
  }
}

enum Multiboot2 {
  static let bootloaderMagic: UInt32 = 0x36d7_6289
  /// GRUB's structures are a few KiB; anything near this is garbage.
  static let maximumTotalSize: UInt32 = 1 << 20

  private enum TagType {
    static let end: UInt32 = 0
    static let commandLine: UInt32 = 1
    static let bootloaderName: UInt32 = 2
    static let module: UInt32 = 3
    static let memoryMap: UInt32 = 6
    static let acpiOld: UInt32 = 14
    static let acpiNew: UInt32 = 15
  }

  /// Locates the structure GRUB passed in EBX (a physical address) through the
  /// direct map and parses it.
  static func read(magic: UInt32, physical: UInt64) throws(BootInfoError) -> BootInfo {
    guard magic == bootloaderMagic else { throw .wrongMagic(magic) }
    guard physical & 7 == 0 else { throw .misaligned(address: physical) }
    guard physical < EARLY_DIRECT_MAP_SIZE - 8 else {
      throw .outsideDirectMap(address: physical)
    }
    // SAFETY: the first 8 bytes lie inside the direct map (checked above); the full
    // length is checked against the map before the buffer is formed.
    let header = DirectMap.pointer(physical: physical)
    let totalSize = header.load(as: UInt32.self)
    guard totalSize >= 16, totalSize <= maximumTotalSize else { throw .badTotalSize(totalSize) }
    guard physical + UInt64(totalSize) <= EARLY_DIRECT_MAP_SIZE else {
      throw .outsideDirectMap(address: physical + UInt64(totalSize))
    }
    var info = try parse(UnsafeRawBufferPointer(start: header, count: Int(totalSize)))
    info.infoStart = physical
    info.infoEnd = physical + UInt64(totalSize)
    return info
  }

  /// Parses a whole boot information structure held in `bytes`.
  static func parse(_ bytes: UnsafeRawBufferPointer) throws(BootInfoError) -> BootInfo {
    guard bytes.count >= 8 else { throw .badTotalSize(UInt32(truncatingIfNeeded: bytes.count)) }
    let totalSize = bytes.loadUnaligned(as: UInt32.self)
    guard totalSize >= 16, Int(totalSize) <= bytes.count else { throw .badTotalSize(totalSize) }
    let total = Int(totalSize)

    var info = BootInfo()
    var offset = 8
    while true {
      guard total - offset >= 8 else { throw .missingEndTag }
      let type = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
      let size = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
      guard size >= 8 else { throw .tagTooSmall(offset: offset, size: size) }
      guard Int(size) <= total - offset else { throw .tagOverruns(offset: offset, size: size) }
      if type == TagType.end {
        guard size == 8 else { throw .badEndTag(offset: offset, size: size) }
        return info
      }
      let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 8)..<(offset + Int(size))])
      switch type {
      case TagType.commandLine:
        info.commandLine = try string(payload, tag: type, offset: offset)
      case TagType.bootloaderName:
        info.bootloaderName = try string(payload, tag: type, offset: offset)
      case TagType.module:
        info.modules.append(try module(payload, offset: offset))
      case TagType.memoryMap:
        info.memoryMap = try memoryMap(payload)
      case TagType.acpiNew:
        info.rsdp = Array(payload)  // the ACPI 2.0 copy wins over the 1.0 one
      case TagType.acpiOld where info.rsdp.isEmpty:
        info.rsdp = Array(payload)
      default:
        break  // tags the kernel does not use yet (framebuffer, ACPI, EFI, ...)
      }
      // Tags start on 8-byte boundaries; `size` excludes the padding.
      let advance = (Int(size) + 7) & ~7
      guard advance <= total - offset else { throw .missingEndTag }
      offset += advance
    }
  }

  private static func string(
    _ payload: UnsafeRawBufferPointer, tag: UInt32, offset: Int
  ) throws(BootInfoError) -> [UInt8] {
    guard let end = payload.firstIndex(of: 0) else {
      throw .unterminatedString(tag: tag, offset: offset)
    }
    return Array(payload[..<end])
  }

  private static func module(
    _ payload: UnsafeRawBufferPointer, offset: Int
  ) throws(BootInfoError) -> BootModule {
    guard payload.count >= 9 else { throw .tagTooSmall(offset: offset, size: UInt32(payload.count + 8)) }
    let start = payload.loadUnaligned(as: UInt32.self)
    let end = payload.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    guard start <= end, UInt64(end) <= EARLY_DIRECT_MAP_SIZE else {
      throw .badModuleRange(start: start, end: end)
    }
    let name = try string(
      UnsafeRawBufferPointer(rebasing: payload[8...]), tag: TagType.module, offset: offset)
    return BootModule(start: UInt64(start), end: UInt64(end), name: name)
  }

  private static func memoryMap(_ payload: UnsafeRawBufferPointer) throws(BootInfoError) -> [MemoryRegion] {
    guard payload.count >= 8 else { throw .badMemoryMapEntrySize(0) }
    let entrySize = payload.loadUnaligned(as: UInt32.self)
    guard entrySize >= 24, entrySize % 8 == 0 else { throw .badMemoryMapEntrySize(entrySize) }
    var regions: [MemoryRegion] = []
    var entry = 8
    while payload.count - entry >= Int(entrySize) {
      let base = payload.loadUnaligned(fromByteOffset: entry, as: UInt64.self)
      let length = payload.loadUnaligned(fromByteOffset: entry + 8, as: UInt64.self)
      let rawKind = payload.loadUnaligned(fromByteOffset: entry + 16, as: UInt32.self)
      // Unknown kinds are reserved: the spec says so, and it is the safe reading.
      regions.append(MemoryRegion(base: base, length: length, kind: .init(rawValue: rawKind) ?? .reserved))
      entry += Int(entrySize)
    }
    return regions
  }
}
