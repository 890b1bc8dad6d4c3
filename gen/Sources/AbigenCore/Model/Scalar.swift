// The spec's integer types and their spelling in each output language.

public enum Scalar: String, CaseIterable, Sendable, Codable {
  case u8, u16, u32, u64, i8, i16, i32, i64

  public var size: Int {
    switch self {
    case .u8, .i8: 1
    case .u16, .i16: 2
    case .u32, .i32: 4
    case .u64, .i64: 8
    }
  }

  public var isSigned: Bool { rawValue.hasPrefix("i") }
  public var bits: Int { size * 8 }

  public var cType: String { isSigned ? "int\(bits)_t" : "uint\(bits)_t" }
  public var swiftType: String { isSigned ? "Int\(bits)" : "UInt\(bits)" }

  /// The values the type can hold.
  public var range: ClosedRange<Int128> {
    isSigned
      ? (-(Int128(1) << (bits - 1)))...((Int128(1) << (bits - 1)) - 1)
      : 0...((Int128(1) << bits) - 1)
  }
}

/// How an argument's pointer is used by the kernel.
public enum Direction: String, Sendable, Codable {
  case `in`, out, `inout`
}
