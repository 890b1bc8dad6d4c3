// The 8259 PICs: remapped away from the exception vectors (0x20-0x2f) and masked.
// Apus takes interrupts through the local APIC and the IOAPIC; a masked PIC can still
// raise a spurious IRQ 7 or 15, which TimerInterrupts ignores.
import X86Shim

enum LegacyPIC {
  static let base: UInt8 = 0x20
  static let spuriousMaster = UInt64(base) + 7
  static let spuriousSlave = UInt64(base) + 15

  static func remapAndMask() {
    let (masterCommand, masterData, slaveCommand, slaveData): (UInt16, UInt16, UInt16, UInt16) = (0x20, 0x21, 0xa0, 0xa1)
    x86_outb(masterCommand, 0x11)  // ICW1: initialise, expect ICW4
    x86_outb(slaveCommand, 0x11)
    x86_outb(masterData, base)     // ICW2: vector offsets
    x86_outb(slaveData, base + 8)
    x86_outb(masterData, 0x04)     // ICW3: slave on IRQ 2
    x86_outb(slaveData, 0x02)
    x86_outb(masterData, 0x01)     // ICW4: 8086 mode
    x86_outb(slaveData, 0x01)
    x86_outb(masterData, 0xff)     // mask everything
    x86_outb(slaveData, 0xff)
  }
}
