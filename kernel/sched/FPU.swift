// FPU/SSE state for threads that use it. The kernel itself is built without SSE
// (docs/build/toolchain.md), so only threads created with `usesFPU` get a save area,
// and the scheduler saves and restores it eagerly on every switch to or from them.
import X86Shim

enum FPU {
  private static let cr0MonitorCoprocessor: UInt64 = 1 << 1
  private static let cr0Emulation: UInt64 = 1 << 2
  private static let cr0TaskSwitched: UInt64 = 1 << 3
  private static let cr4OSFXSR: UInt64 = 1 << 9
  private static let cr4OSXMMEXCPT: UInt64 = 1 << 10

  /// Lets FXSAVE/FXRSTOR and SSE instructions run.
  static func enable() {
    x86_write_cr0((x86_read_cr0() | cr0MonitorCoprocessor) & ~(cr0Emulation | cr0TaskSwitched))
    x86_write_cr4(x86_read_cr4() | cr4OSFXSR | cr4OSXMMEXCPT)
  }

  /// A clean state: default control words, all registers zero.
  static func initialState(into area: UnsafeMutableRawPointer) {
    area.initializeMemory(as: UInt8.self, repeating: 0, count: Scheduler.fpuStateSize)
    area.storeBytes(of: UInt16(0x037f), toByteOffset: 0, as: UInt16.self)   // FCW
    area.storeBytes(of: UInt32(0x1f80), toByteOffset: 24, as: UInt32.self)  // MXCSR
  }
}
