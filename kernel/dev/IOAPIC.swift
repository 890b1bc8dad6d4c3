// The I/O APIC routes device interrupt lines (GSIs) to vectors. At start every input
// is masked; a driver asks for its line with `route` (M5). Where it lives and how ISA
// IRQs map to GSIs come from ACPI's MADT.
import X86Shim

enum IOAPIC {
  nonisolated(unsafe) private static var registers: UInt64 = 0
  nonisolated(unsafe) private(set) static var inputCount = 0
  nonisolated(unsafe) private(set) static var gsiBase: UInt32 = 0
  private static let masked: UInt32 = 1 << 16

  static func start(_ madt: MADTInfo) {
    registers = DeviceMemory.map(physical: madt.ioapicAddress, size: 0x20)
    gsiBase = madt.ioapicGSIBase
    inputCount = Int((read(0x01) >> 16) & 0xff) + 1  // version register: max redirection entry
    for input in 0..<inputCount {
      write(0x10 + 2 * UInt32(input), masked)
      write(0x11 + 2 * UInt32(input), 0)
    }
  }

  /// Delivers GSI `gsi` to `vector` on the boot CPU (edge, active high unless told).
  static func route(gsi: UInt32, vector: UInt8, levelTriggered: Bool = false, activeLow: Bool = false) {
    let input = gsi - gsiBase
    var low = UInt32(vector)
    if activeLow { low |= 1 << 13 }
    if levelTriggered { low |= 1 << 15 }
    write(0x11 + 2 * input, LocalAPIC.id << 24)
    write(0x10 + 2 * input, low)
  }

  private static func read(_ register: UInt32) -> UInt32 {
    x86_mmio_write32(registers, register)
    return x86_mmio_read32(registers + 0x10)
  }
  private static func write(_ register: UInt32, _ value: UInt32) {
    x86_mmio_write32(registers, register)
    x86_mmio_write32(registers + 0x10, value)
  }
}
