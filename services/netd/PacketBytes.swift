// A window on packet bytes (a received frame in DMA memory, a frame being built for
// the card): network-order reads and writes at offsets. Every parser checks a length
// before it reads; the precondition is the backstop that turns a parser bug into a
// crash of netd, never a read outside the frame.

struct PacketBytes {
  let base: UnsafeMutableRawPointer
  let count: Int

  init(_ base: UnsafeMutableRawPointer, count: Int) {
    self.base = base
    self.count = count
  }

  @inline(__always) private func check(_ at: Int, _ width: Int) {
    precondition(at >= 0 && width <= count && at <= count - width, "packet access outside the packet")
  }

  func u8(_ at: Int) -> UInt8 {
    check(at, 1)
    return base.load(fromByteOffset: at, as: UInt8.self)
  }
  // The wider fields are one check and one (unaligned) access each, not a check and
  // an access per byte: a UDP frame's headers are some 20 fields, built for every send.
  func u16(_ at: Int) -> UInt16 {
    check(at, 2)
    return UInt16(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self))
  }
  func u32(_ at: Int) -> UInt32 {
    check(at, 4)
    return UInt32(bigEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
  }

  func set8(_ at: Int, _ value: UInt8) {
    check(at, 1)
    base.storeBytes(of: value, toByteOffset: at, as: UInt8.self)
  }
  func set16(_ at: Int, _ value: UInt16) {
    check(at, 2)
    base.storeBytes(of: value.bigEndian, toByteOffset: at, as: UInt16.self)
  }
  func set32(_ at: Int, _ value: UInt32) {
    check(at, 4)
    base.storeBytes(of: value.bigEndian, toByteOffset: at, as: UInt32.self)
  }

  /// The `length` bytes from `at` on.
  func slice(_ at: Int, _ length: Int) -> PacketBytes {
    check(at, length)
    return PacketBytes(base + at, count: length)
  }

  func copy(to target: Int, from source: PacketBytes) {
    check(target, source.count)
    (base + target).copyMemory(from: source.base, byteCount: source.count)
  }

  func zero(_ at: Int, _ length: Int) {
    check(at, length)
    (base + at).initializeMemory(as: UInt8.self, repeating: 0, count: length)
  }

  func mac(_ at: Int) -> MacAddress {
    var address = MacAddress()
    for index in 0..<6 { address.bytes[index] = u8(at + index) }
    return address
  }
  func setMac(_ at: Int, _ address: MacAddress) {
    for index in 0..<6 { set8(at + index, address.bytes[index]) }
  }
}

struct MacAddress: Equatable, CustomStringConvertible {
  var bytes = InlineArray<6, UInt8>(repeating: 0)

  static let broadcast = MacAddress(repeating: 0xff)

  init() {}
  init(repeating byte: UInt8) { bytes = InlineArray(repeating: byte) }

  static func == (a: MacAddress, b: MacAddress) -> Bool {
    for index in 0..<6 where a.bytes[index] != b.bytes[index] { return false }
    return true
  }

  var description: String {
    var text = ""
    for index in 0..<6 {
      if index > 0 { text += ":" }
      text += Hex.byte(bytes[index])
    }
    return text
  }
}

/// IPv4 addresses are host-order UInt32s (as spec/net.xml carries them).
enum IPv4Address {
  static let broadcast: UInt32 = 0xffff_ffff

  static func text(_ address: UInt32) -> String {
    String(address >> 24) + "." + String(address >> 16 & 0xff) + "." + String(address >> 8 & 0xff) + "." + String(address & 0xff)
  }
}

enum Hex {
  static func byte(_ value: UInt8) -> String {
    let digits: StaticString = "0123456789abcdef"
    var text = ""
    text.append(Character(Unicode.Scalar(digits.utf8Start[Int(value >> 4)])))
    text.append(Character(Unicode.Scalar(digits.utf8Start[Int(value & 15)])))
    return text
  }
}

/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum
/// of 16-bit words; a packet that includes its checksum sums to 0xffff, so `of` it is 0.
enum InternetChecksum {
  /// The running sum of `bytes` (an odd last byte padded with zero) added to `sum`.
  static func add(_ bytes: PacketBytes, to sum: UInt32 = 0) -> UInt32 {
    var total = UInt64(sum)
    var index = 0
    let pairs = bytes.count & ~1
    while index < pairs {
      total += UInt64(UInt16(bigEndian: bytes.base.loadUnaligned(fromByteOffset: index, as: UInt16.self)))
      index += 2
    }
    if bytes.count & 1 != 0 { total += UInt64(bytes.u8(bytes.count - 1)) << 8 }
    while total > 0xffff_ffff { total = (total & 0xffff_ffff) + (total >> 32) }
    return UInt32(total)
  }

  static func add16(_ value: UInt16, to sum: UInt32) -> UInt32 {
    let total = UInt64(sum) + UInt64(value)
    return UInt32(truncatingIfNeeded: (total & 0xffff_ffff) + (total >> 32))
  }

  /// Folds a running sum into the checksum field's value.
  static func finish(_ sum: UInt32) -> UInt16 {
    var folded = sum
    while folded > 0xffff { folded = (folded & 0xffff) + (folded >> 16) }
    return ~UInt16(folded)
  }

  /// The pseudo-header sum of UDP (and TCP) over IPv4 (RFC 768).
  static func pseudoHeader(source: UInt32, destination: UInt32, protocolNumber: UInt8, length: Int) -> UInt32 {
    var sum = add16(UInt16(source >> 16), to: 0)
    sum = add16(UInt16(truncatingIfNeeded: source), to: sum)
    sum = add16(UInt16(destination >> 16), to: sum)
    sum = add16(UInt16(truncatingIfNeeded: destination), to: sum)
    sum = add16(UInt16(protocolNumber), to: sum)
    return add16(UInt16(truncatingIfNeeded: length), to: sum)
  }
}
