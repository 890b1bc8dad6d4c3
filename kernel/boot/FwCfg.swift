// QEMU's fw_cfg device, read through its legacy I/O ports (QEMU docs/specs/fw_cfg.rst).
// The kernel uses it for one thing: the file `opt/apus/cmdline`, which extends the
// Multiboot2 command line so tests pass options without rebuilding the ISO.
import X86Shim

enum FwCfg {
  private static let selectorPort: UInt16 = 0x510
  private static let dataPort: UInt16 = 0x511
  private static let signatureKey: UInt16 = 0x0000
  private static let fileDirectoryKey: UInt16 = 0x0019
  private static let directoryEntrySize = 64
  private static let nameLength = 56
  /// A directory longer than this is not QEMU's; stop instead of spinning on it.
  private static let maximumFiles: UInt32 = 4096

  struct File {
    let selector: UInt16
    let size: UInt32
  }

  static func isPresent() -> Bool {
    select(signatureKey)
    return readByte() == UInt8(ascii: "Q") && readByte() == UInt8(ascii: "E")
      && readByte() == UInt8(ascii: "M") && readByte() == UInt8(ascii: "U")
  }

  /// Looks `name` up in the file directory.
  static func find(_ name: StaticString) -> File? {
    guard isPresent() else { return nil }
    select(fileDirectoryKey)
    let count = readBigEndian32()
    guard count <= maximumFiles else { return nil }
    var found: File? = nil
    for _ in 0..<count {
      let size = readBigEndian32()
      let selector = UInt16(truncatingIfNeeded: readBigEndian32() >> 16)  // select, reserved
      var matches = true
      name.withUTF8Buffer { wanted in
        for index in 0..<nameLength {
          let byte = readByte()
          let expected: UInt8 = index < wanted.count ? wanted[index] : 0
          if byte != expected { matches = false }
        }
      }
      if matches && found == nil { found = File(selector: selector, size: size) }
    }
    return found
  }

  /// Reads the first `count` bytes of `file`.
  static func read(_ file: File, count: Int) -> [UInt8] {
    select(file.selector)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    for _ in 0..<count { bytes.append(readByte()) }
    return bytes
  }

  private static func select(_ key: UInt16) { x86_outw(selectorPort, key) }
  private static func readByte() -> UInt8 { x86_inb(dataPort) }
  private static func readBigEndian32() -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 { value = value << 8 | UInt32(readByte()) }
    return value
  }
}
