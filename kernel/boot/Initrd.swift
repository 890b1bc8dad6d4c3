// The initrd: a ustar archive GRUB loads as the module named "initrd", holding the
// programs that run before any disk is up. Read in place through the direct map.
// Every header is checked once, at load (magic, checksum, octal fields, size within
// the archive), and the files are listed; a bad archive ends the listing, never a wild
// read. Finding a file is then a name comparison per file (process_spawn's path).

struct InitrdFile {
  let name: [UInt8]
  let bytes: UnsafeRawBufferPointer
}

enum Initrd {
  static let moduleName: StaticString = "initrd"
  nonisolated(unsafe) private static var archive: UnsafeRawBufferPointer? = nil
  /// Every regular file, checked, in archive order; set once at load.
  nonisolated(unsafe) private static var files: [InitrdFile] = []

  /// Finds the module and lists its files; returns how many, or nil without an initrd.
  @discardableResult
  static func load(_ boot: BootInfo) -> Int? {
    guard let module = boot.module(named: moduleName) else { return nil }
    archive = UnsafeRawBufferPointer(start: DirectMap.pointer(physical: module.start), count: Int(module.end - module.start))
    var listed: [InitrdFile] = []
    forEachFile { listed.append($0) }
    files = listed
    kprint("INITRD: \(files.count) files, \(module.end - module.start) bytes")
    return files.count
  }

  /// The file at `path` (no leading slash), if the archive holds one.
  static func find<S: Collection<UInt8>>(_ path: S) -> InitrdFile? {
    for index in files.indices where files[index].name.elementsEqual(path) { return files[index] }
    return nil
  }

  private static let blockSize = 512

  private static func forEachFile(_ body: (InitrdFile) -> Void) {
    guard let archive else { return }
    var offset = 0
    while offset + blockSize <= archive.count {
      let header = UnsafeRawBufferPointer(rebasing: archive[offset..<(offset + blockSize)])
      if header.allSatisfy({ $0 == 0 }) { return }  // end of archive
      guard header[257..<262].elementsEqual("ustar".utf8), checksumMatches(header),
        let size = octal(header[124..<136]), size <= archive.count - offset - blockSize
      else {
        kprint("INITRD: malformed header at offset \(offset); stopping")
        return
      }
      let typeFlag = header[156]
      if typeFlag == UInt8(ascii: "0") || typeFlag == 0 {
        var name: [UInt8] = []
        let prefix = header[345..<500].prefix { $0 != 0 }
        if !prefix.isEmpty { name += prefix; name.append(UInt8(ascii: "/")) }
        name += header[0..<100].prefix { $0 != 0 }
        let data = UnsafeRawBufferPointer(rebasing: archive[(offset + blockSize)..<(offset + blockSize + size)])
        body(InitrdFile(name: name, bytes: data))
      }
      offset += blockSize + (size + blockSize - 1) / blockSize * blockSize
    }
  }

  /// The header checksum: the byte sum with the checksum field read as spaces.
  private static func checksumMatches(_ header: UnsafeRawBufferPointer) -> Bool {
    guard let stored = octal(header[148..<156]) else { return false }
    var sum = 0
    for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 0x20 : Int(byte) }
    return sum == stored
  }

  private static func octal<C: Collection<UInt8>>(_ field: C) -> Int? {
    var value = 0
    var digits = 0
    for byte in field {
      if byte == 0 || byte == 0x20 { if digits > 0 { break } else { continue } }
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), value < Int.max / 8 else { return nil }
      value = value * 8 + Int(byte - UInt8(ascii: "0"))
      digits += 1
    }
    return digits > 0 ? value : nil
  }
}
