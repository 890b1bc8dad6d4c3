// The kernel's window onto physical memory: physical address P is readable at
// DIRECT_MAP_BASE + P. The boot page tables map the first EARLY_DIRECT_MAP_SIZE bytes;
// M1's page tables map all of RAM.
import X86Shim

enum DirectMap {
  static let base = UInt(DIRECT_MAP_BASE)

  static func pointer(physical: UInt64) -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer(bitPattern: base + UInt(physical))!
  }
}
