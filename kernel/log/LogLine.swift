// One log line, built on the stack. String interpolation appends into a fixed inline
// buffer, so logging never allocates: it is safe before the heap exists, in trap
// context and inside the allocator itself. A line longer than the buffer is cut and
// ends in "...".

struct LogLine: ExpressibleByStringInterpolation, StringInterpolationProtocol {
  typealias StringLiteralType = StaticString
  static let capacity = 240

  private var storage = InlineArray<240, UInt8>(repeating: 0)
  private(set) var count = 0
  private(set) var truncated = false

  init(literalCapacity: Int, interpolationCount: Int) {}
  init(stringLiteral literal: StaticString) { appendLiteral(literal) }
  init(stringInterpolation: LogLine) { self = stringInterpolation }

  mutating func appendLiteral(_ literal: StaticString) {
    literal.withUTF8Buffer { for byte in $0 { append(byte) } }
  }

  mutating func appendInterpolation(_ text: StaticString) { appendLiteral(text) }

  /// Decimal, with a sign for negative values.
  mutating func appendInterpolation<T: FixedWidthInteger>(_ value: T) {
    if value < 0 { append(UInt8(ascii: "-")) }
    appendDigits(UInt64(truncatingIfNeeded: value.magnitude), radix: 10, minimumDigits: 1)
  }

  /// Lower-case hexadecimal without a prefix (the format string writes "0x").
  mutating func appendInterpolation<T: FixedWidthInteger>(hex value: T, digits: Int = 1) {
    appendDigits(UInt64(truncatingIfNeeded: value), radix: 16, minimumDigits: digits)
  }

  /// Bytes from outside the kernel (a command line, a loader's name), shown so a
  /// terminal cannot be confused: printable ASCII as is, anything else as \xNN.
  mutating func appendInterpolation<S: Sequence<UInt8>>(escaping bytes: S) {
    for byte in bytes {
      if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") {
        append(byte)
      } else {
        append(UInt8(ascii: "\\"))
        append(UInt8(ascii: "x"))
        appendDigits(UInt64(byte), radix: 16, minimumDigits: 2)
      }
    }
  }

  /// Splices in another line (a panic reason into the panic line).
  mutating func appendInterpolation(_ other: LogLine) {
    other.forEachByte { append($0) }
  }

  mutating func appendInterpolation(_ flag: Bool) {
    appendLiteral(flag ? "true" : "false")
  }

  /// Calls `body` with each byte of the line, then "..." if it was cut.
  func forEachByte(_ body: (UInt8) -> Void) {
    for index in 0..<count { body(storage[index]) }
    if truncated { for _ in 0..<3 { body(UInt8(ascii: ".")) } }
  }

  private mutating func append(_ byte: UInt8) {
    guard count < Self.capacity else {
      truncated = true
      return
    }
    storage[count] = byte
    count += 1
  }

  private mutating func appendDigits(_ value: UInt64, radix: UInt64, minimumDigits: Int) {
    var digits = InlineArray<20, UInt8>(repeating: 0)
    var remaining = value
    var used = 0
    repeat {
      let digit = UInt8(truncatingIfNeeded: remaining % radix)
      digits[used] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
      used += 1
      remaining /= radix
    } while remaining != 0 && used < 20
    var padding = minimumDigits - used
    while padding > 0 {
      append(UInt8(ascii: "0"))
      padding -= 1
    }
    while used > 0 {
      used -= 1
      append(digits[used])
    }
  }
}
