// A PCI function's address for log lines, as the kernel's boot lines print it.

/// A PCI address as the kernel's boot lines print it: bb:dd.f in hex.
public struct DeviceLocation: CustomStringConvertible {
  public let info: DeviceInfo
  public init(_ info: DeviceInfo) { self.info = info }

  public var description: String {
    Self.hex(info.bus) + ":" + Self.hex(info.slot) + "." + String(info.function)
  }

  private static func hex(_ value: UInt8) -> String {
    let digits: StaticString = "0123456789abcdef"
    var text = ""
    text.append(Character(Unicode.Scalar(digits.utf8Start[Int(value >> 4)])))
    text.append(Character(Unicode.Scalar(digits.utf8Start[Int(value & 15)])))
    return text
  }
}
