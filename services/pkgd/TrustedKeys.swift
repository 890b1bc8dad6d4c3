// The Ed25519 public keys whose packages this system installs. Today one: the
// repository's TEST key (keys/test-signing.pub; keys/README.md says why it is public),
// so the sample packages and the tests' packages install. tests/pkg checks that this
// copy and keys/test-signing.pub agree. A real image lists its distributor's key.

enum TrustedKeys {
  static let all: [[UInt8]] = [
    bytes("de2f6df53a0009f577364ae8a917942c6aa46dc4808ba1bf3e583030b71a493d")
  ]

  private static func bytes(_ hex: StaticString) -> [UInt8] {
    func nibble(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c - 48 }
    var out = [UInt8]()
    var index = 0
    while index + 1 < hex.utf8CodeUnitCount {
      out.append(nibble(hex.utf8Start[index]) << 4 | nibble(hex.utf8Start[index + 1]))
      index += 2
    }
    return out
  }
}
