// Checking a package archive completely, in memory, before anything is written
// (docs/packages.md has the format and its limits): the ustar structure (header
// checksums, regular files only, sizes inside the archive), MANIFEST and MANIFEST.sig
// first, the signature by a trusted key, the manifest's records and limits, and the
// payload exactly the manifest's files in its order, each with its size and SHA-256.

extension PkgProtocol.Status: Error {}
typealias PkgStatus = PkgProtocol.Status

struct PackageFile {
  var path: [UInt8]
  var mode: UInt32
  /// Where its bytes are in the archive.
  var offset: Int
  var size: Int
  var sha256: [UInt8] = []
}

struct VerifiedPackage {
  var name: [UInt8] = []
  var version: [UInt8] = []
  var summary: [UInt8] = []
  var entry: [UInt8] = []
  var manifest: Range<Int> = 0..<0
  var files: [PackageFile] = []
  var totalBytes: Int { files.reduce(0) { $0 + $1.size } }
}

enum PackageCheck {
  static let maximumFiles = 256
  static let maximumFileSize = 16 << 20
  static let maximumTotal = 64 << 20
  /// 256 file records of at most ~180 bytes, and the rest.
  static let maximumManifest = 64 << 10

  struct Entry { var name: [UInt8]; var mode: UInt32; var offset: Int; var size: Int }

