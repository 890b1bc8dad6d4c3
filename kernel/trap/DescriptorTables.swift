// The GDT and the TSS. The GDT's order is the one SYSRET needs: kernel code, kernel
// data, then the slot SYSRET would use for 32-bit user code, user data, user code64.
// That slot stays null: with no 32-bit user code segment, a program cannot enter
// compatibility mode (a far jump to it faults in ring 3), so SYSCALL from 32-bit code
// and the other compatibility-mode paths cannot happen. The TSS holds
// the IST stacks the CPU switches to for #DF, NMI and #MC, so those are reported even
// when the kernel stack is what failed.
import X86Shim

enum Selector {
  static let kernelCode: UInt16 = 0x08
  static let kernelData: UInt16 = 0x10
  static let userData: UInt16 = 0x20 | 3
  static let userCode: UInt16 = 0x28 | 3
  static let tss: UInt16 = 0x30
}

/// Interrupt stack table slots (1-based, as the IDT names them).
enum InterruptStack: UInt8 {
  case doubleFault = 1
  case nmi = 2
  case machineCheck = 3
}

enum DescriptorTables {
  nonisolated(unsafe) private static var gdt = InlineArray<8, UInt64>(repeating: 0)
  /// The 104-byte TSS. Its 64-bit fields sit at 4-byte offsets, so it is kept as raw
  /// words and written with unaligned stores.
  nonisolated(unsafe) private static var tss = InlineArray<13, UInt64>(repeating: 0)
  /// The IST stacks live as long as the kernel.
  nonisolated(unsafe) private static var istStacks = InlineArray<3, UInt64>(repeating: 0)
  nonisolated(unsafe) private static var doubleFaultStack: KernelStack? = nil
  nonisolated(unsafe) private static var nmiStack: KernelStack? = nil
  nonisolated(unsafe) private static var machineCheckStack: KernelStack? = nil

  static func install() {
    gdt[1] = 0x00af_9a00_0000_ffff  // kernel code, 64-bit
    gdt[2] = 0x00cf_9200_0000_ffff  // kernel data
    gdt[3] = 0  // 32-bit user code: deliberately absent (see above)
    gdt[4] = 0x00cf_f200_0000_ffff  // user data
    gdt[5] = 0x00af_fa00_0000_ffff  // user code, 64-bit
    let tssBase = withUnsafeMutablePointer(to: &tss) { UInt64(UInt(bitPattern: $0)) }
    let limit: UInt64 = 104 - 1
    gdt[6] = (limit & 0xffff) | ((tssBase & 0xff_ffff) << 16) | (0x89 << 40)
      | (((limit >> 16) & 0xf) << 48) | (((tssBase >> 24) & 0xff) << 56)
    gdt[7] = tssBase >> 32
    setTSS(offset: 102, UInt16(104))  // I/O map base past the end: no I/O bitmap
    withUnsafeMutablePointer(to: &gdt) { x86_lgdt(UInt64(UInt(bitPattern: $0)), UInt16(8 * 8 - 1)) }
    x86_reload_segments(Selector.kernelCode, Selector.kernelData)
    x86_ltr(Selector.tss)
  }

  /// Gives #DF, NMI and #MC stacks of their own (with guard gaps). Needs the kernel
  /// page tables and page allocator.
  static func installInterruptStacks() {
    guard let doubleFault = KernelStack.allocate(), let nmi = KernelStack.allocate(),
      let machineCheck = KernelStack.allocate()
    else { kernelPanic(.outOfPages, "no memory for the IST stacks") }
    setInterruptStack(.doubleFault, doubleFault.top)
    setInterruptStack(.nmi, nmi.top)
    setInterruptStack(.machineCheck, machineCheck.top)
    doubleFaultStack = consume doubleFault
    nmiStack = consume nmi
    machineCheckStack = consume machineCheck
  }

  /// The kernel stack the CPU loads on a switch from ring 3 (M3).
  static func setKernelStack(_ top: UInt64) { setTSS(offset: 4, top) }

  static func interruptStackTop(_ stack: InterruptStack) -> UInt64 {
    istStacks[Int(stack.rawValue) - 1]
  }

  private static func setInterruptStack(_ stack: InterruptStack, _ top: UInt64) {
    istStacks[Int(stack.rawValue) - 1] = top
    setTSS(offset: 36 + 8 * (Int(stack.rawValue) - 1), top)
  }

  private static func setTSS<T: FixedWidthInteger>(offset: Int, _ value: T) {
    withUnsafeMutableBytes(of: &tss) { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
  }
}
