// The package manifest (docs/packages.md): a UTF-8 text of one record per line.
//   apus-package 1
//   name NAME          1-64 bytes of [a-z0-9._-], starting with a letter or digit
//   version VERSION    1-32 bytes of [A-Za-z0-9._+-]
//   summary TEXT       one line, at most 200 bytes
//   entry PATH         the program `NAME` runs (must be a listed file)
//   file PATH MODE SIZE SHA256   one per file, MODE octal, SIZE decimal, SHA256 hex
// Paths are relative, '/'-separated, at most 99 bytes, of [A-Za-z0-9._+-] components,
// never "." or "..". At most 256 files, 16 MiB each, 64 MiB in all.
import Foundation

public struct ManifestFile: Equatable {
  public var path: String
  public var mode: Int
  public var size: Int
  public var sha256: String
}

public struct Manifest: Equatable {
  public var name: String
  public var version: String
  public var summary: String
  public var entry: String
  public var files: [ManifestFile]

  public static let maximumFiles = 256
  public static let maximumFileSize = 16 << 20
  public static let maximumTotal = 64 << 20

  public init(name: String, version: String, summary: String, entry: String, files: [ManifestFile]) {
    self.name = name
    self.version = version
    self.summary = summary
    self.entry = entry
    self.files = files
  }

  public var text: String {
    var lines = ["apus-package 1", "name \(name)", "version \(version)", "summary \(summary)", "entry \(entry)"]
    for file in files { lines.append("file \(file.path) \(String(file.mode, radix: 8)) \(file.size) \(file.sha256)") }
    return lines.joined(separator: "\n") + "\n"
  }

  public enum Problem: Error, CustomStringConvertible {
    case malformed(String)
    public var description: String {
      switch self { case .malformed(let why): "bad manifest: \(why)" }
    }
  }

  public static func isValidName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard (1...64).contains(bytes.count), let first = bytes.first, isLowerAlphanumeric(first) else { return false }
    return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
  }

  public static func isValidVersion(_ version: String) -> Bool {
    let bytes = Array(version.utf8)
    return (1...32).contains(bytes.count) && bytes.allSatisfy { isPathByte($0) }
  }

  public static func isSafePath(_ path: String) -> Bool {
    let bytes = Array(path.utf8)
    guard (1...99).contains(bytes.count), bytes.first != UInt8(ascii: "/") else { return false }
    for component in path.split(separator: "/", omittingEmptySubsequences: false) {
      guard !component.isEmpty, component != ".", component != "..", component.utf8.allSatisfy(isPathByte) else { return false }
    }
    return true
  }

  static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
  }

  static func isPathByte(_ byte: UInt8) -> Bool {
    (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
      || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || "._+-".utf8.contains(byte)
  }

  public static func parse(_ text: String) throws(Problem) -> Manifest {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard lines.last == "" else { throw .malformed("it does not end with a newline") }
    lines.removeLast()
    guard lines.first == "apus-package 1" else { throw .malformed("the first line is not 'apus-package 1'") }
    var fields: [String: String] = [:]
    var files: [ManifestFile] = []
    for line in lines.dropFirst() {
      let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
      guard parts.count == 2 else { throw .malformed("line '\(line)'") }
      if parts[0] == "file" {
        let values = parts[1].split(separator: " ").map(String.init)
        guard values.count == 4, let mode = Int(values[1], radix: 8), let size = Int(values[2]), size >= 0,
          values[3].count == 64, values[3].allSatisfy({ $0.isHexDigit && !$0.isUppercase })
        else { throw .malformed("file line '\(line)'") }
        files.append(ManifestFile(path: values[0], mode: mode, size: size, sha256: values[3]))
      } else {
        guard ["name", "version", "summary", "entry"].contains(parts[0]), fields[parts[0]] == nil else {
          throw .malformed("unknown or repeated record '\(parts[0])'")
        }
        fields[parts[0]] = parts[1]
      }
    }
    guard let name = fields["name"], isValidName(name) else { throw .malformed("name") }
    guard let version = fields["version"], isValidVersion(version) else { throw .malformed("version") }
    guard let summary = fields["summary"], summary.utf8.count <= 200 else { throw .malformed("summary") }
    guard let entry = fields["entry"], files.contains(where: { $0.path == entry }) else { throw .malformed("entry is not a listed file") }
    guard !files.isEmpty, files.count <= maximumFiles else { throw .malformed("file count") }
    guard Set(files.map(\.path)).count == files.count else { throw .malformed("a file is listed twice") }
    for file in files {
      guard isSafePath(file.path) else { throw .malformed("unsafe path '\(file.path)'") }
      guard file.size <= maximumFileSize, file.mode & ~0o777 == 0 else { throw .malformed("file '\(file.path)'") }
    }
    guard files.reduce(0, { $0 + $1.size }) <= maximumTotal else { throw .malformed("total size") }
    return Manifest(name: name, version: version, summary: summary, entry: entry, files: files)
  }
}
