// The 8254 PIT, used once: channel 2 (the speaker channel, gated through port 0x61 so
// no interrupt is involved) counts down a known interval against which the local APIC
// timer is calibrated.
import X86Shim

enum PIT {
  static let frequency: UInt32 = 1_193_182  // Hz

  /// Busy-waits `milliseconds` (at most 54) on channel 2.
  static func wait(milliseconds: UInt32) {
    let count = frequency * milliseconds / 1000
    let gate = x86_inb(0x61)
    x86_outb(0x61, (gate & ~0x02) | 0x01)  // gate on, speaker off
    x86_outb(0x43, 0xb0)                   // channel 2, lobyte/hibyte, mode 0, binary
    x86_outb(0x42, UInt8(truncatingIfNeeded: count))
    x86_outb(0x42, UInt8(truncatingIfNeeded: count >> 8))
    while x86_inb(0x61) & 0x20 == 0 { x86_pause() }  // OUT2 goes high at terminal count
    x86_outb(0x61, gate)
  }
}
