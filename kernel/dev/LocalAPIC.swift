// The local APIC: the CPU's own interrupt controller and its timer. Registers are
// mapped uncached through DeviceMemory; the base comes from IA32_APIC_BASE.
import X86Shim

enum LocalAPIC {
  private enum Register {
    static let id: UInt64 = 0x20
    static let taskPriority: UInt64 = 0x80
    static let endOfInterrupt: UInt64 = 0xb0
    static let spuriousVector: UInt64 = 0xf0
    static let timerVector: UInt64 = 0x320
    static let timerInitialCount: UInt64 = 0x380
    static let timerCurrentCount: UInt64 = 0x390
    static let timerDivide: UInt64 = 0x3e0
  }
  private static let msrApicBase: UInt32 = 0x1b
  private static let enable: UInt32 = 1 << 8
  private static let masked: UInt32 = 1 << 16
  private static let periodic: UInt32 = 1 << 17
  private static let divideBy16: UInt32 = 0x3

  static let spuriousVector: UInt64 = 0xff
  nonisolated(unsafe) private static var registers: UInt64 = 0

  static func start() {
    let physical = x86_rdmsr(msrApicBase) & 0x000f_ffff_ffff_f000
    registers = DeviceMemory.map(physical: physical, size: 0x1000)
    write(Register.taskPriority, 0)
    write(Register.spuriousVector, enable | UInt32(spuriousVector))
  }

  static var id: UInt32 { read(Register.id) >> 24 }

  static func endOfInterrupt() { write(Register.endOfInterrupt, 0) }

  /// Starts the timer counting down from 0xffffffff, masked, for calibration.
  static func startFreeRunningTimer() {
    write(Register.timerDivide, divideBy16)
    write(Register.timerVector, masked)
    write(Register.timerInitialCount, 0xffff_ffff)
  }

  static var timerCount: UInt32 { read(Register.timerCurrentCount) }

  /// Interrupts at `vector` every `count` timer ticks (bus clock / 16).
  static func startPeriodicTimer(vector: UInt64, count: UInt32) {
    write(Register.timerDivide, divideBy16)
    write(Register.timerVector, periodic | UInt32(vector))
    write(Register.timerInitialCount, count)
  }

  static func setTimerMasked(_ isMasked: Bool) {
    let value = read(Register.timerVector)
    write(Register.timerVector, isMasked ? value | masked : value & ~masked)
  }

  private static func read(_ register: UInt64) -> UInt32 { x86_mmio_read32(registers + register) }
  private static func write(_ register: UInt64, _ value: UInt32) { x86_mmio_write32(registers + register, value) }
}
