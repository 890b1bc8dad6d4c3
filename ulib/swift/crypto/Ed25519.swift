// Ed25519 signature verification (RFC 8032 §5.1.7), for package signatures: the guest
// only ever verifies, with public keys and public messages, so nothing here needs to
// be constant-time. Field elements mod p = 2^255 - 19 are five 51-bit limbs; points
// are extended twisted Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z.
// Checked against RFC 8032's test vectors and against signatures mkpkg (swift-crypto)
// made, positive and tampered (tests/pkg).

struct FieldElement {
  var limb: (UInt64, UInt64, UInt64, UInt64, UInt64)
  static let mask: UInt64 = (1 << 51) - 1

  static let zero = FieldElement(limb: (0, 0, 0, 0, 0))
  static let one = FieldElement(limb: (1, 0, 0, 0, 0))
  static let d = FieldElement(limb: (0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029, 0x739c663a03cbb, 0x52036cee2b6ff))
  static let d2 = FieldElement(limb: (0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977, 0x2406d9dc56dff))
  static let sqrtMinusOne = FieldElement(limb: (0x61b274a0ea0b0, 0xd5a5fc8f189d, 0x7ef5e9cbd0c60, 0x78595a6804c9e, 0x2b8324804fc1d))

  /// The low 255 bits of 32 little-endian bytes (the top bit is the caller's).
  init(bytes: UnsafeRawBufferPointer) {
    func load(_ at: Int) -> UInt64 {
      var value: UInt64 = 0
      for index in 0..<8 where at + index < 32 { value |= UInt64(bytes[at + index]) << (8 * UInt64(index)) }
      return value
    }
    limb = (load(0) & Self.mask, (load(6) >> 3) & Self.mask, (load(12) >> 6) & Self.mask, (load(19) >> 1) & Self.mask,
            (load(24) >> 12) & Self.mask)
  }

  init(limb: (UInt64, UInt64, UInt64, UInt64, UInt64)) { self.limb = limb }

  static func + (a: FieldElement, b: FieldElement) -> FieldElement {
    FieldElement(limb: (a.limb.0 + b.limb.0, a.limb.1 + b.limb.1, a.limb.2 + b.limb.2, a.limb.3 + b.limb.3, a.limb.4 + b.limb.4)).carried
  }

  static func - (a: FieldElement, b: FieldElement) -> FieldElement {
    // a + 2p - b keeps every limb positive (inputs are carried: limbs below 2^52).
    let a = a.carried, b = b.carried
    return FieldElement(limb: (a.limb.0 + 0xfffffffffffda - b.limb.0, a.limb.1 + 0xffffffffffffe - b.limb.1,
                               a.limb.2 + 0xffffffffffffe - b.limb.2, a.limb.3 + 0xffffffffffffe - b.limb.3,
                               a.limb.4 + 0xffffffffffffe - b.limb.4)).carried
  }

  static prefix func - (a: FieldElement) -> FieldElement { zero - a }

  static func * (a: FieldElement, b: FieldElement) -> FieldElement {
    let (a0, a1, a2, a3, a4) = a.limb
    let (b0, b1, b2, b3, b4) = b.limb
    func m(_ x: UInt64, _ y: UInt64) -> UInt128 { UInt128(x) * UInt128(y) }
    let b1x = b1 * 19, b2x = b2 * 19, b3x = b3 * 19, b4x = b4 * 19
    var r0 = m(a0, b0) + m(a1, b4x) + m(a2, b3x) + m(a3, b2x) + m(a4, b1x)
    var r1 = m(a0, b1) + m(a1, b0) + m(a2, b4x) + m(a3, b3x) + m(a4, b2x)
    var r2 = m(a0, b2) + m(a1, b1) + m(a2, b0) + m(a3, b4x) + m(a4, b3x)
    var r3 = m(a0, b3) + m(a1, b2) + m(a2, b1) + m(a3, b0) + m(a4, b4x)
    var r4 = m(a0, b4) + m(a1, b3) + m(a2, b2) + m(a3, b1) + m(a4, b0)
    r1 += r0 >> 51; r0 &= UInt128(mask)
    r2 += r1 >> 51; r1 &= UInt128(mask)
    r3 += r2 >> 51; r2 &= UInt128(mask)
    r4 += r3 >> 51; r3 &= UInt128(mask)
    let carry = UInt64(truncatingIfNeeded: r4 >> 51)
    r4 &= UInt128(mask)
    return FieldElement(limb: (UInt64(truncatingIfNeeded: r0) + carry * 19, UInt64(truncatingIfNeeded: r1), UInt64(truncatingIfNeeded: r2),
                               UInt64(truncatingIfNeeded: r3), UInt64(truncatingIfNeeded: r4))).carried
  }

  var squared: FieldElement { self * self }

