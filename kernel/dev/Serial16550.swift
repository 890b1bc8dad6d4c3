// The 16550 UART on COM1: the kernel's console and the test harness's only window
// into the guest. Polled transmit (no interrupts), so it works from the first
// instruction of kmain, in trap context and while panicking; receive is
// interrupt-driven once ConsoleInput starts (IRQ 4).
import X86Shim

struct Serial16550 {
  let base: UInt16

  // Register offsets from the base port (16550 datasheet).
  private enum Reg {
    static let data: UInt16 = 0         // THR/RBR; divisor low byte when DLAB=1
    static let interruptEnable: UInt16 = 1  // divisor high byte when DLAB=1
    static let fifoControl: UInt16 = 2
    static let lineControl: UInt16 = 3
    static let modemControl: UInt16 = 4
    static let lineStatus: UInt16 = 5
    static let scratch: UInt16 = 7
  }
  private static let transmitHoldingEmpty: UInt8 = 1 << 5
  private static let dataReady: UInt8 = 1 << 0

  static let com1 = Serial16550(base: 0x3f8)

  /// Programs 115200 baud, 8 data bits, no parity, 1 stop bit, FIFOs on.
  /// Returns false when no UART answers at `base` (its scratch register does not
  /// hold a value), so the caller can tell a missing console from a silent one.
  func configure() -> Bool {
    x86_outb(base + Reg.scratch, 0x5a)
    guard x86_inb(base + Reg.scratch) == 0x5a else { return false }
    x86_outb(base + Reg.interruptEnable, 0x00)
    x86_outb(base + Reg.lineControl, 0x80)    // DLAB on: next two writes set the divisor
    x86_outb(base + Reg.data, 0x01)           // 115200 / 1
    x86_outb(base + Reg.interruptEnable, 0x00)
    x86_outb(base + Reg.lineControl, 0x03)    // DLAB off, 8N1
    x86_outb(base + Reg.fifoControl, 0xc7)    // enable + clear FIFOs, 14-byte threshold
    x86_outb(base + Reg.modemControl, 0x0b)   // DTR, RTS, OUT2
    return true
  }

  /// Interrupts on received data (the FIFO's trigger, or its timeout for fewer bytes).
  func enableReceiveInterrupt() {
    x86_outb(base + Reg.fifoControl, 0x07)    // FIFOs on and cleared, trigger at 1 byte
    x86_outb(base + Reg.interruptEnable, 0x01)
  }

  /// A received byte, if one waits.
  func read() -> UInt8? {
    guard x86_inb(base + Reg.lineStatus) & Self.dataReady != 0 else { return nil }
    return x86_inb(base + Reg.data)
  }

  func write(_ byte: UInt8) {
    while x86_inb(base + Reg.lineStatus) & Self.transmitHoldingEmpty == 0 {
      x86_pause()
    }
    x86_outb(base + Reg.data, byte)
  }
}
