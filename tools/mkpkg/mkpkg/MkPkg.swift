// mkpkg: builds, verifies and signs Apus packages on the host (docs/packages.md).
//   mkpkg keygen --out KEY            writes KEY (the secret seed) and KEY.pub, hex
//   mkpkg build DIR --name N --version V --summary S --entry PATH --key KEY -o OUT.pkg
//   mkpkg verify PKG --pubkey KEY.pub
//   mkpkg sign FILE --key KEY        prints FILE's Ed25519 signature, hex (tests use
//                                    it to build packages that are signed but wrong)
import ArgumentParser
import Crypto
import Foundation
import PackageFormat

@main
struct MkPkg: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mkpkg", abstract: "Build, verify and sign Apus packages.", subcommands: [Keygen.self, Build.self, Verify.self, Sign.self])
}

enum KeyFile {
  static func hex(_ bytes: Data) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  static func bytes(_ path: String) throws -> Data {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let line = text.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty } ?? ""
    var data = Data()
    var digits = Array(line.trimmingCharacters(in: .whitespaces))
    guard digits.count % 2 == 0 else { throw ValidationError("\(path): not a hex key") }
    while !digits.isEmpty {
      guard let byte = UInt8(String(digits.prefix(2)), radix: 16) else { throw ValidationError("\(path): not a hex key") }
      data.append(byte)
      digits.removeFirst(2)
    }
    return data
  }
}

struct Keygen: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Make a signing key pair: KEY and KEY.pub.")
  @Option(help: "Where the secret key goes (the public key goes to <out>.pub).") var out: String

  func run() throws {
    let key = Curve25519.Signing.PrivateKey()
    try (KeyFile.hex(key.rawRepresentation) + "\n").write(toFile: out, atomically: true, encoding: .utf8)
    try (KeyFile.hex(key.publicKey.rawRepresentation) + "\n").write(toFile: out + ".pub", atomically: true, encoding: .utf8)
    print("mkpkg: wrote \(out) and \(out).pub")
  }
}

struct Build: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Build a signed package from every file under DIR.")
  @Argument(help: "The folder whose files (relative paths) make the payload.") var directory: String
  @Option var name: String
  @Option var version: String
  @Option var summary: String
  @Option(help: "The path (in the payload) of the program the package's name runs.") var entry: String
  @Option(help: "The secret key file (mkpkg keygen).") var key: String
  @Option(name: .shortAndLong, help: "The package to write.") var output: String

  func run() throws {
    let root = URL(fileURLWithPath: directory).standardizedFileURL
    guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey]) else {
      throw ValidationError("\(directory): cannot read it")
    }
    var files: [(path: String, mode: Int, data: Data)] = []
    for case let url as URL in walker {
      let values = try url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
      if values.isSymbolicLink == true { throw ValidationError("\(url.path): links are not allowed in packages") }
      guard values.isRegularFile == true else { continue }
      let path = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
      let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
      let mode = ((attributes[.posixPermissions] as? Int) ?? 0o644) & 0o111 != 0 ? 0o755 : 0o644
      files.append((path, mode, try Data(contentsOf: url)))
    }
    let signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: KeyFile.bytes(key))
    let archive = try PackageArchive.build(name: name, version: version, summary: summary, entry: entry, files: files, key: signingKey)
    try archive.write(to: URL(fileURLWithPath: output))
    print("mkpkg: wrote \(output) (\(files.count) files, \(archive.count) bytes)")
  }
}

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Check a package's signature, sizes, hashes and paths.")
  @Argument var package: String
  @Option(help: "The public key file (KEY.pub).") var pubkey: String

  func run() throws {
    let key = try Curve25519.Signing.PublicKey(rawRepresentation: KeyFile.bytes(pubkey))
    do {
      let manifest = try PackageArchive.verify(try Data(contentsOf: URL(fileURLWithPath: package)), publicKey: key)
      print("mkpkg: \(package): ok (\(manifest.name) \(manifest.version), \(manifest.files.count) files)")
    } catch {
      print("mkpkg: \(package): \(error)")
      throw ExitCode(1)
    }
  }
}

struct Sign: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Print a file's Ed25519 signature (hex) by KEY.")
  @Argument var file: String
  @Option(help: "The secret key file.") var key: String

  func run() throws {
    let signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: KeyFile.bytes(key))
    print(KeyFile.hex(try signingKey.signature(for: Data(contentsOf: URL(fileURLWithPath: file)))))
  }
}
