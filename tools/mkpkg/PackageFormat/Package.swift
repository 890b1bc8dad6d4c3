// NAME-VERSION.pkg: a ustar archive of MANIFEST, MANIFEST.sig (the 64-byte Ed25519
// signature of MANIFEST's bytes) and each listed file under its path, in the
// manifest's order (sorted by path). docs/packages.md has the whole format.
import Crypto
import Foundation

public enum PackageArchive {
  public enum Problem: Error, CustomStringConvertible {
    case archive(Ustar.ReadError), manifest(Manifest.Problem), signature, layout(String), size(String), hash(String)
    public var description: String {
      switch self {
      case .archive(let why): "bad archive: \(why)"
      case .manifest(let why): "\(why)"
      case .signature: "the signature does not verify with this key"
      case .layout(let why): "bad layout: \(why)"
      case .size(let path): "\(path): size differs from the manifest"
      case .hash(let path): "\(path): SHA-256 differs from the manifest"
      }
    }
  }

  public static func sha256Hex(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
  }

  /// Builds the archive of `files` (path → mode and bytes), signed with `key`.
  public static func build(name: String, version: String, summary: String, entry: String,
                           files: [(path: String, mode: Int, data: Data)], key: Curve25519.Signing.PrivateKey) throws -> Data {
    let sorted = files.sorted { $0.path < $1.path }
    let manifest = Manifest(name: name, version: version, summary: summary, entry: entry,
                            files: sorted.map { ManifestFile(path: $0.path, mode: $0.mode, size: $0.data.count, sha256: sha256Hex($0.data)) })
    let text = Data(manifest.text.utf8)
    _ = try Manifest.parse(manifest.text)  // the limits hold before anything is signed
    // Ed25519 is deterministic (RFC 8032), so the same input gives the same bytes.
    let signature = try key.signature(for: text)
    var entries = [UstarEntry(name: "MANIFEST", mode: 0o644, data: text),
                   UstarEntry(name: "MANIFEST.sig", mode: 0o644, data: signature)]
    entries += sorted.map { UstarEntry(name: $0.path, mode: $0.mode, data: $0.data) }
    return Ustar.write(entries)
  }

  /// Checks an archive completely; returns its manifest.
  public static func verify(_ archive: Data, publicKey: Curve25519.Signing.PublicKey) throws(Problem) -> Manifest {
    let entries: [UstarEntry]
    do { entries = try Ustar.read(archive) } catch { throw .archive(error) }
    guard entries.count >= 2, entries[0].name == "MANIFEST", entries[1].name == "MANIFEST.sig" else {
      throw .layout("MANIFEST and MANIFEST.sig must come first")
    }
    guard publicKey.isValidSignature(entries[1].data, for: entries[0].data) else { throw .signature }
    let manifest: Manifest
    do { manifest = try Manifest.parse(String(decoding: entries[0].data, as: UTF8.self)) } catch { throw .manifest(error) }
    let payload = Array(entries.dropFirst(2))
    guard payload.map(\.name) == manifest.files.map(\.path) else { throw .layout("the files are not exactly the manifest's, in its order") }
    for (entry, file) in zip(payload, manifest.files) {
      guard entry.data.count == file.size else { throw .size(file.path) }
      guard sha256Hex(entry.data) == file.sha256 else { throw .hash(file.path) }
    }
    return manifest
  }
}
