// Reproducible ustar archives (POSIX.1-1988, which GNU tar reads): regular files only,
// owner 0, mode from the manifest, mtime 0, names up to 99 bytes (no prefix field).
// The same files in the same order give the same bytes.
import Foundation

public struct UstarEntry: Equatable {
  public var name: String
  public var mode: Int
  public var data: Data

  public init(name: String, mode: Int, data: Data) {
    self.name = name
    self.mode = mode
    self.data = data
  }
}

public enum Ustar {
  public static let blockSize = 512

  public static func write(_ entries: [UstarEntry]) -> Data {
    var archive = Data()
    for entry in entries {
      var header = [UInt8](repeating: 0, count: blockSize)
      func put(_ text: String, at offset: Int, width: Int) {
        for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
      }
      func octal(_ value: Int, at offset: Int, width: Int) {
        put(String(value, radix: 8).leftPadded(to: width - 1), at: offset, width: width - 1)
      }
      put(entry.name, at: 0, width: 100)
      octal(entry.mode, at: 100, width: 8)
      octal(0, at: 108, width: 8)
      octal(0, at: 116, width: 8)
      octal(entry.data.count, at: 124, width: 12)
      octal(0, at: 136, width: 12)
      header[156] = UInt8(ascii: "0")
      put("ustar\u{0}00", at: 257, width: 8)
      for index in 148..<156 { header[index] = UInt8(ascii: " ") }
      let checksum = header.reduce(0) { $0 + Int($1) }
      put(String(checksum, radix: 8).leftPadded(to: 6) + "\u{0} ", at: 148, width: 8)
      archive.append(contentsOf: header)
      archive.append(entry.data)
      archive.append(contentsOf: [UInt8](repeating: 0, count: (blockSize - entry.data.count % blockSize) % blockSize))
    }
    archive.append(contentsOf: [UInt8](repeating: 0, count: 2 * blockSize))
    return archive
  }

  public enum ReadError: Error, CustomStringConvertible {
    case truncated, badChecksum(String), notRegular(String), badField(String)
    public var description: String {
      switch self {
      case .truncated: "the archive ends inside an entry"
      case .badChecksum(let name): "entry \(name): bad header checksum"
      case .notRegular(let name): "entry \(name): not a regular file (links and directories are refused)"
      case .badField(let name): "entry \(name): a malformed header field"
      }
    }
  }

  public static func read(_ archive: Data) throws(ReadError) -> [UstarEntry] {
    let bytes = [UInt8](archive)
    var entries: [UstarEntry] = []
    var offset = 0
    while offset + blockSize <= bytes.count {
      let header = Array(bytes[offset..<(offset + blockSize)])
      if header.allSatisfy({ $0 == 0 }) { return entries }
      let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
      var stored = header
      for index in 148..<156 { stored[index] = UInt8(ascii: " ") }
      guard let checksum = octal(header[148..<156]), checksum == stored.reduce(0, { $0 + Int($1) }) else {
        throw .badChecksum(name)
      }
      guard header[156] == UInt8(ascii: "0") || header[156] == 0 else { throw .notRegular(name) }
      guard let size = octal(header[124..<136]), let mode = octal(header[100..<108]) else { throw .badField(name) }
      let start = offset + blockSize
      guard start + size <= bytes.count else { throw .truncated }
      entries.append(UstarEntry(name: name, mode: mode, data: Data(bytes[start..<(start + size)])))
      offset = start + (size + blockSize - 1) / blockSize * blockSize
    }
    throw .truncated
  }

  static func octal(_ field: ArraySlice<UInt8>) -> Int? {
    let digits = field.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }.drop { $0 == UInt8(ascii: " ") }
    guard !digits.isEmpty else { return 0 }
    return Int(String(decoding: digits, as: UTF8.self), radix: 8)
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