  /// Limbs back under 2^51 (plus a little in limb 0).
  var carried: FieldElement {
    var (l0, l1, l2, l3, l4) = limb
    l1 += l0 >> 51; l0 &= Self.mask
    l2 += l1 >> 51; l1 &= Self.mask
    l3 += l2 >> 51; l2 &= Self.mask
    l4 += l3 >> 51; l3 &= Self.mask
    l0 += (l4 >> 51) * 19; l4 &= Self.mask
    l1 += l0 >> 51; l0 &= Self.mask
    return FieldElement(limb: (l0, l1, l2, l3, l4))
  }

  /// self^(2^k).
  func squared(times k: Int) -> FieldElement {
    var result = self
    for _ in 0..<k { result = result.squared }
    return result
  }

  /// self^(2^250 - 1), the common start of inversion and the square root's power.
  private var power2_250_1: (FieldElement, FieldElement) {
    let z2 = squared
    let z9 = z2.squared(times: 2) * self
    let z11 = z9 * z2
    let z2_5_0 = z11.squared * z9
    let z2_10_0 = z2_5_0.squared(times: 5) * z2_5_0
    let z2_20_0 = z2_10_0.squared(times: 10) * z2_10_0
    let z2_40_0 = z2_20_0.squared(times: 20) * z2_20_0
    let z2_50_0 = z2_40_0.squared(times: 10) * z2_10_0
    let z2_100_0 = z2_50_0.squared(times: 50) * z2_50_0
    let z2_200_0 = z2_100_0.squared(times: 100) * z2_100_0
    let z2_250_0 = z2_200_0.squared(times: 50) * z2_50_0
    return (z2_250_0, z11)
  }

  /// self^(p - 2) = 1/self.
  var inverse: FieldElement {
    let (z2_250_0, z11) = power2_250_1
    return z2_250_0.squared(times: 5) * z11
  }

  /// self^((p - 5) / 8) = self^(2^252 - 3).
  var power22523: FieldElement {
    let (z2_250_0, _) = power2_250_1
    return z2_250_0.squared(times: 2) * self
  }

  /// The canonical 32-byte encoding (fully reduced mod p).
  var bytes: InlineArray<32, UInt8> {
    // Subtract p if the value is p or more: add 19 and see whether it carries past 2^255.
    var (l0, l1, l2, l3, l4) = carried.carried.limb
    var q = (l0 + 19) >> 51
    q = (l1 + q) >> 51
    q = (l2 + q) >> 51
    q = (l3 + q) >> 51
    q = (l4 + q) >> 51
    l0 += 19 * q
    l1 += l0 >> 51; l0 &= Self.mask
    l2 += l1 >> 51; l1 &= Self.mask
    l3 += l2 >> 51; l2 &= Self.mask
    l4 += l3 >> 51; l3 &= Self.mask
    l4 &= Self.mask
    let words: [UInt64] = [l0 | l1 << 51, l1 >> 13 | l2 << 38, l2 >> 26 | l3 << 25, l3 >> 39 | l4 << 12]
    var out = InlineArray<32, UInt8>(repeating: 0)
    for index in 0..<32 { out[index] = UInt8(truncatingIfNeeded: words[index / 8] >> (8 * UInt64(index % 8))) }
    return out
  }

  var isNegative: Bool { bytes[0] & 1 == 1 }

  static func == (a: FieldElement, b: FieldElement) -> Bool {
    let x = a.bytes, y = b.bytes
    for index in 0..<32 where x[index] != y[index] { return false }
    return true
  }
}

struct EdwardsPoint {
  var x: FieldElement, y: FieldElement, z: FieldElement, t: FieldElement

  static let identity = EdwardsPoint(x: .zero, y: .one, z: .one, t: .zero)

  /// RFC 8032 §5.1.3: nil when the bytes encode no point.
  init?(encoded bytes: UnsafeRawBufferPointer) {
    guard bytes.count == 32 else { return nil }
    let sign = bytes[31] >> 7
    var yBytes = InlineArray<32, UInt8>(repeating: 0)
    for index in 0..<32 { yBytes[index] = bytes[index] }
    yBytes[31] &= 0x7f
    let y = withUnsafeBytes(of: &yBytes) { FieldElement(bytes: $0) }
    // y must be below p: its canonical encoding is the one given.
    let canonical = y.bytes
    for index in 0..<32 where canonical[index] != yBytes[index] { return nil }
    let y2 = y.squared
    let u = y2 - .one
    let v = FieldElement.d * y2 + .one
    // x = (u/v)^((p+3)/8) = u v^3 (u v^7)^((p-5)/8)
    let v3 = v.squared * v
    var x = u * v3 * (u * v3.squared * v).power22523
    let check = v * x.squared
    if !(check == u) {
      guard check == -u else { return nil }
      x = x * .sqrtMinusOne
    }
    if x == .zero && sign == 1 { return nil }
    if (x.isNegative ? 1 : 0) != sign { x = -x }
    self.init(x: x, y: y, z: .one, t: x * y)
  }

