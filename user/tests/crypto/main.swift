// The guest's crypto (ulib/swift/crypto) against published vectors and host-made
// signatures. Cases (argv[1]):
//   vectors                      FIPS 180-4 / RFC 6234 SHA-256 and SHA-512, RFC 8032
//                                Ed25519 tests 1-3, and each signature tampered
//   verify PUB SIG MSG           hex arguments: prints "CRYPTO: verify yes" or "no"
//   sha256 TEXT                  prints the digest of TEXT
//   cost                         under -icount: instructions for SHA-256 of 1 MiB and
//                                for one Ed25519 verification (what pkg_install pays)

/// Lowercase hex digits, as bytes (Strings would need Unicode tables to compare).
func hex<let count: Int>(_ bytes: InlineArray<count, UInt8>) -> [UInt8] {
  let digits: StaticString = "0123456789abcdef"
  var text = [UInt8]()
  for index in 0..<count {
    text.append(digits.utf8Start[Int(bytes[index] >> 4)])
    text.append(digits.utf8Start[Int(bytes[index] & 15)])
  }
  return text
}

func == (text: [UInt8], expected: StaticString) -> Bool {
  text.elementsEqual(UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount))
}

func bytes(fromHex text: StaticString) -> [UInt8] { bytes(fromHex: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)) }

func bytes(fromHex text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
  func nibble(_ c: UInt8) -> UInt8 { c >= 97 ? c - 87 : c >= 65 ? c - 55 : c - 48 }
  var out = [UInt8]()
  var index = 0
  while index + 1 < text.count {
    out.append(nibble(text[index]) << 4 | nibble(text[index + 1]))
    index += 2
  }
  return out
}

nonisolated(unsafe) var failures = 0

/// Under -icount shift=0 one nanosecond of the guest clock is one instruction.
func instructions() -> UInt64 { Sys.timeNow() }

func check(_ what: StaticString, _ ok: Bool) {
  if !ok {
    failures += 1
    print("CRYPTO: \(what) FAILED")
  }
}

func sha256(_ message: [UInt8]) -> [UInt8] {
  var hash = SHA256()
  message.withUnsafeBytes { hash.update($0) }
  return hex(hash.finish())
}

func sha512(_ message: [UInt8]) -> [UInt8] {
  var hash = SHA512()
  message.withUnsafeBytes { hash.update($0) }
  return hex(hash.finish())
}

func verify(_ publicKey: [UInt8], _ signature: [UInt8], _ message: [UInt8]) -> Bool {
  publicKey.withUnsafeBytes { key in
    signature.withUnsafeBytes { sig in message.withUnsafeBytes { Ed25519.verify(signature: sig, message: $0, publicKey: key) } }
  }
}

func vectors() {
  let abc: [UInt8] = Array("abc".utf8)
  check("SHA-256 abc", sha256(abc) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  check("SHA-256 empty", sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  check("SHA-256 448 bits", sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
    == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  var million = SHA256()
  let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
  for _ in 0..<1000 { chunk.withUnsafeBytes { million.update($0) } }
  check("SHA-256 a million a", hex(million.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  check("SHA-512 abc", sha512(abc) == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
  check("SHA-512 empty", sha512([]) == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
  check("SHA-512 896 bits", sha512(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))
    == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
  // RFC 8032 §7.1, tests 1 to 3.
  let tests: [(StaticString, StaticString, StaticString)] = [
    ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
  ]
  for (key, message, signature) in tests {
    let k = bytes(fromHex: key), m = bytes(fromHex: message), s = bytes(fromHex: signature)
    check("Ed25519 RFC 8032 vector", verify(k, s, m))
    var badSignature = s
    badSignature[10] ^= 1
    check("Ed25519 tampered R", !verify(k, badSignature, m))
    badSignature = s
    badSignature[40] ^= 1
    check("Ed25519 tampered S", !verify(k, badSignature, m))
    check("Ed25519 other message", !verify(k, s, m + [1]))
    var badKey = k
    badKey[0] ^= 1
    check("Ed25519 other key", !verify(badKey, s, m))
  }
  if failures == 0 { print("CRYPTO: vectors ok") }
}

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  func argument(_ index: Int) -> UnsafeBufferPointer<UInt8> {
    guard Int(argc) > index, let pointer = argv?[index] else { return UnsafeBufferPointer(start: nil, count: 0) }
    var length = 0
    while pointer[length] != 0 { length += 1 }
    return UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
  }
  let which = Array(argument(1))
  if which == ("verify" as StaticString) {
    let ok = verify(bytes(fromHex: argument(2)), bytes(fromHex: argument(3)), bytes(fromHex: argument(4)))
    print(ok ? "CRYPTO: verify yes" : "CRYPTO: verify no")
    return 0
  }
  if which == ("sha256" as StaticString) {
    let digest = sha256(Array(argument(2)))
    print("CRYPTO: sha256 ", terminator: "")
    for byte in digest { _ = putchar(Int32(byte)) }
    print("")
    return 0
  }
  if which == ("cost" as StaticString) {
    // Under make bench's -icount the TSC counts instructions: what pkg_install's
    // checks cost, apart from the disk.
    let megabyte = [UInt8](repeating: 7, count: 1 << 20)
    var start = instructions()
    var hash = SHA256()
    megabyte.withUnsafeBytes { hash.update($0) }
    _ = hash.finish()
    print("CRYPTO: sha256 of 1 MiB: \(instructions() - start) ticks")
    let k = bytes(fromHex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    let s = bytes(fromHex: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    start = instructions()
    let ok = verify(k, s, [])
    print("CRYPTO: one Ed25519 verification: \(instructions() - start) ticks (\(ok ? "valid" : "INVALID"))")
    return 0
  }
  vectors()
  return failures == 0 ? 0 : 1
}
