// Leaving the machine: QEMU's isa-debug-exit device (port 0xf4, DESIGN.md §3) turns a
// write into QEMU's exit status ((value << 1) | 1), so the test harness can tell a
// clean halt (33) from a panic (35). On hardware without the device the write is
// ignored and the CPU halts with interrupts off.
import X86Shim

enum Machine {
  enum ExitStatus: UInt32 {
    case cleanHalt = 0x10  // QEMU exits 33
    case panic = 0x11      // QEMU exits 35
  }

  private static let debugExitPort: UInt16 = 0xf4

  static func exit(_ status: ExitStatus) -> Never {
    x86_cli()
    x86_outl(debugExitPort, status.rawValue)
    while true { x86_hlt() }
  }
}