  init(x: FieldElement, y: FieldElement, z: FieldElement, t: FieldElement) {
    self.x = x; self.y = y; self.z = z; self.t = t
  }

  /// Addition in extended coordinates for a = -1 (Hisil–Wong–Carter–Dawson, "add-2008-hwcd-3").
  static func + (p: EdwardsPoint, q: EdwardsPoint) -> EdwardsPoint {
    let a = (p.y - p.x) * (q.y - q.x)
    let b = (p.y + p.x) * (q.y + q.x)
    let c = p.t * FieldElement.d2 * q.t
    let d = (p.z + p.z) * q.z
    let e = b - a, f = d - c, g = d + c, h = b + a
    return EdwardsPoint(x: e * f, y: g * h, z: f * g, t: e * h)
  }

  var negated: EdwardsPoint { EdwardsPoint(x: -x, y: y, z: z, t: -t) }

  /// [scalar]self, scalar as 32 little-endian bytes (double and add, most significant first).
  func times(_ scalar: UnsafeRawBufferPointer) -> EdwardsPoint {
    var result = EdwardsPoint.identity
    var bit = 255
    while bit >= 0 {
      result = result + result
      if (scalar[bit / 8] >> UInt8(bit % 8)) & 1 == 1 { result = result + self }
      bit -= 1
    }
    return result
  }

  var encoded: InlineArray<32, UInt8> {
    let inverse = z.inverse
    let ax = x * inverse, ay = y * inverse
    var out = ay.bytes
    if ax.isNegative { out[31] |= 0x80 }
    return out
  }
}

public enum Ed25519 {
  /// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
  private static let order: [UInt8] = [237, 211, 245, 92, 26, 99, 18, 88, 214, 156, 247, 162, 222, 249, 222, 20,
                                       0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16]
  private static let baseEncoding: [UInt8] = [0x58] + [UInt8](repeating: 0x66, count: 31)

  /// Whether `signature` (64 bytes) is `publicKey`'s (32 bytes) on `message`.
  public static func verify(signature: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                            publicKey: UnsafeRawBufferPointer) -> Bool {
    guard signature.count == 64, publicKey.count == 32 else { return false }
    let r = UnsafeRawBufferPointer(rebasing: signature[0..<32])
    let s = UnsafeRawBufferPointer(rebasing: signature[32..<64])
    guard lessThanOrder(s), let a = EdwardsPoint(encoded: publicKey), EdwardsPoint(encoded: r) != nil,
      let base = baseEncoding.withUnsafeBytes({ EdwardsPoint(encoded: $0) })
    else { return false }
    var hash = SHA512()
    hash.update(r)
    hash.update(publicKey)
    hash.update(message)
    var k = reduce(hash.finish())
    // [S]B = R + [k]A  ⟺  encode([S]B - [k]A) = R
    let check = withUnsafeBytes(of: &k) { base.times(s) + a.times($0).negated }.encoded
    for index in 0..<32 where check[index] != r[index] { return false }
    return true
  }

  private static func lessThanOrder(_ s: UnsafeRawBufferPointer) -> Bool {
    var index = 31
    while index >= 0 {
      if s[index] != order[index] { return s[index] < order[index] }
      index -= 1
    }
    return false
  }

  /// A 512-bit little-endian number mod L, by shift-and-subtract (verification is rare).
  private static func reduce(_ wide: InlineArray<64, UInt8>) -> InlineArray<32, UInt8> {
    // remainder < L < 2^253, kept in 33 bytes while shifting.
    var remainder = InlineArray<33, UInt8>(repeating: 0)
    var bit = 511
    while bit >= 0 {
      // remainder = remainder * 2 + bit
      var carry = (wide[bit / 8] >> UInt8(bit % 8)) & 1
      for index in 0..<33 {
        let shifted = UInt16(remainder[index]) << 1 | UInt16(carry)
        remainder[index] = UInt8(truncatingIfNeeded: shifted)
        carry = UInt8(shifted >> 8)
      }
      // if remainder >= L: remainder -= L
      var greaterOrEqual = true
      var index = 32
      while index >= 0 {
        let l: UInt8 = index < 32 ? order[index] : 0
        if remainder[index] != l {
          greaterOrEqual = remainder[index] > l
          break
        }
        index -= 1
      }
      if greaterOrEqual {
        var borrow: Int16 = 0
        for at in 0..<33 {
          let l = Int16(at < 32 ? order[at] : 0)
          var difference = Int16(remainder[at]) - l - borrow
          borrow = difference < 0 ? 1 : 0
          if difference < 0 { difference += 256 }
          remainder[at] = UInt8(difference)
        }
      }
      bit -= 1
    }
    var out = InlineArray<32, UInt8>(repeating: 0)
    for index in 0..<32 { out[index] = remainder[index] }
    return out
  }
}