  static func check(_ archive: [UInt8]) throws(PkgStatus) -> VerifiedPackage {
    let entries = try readUstar(archive)
    guard entries.count >= 2, entries[0].name == Array("MANIFEST".utf8), entries[0].size <= maximumManifest else { throw .badManifest }
    guard entries[1].name == Array("MANIFEST.sig".utf8), entries[1].size == 64 else { throw .badSignature }
    let manifest = entries[0].offset..<(entries[0].offset + entries[0].size)
    let signature = entries[1].offset..<(entries[1].offset + 64)
    let trusted = archive.withUnsafeBytes { bytes in
      TrustedKeys.all.contains { key in
        key.withUnsafeBytes { Ed25519.verify(signature: UnsafeRawBufferPointer(rebasing: bytes[signature]),
                                             message: UnsafeRawBufferPointer(rebasing: bytes[manifest]), publicKey: $0) }
      }
    }
    guard trusted else { throw .badSignature }
    var package = try parseManifest(Array(archive[manifest]))
    package.manifest = manifest
    // The payload: exactly the listed files, in the manifest's order.
    let payload = entries.dropFirst(2)
    guard payload.count == package.files.count else { throw .badManifest }
    for (index, entry) in payload.enumerated() {
      guard entry.name == package.files[index].path else { throw .badManifest }
      guard entry.size == package.files[index].size else { throw .sizeMismatch }
      package.files[index].offset = entry.offset
    }
    for file in package.files {
      var hash = SHA256()
      archive.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[file.offset..<(file.offset + file.size)])) }
      let digest = hash.finish()
      for index in 0..<32 where file.sha256[index] != digest[index] { throw .hashMismatch }
    }
    return package
  }

  // MARK: - ustar

  static func readUstar(_ archive: [UInt8]) throws(PkgStatus) -> [Entry] {
    var entries: [Entry] = []
    var offset = 0
    while offset + 512 <= archive.count {
      let header = archive[offset..<(offset + 512)]
      if header.allSatisfy({ $0 == 0 }) { return entries }
      var sum = 0
      for (index, byte) in header.enumerated() { sum += (index >= 148 && index < 156) ? 32 : Int(byte) }
      guard let stored = octal(archive, offset + 148, 8), stored == sum else { throw .badArchive }
      let type = archive[offset + 156]
      guard type == UInt8(ascii: "0") || type == 0 else { throw .unsafePath }  // links, directories, devices
      guard archive[offset + 345] == 0 else { throw .badArchive }  // no ustar name prefix
      guard let size = octal(archive, offset + 124, 12), let mode = octal(archive, offset + 100, 8) else { throw .badArchive }
      let name = Array(archive[offset..<(offset + 100)].prefix { $0 != 0 })
      let start = offset + 512
      guard size <= maximumTotal, start + size <= archive.count else { throw .badArchive }
      guard entries.count <= maximumFiles + 2 else { throw .badManifest }
      entries.append(Entry(name: name, mode: UInt32(mode & 0o777), offset: start, size: size))
      offset = start + (size + 511) / 512 * 512
    }
    throw .badArchive  // no end-of-archive blocks
  }

  private static func octal(_ bytes: [UInt8], _ at: Int, _ width: Int) -> Int? {
    var value = 0
    var seen = false
    for byte in bytes[at..<(at + width)] {
      if byte == 0 || byte == 32 {
        if seen { break }
        continue
      }
      guard byte >= 48 && byte <= 55, value < (1 << 40) else { return nil }
      value = value * 8 + Int(byte - 48)
      seen = true
    }
    return value
  }

  // MARK: - the manifest

  static func parseManifest(_ text: [UInt8]) throws(PkgStatus) -> VerifiedPackage {
    guard text.last == 10 else { throw .badManifest }
    let lines = text.dropLast().split(separator: 10, omittingEmptySubsequences: false).map { Array($0) }
    guard lines.first == Array("apus-package 1".utf8) else { throw .badManifest }
    var package = VerifiedPackage()
    var seen = Set<[UInt8]>()
    for line in lines.dropFirst() {
      guard let space = line.firstIndex(of: 32) else { throw .badManifest }
      let key = Array(line[..<space]), value = Array(line[(space + 1)...])
      if key == Array("file".utf8) {
        let parts = value.split(separator: 32, omittingEmptySubsequences: false).map { Array($0) }
        guard parts.count == 4, let mode = octalValue(parts[1]), mode & ~0o777 == 0, let size = decimal(parts[2]),
          let sha = hexBytes(parts[3])
        else { throw .badManifest }
        guard isSafePath(parts[0]) else { throw .unsafePath }
        guard size <= maximumFileSize else { throw .badManifest }
        package.files.append(PackageFile(path: parts[0], mode: UInt32(mode), offset: 0, size: size, sha256: sha))
        continue
      }
      guard !seen.contains(key) else { throw .badManifest }
      seen.insert(key)
      switch key {
      case Array("name".utf8): package.name = value
      case Array("version".utf8): package.version = value
      case Array("summary".utf8): package.summary = value
      case Array("entry".utf8): package.entry = value
      default: throw .badManifest
      }
    }
    guard isValidName(package.name), !package.version.isEmpty, package.version.count <= 32, package.version.allSatisfy(isPathByte),
      package.summary.count <= 200, !package.files.isEmpty, package.files.count <= maximumFiles,
      package.files.contains(where: { $0.path == package.entry }), package.totalBytes <= maximumTotal
    else { throw .badManifest }
    guard Set(package.files.map { $0.path }).count == package.files.count else { throw .badManifest }
    for file in package.files where file.path == Array("MANIFEST".utf8) || file.path == Array("MANIFEST.sig".utf8) {
      throw .badManifest
    }
    return package
  }

  static func isValidName(_ name: [UInt8]) -> Bool {
    guard (1...64).contains(name.count), isLowerAlphanumeric(name[0]) else { return false }
    return name.allSatisfy { isLowerAlphanumeric($0) || $0 == 46 || $0 == 95 || $0 == 45 }
  }

  /// Relative, '/'-separated, at most 99 bytes, no "." or ".." or empty component.
  static func isSafePath(_ path: [UInt8]) -> Bool {
    guard (1...99).contains(path.count), path[0] != 47 else { return false }
    for component in path.split(separator: 47, omittingEmptySubsequences: false) {
      guard !component.isEmpty, component.elementsEqual([46]) == false, component.elementsEqual([46, 46]) == false,
        component.allSatisfy(isPathByte)
      else { return false }
    }
    return true
  }

  static func isLowerAlphanumeric(_ byte: UInt8) -> Bool { (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) }

  static func isPathByte(_ byte: UInt8) -> Bool {
    (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 46 || byte == 95
      || byte == 43 || byte == 45
  }

  private static func octalValue(_ text: [UInt8]) -> Int? {
    guard !text.isEmpty, text.count <= 6 else { return nil }
    var value = 0
    for byte in text {
      guard byte >= 48 && byte <= 55 else { return nil }
      value = value * 8 + Int(byte - 48)
    }
    return value
  }

  private static func decimal(_ text: [UInt8]) -> Int? {
    guard !text.isEmpty, text.count <= 9 else { return nil }
    var value = 0
    for byte in text {
      guard byte >= 48 && byte <= 57 else { return nil }
      value = value * 10 + Int(byte - 48)
    }
    return value
  }

  private static func hexBytes(_ text: [UInt8]) -> [UInt8]? {
    guard text.count == 64 else { return nil }
    var out = [UInt8]()
    var index = 0
    while index < 64 {
      func nibble(_ c: UInt8) -> UInt8? { c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : nil }
      guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
      out.append(high << 4 | low)
      index += 2
    }
    return out
  }
}
