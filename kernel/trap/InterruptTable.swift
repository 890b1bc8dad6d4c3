// The IDT: all 256 vectors point at their asm stub (arch/x86_64/trap/trap_entry.S),
// which saves the registers and calls TrapDispatch. #DF, NMI and #MC switch to their
// own IST stacks; #BP may be raised from user mode (int3 in a debugger-less program).
import X86Shim

enum InterruptTable {
  nonisolated(unsafe) private static var gates = InlineArray<512, UInt64>(repeating: 0)
  private static let stubSize: UInt64 = 16
  private static let interruptGate: UInt64 = 0x8e  // present, DPL 0, 64-bit interrupt gate
  private static let userInterruptGate: UInt64 = 0xee  // present, DPL 3

  static func install() {
    let stubs = UInt64(layout_trap_stubs_start())
    guard UInt64(layout_trap_stubs_end()) - stubs == 256 * stubSize else {
      kernelPanic(.selfCheckFailed, "trap stubs are not 256 x 16 bytes")
    }
    for vector in 0..<256 {
      var stack: InterruptStack? = nil
      switch vector {
      case Int(Vector.doubleFault): stack = .doubleFault
      case Int(Vector.nmi): stack = .nmi
      case Int(Vector.machineCheck): stack = .machineCheck
      default: break
      }
      setGate(vector, handler: stubs + UInt64(vector) * stubSize, stack: stack,
              type: vector == Int(Vector.breakpoint) ? userInterruptGate : interruptGate)
    }
    withUnsafeMutablePointer(to: &gates) { x86_lidt(UInt64(UInt(bitPattern: $0)), UInt16(256 * 16 - 1)) }
  }

  /// Stacks are chosen in the gate; IST stacks exist only after paging is up, so the
  /// gates name them from the start and the TSS fills them in later. Until then the
  /// IST entries are 0 and those three vectors would not be delivered — they cannot
  /// occur that early except through a kernel bug that would triple fault anyway.
  private static func setGate(_ vector: Int, handler: UInt64, stack: InterruptStack?, type: UInt64) {
    let ist = UInt64(stack?.rawValue ?? 0)
    gates[vector * 2] = (handler & 0xffff) | (UInt64(Selector.kernelCode) << 16) | (ist << 32)
      | (type << 40) | (((handler >> 16) & 0xffff) << 48)
    gates[vector * 2 + 1] = handler >> 32
  }
}

/// Exception vectors (SDM Vol. 3, Table 6-1).
enum Vector {
  static let divideError: UInt64 = 0
  static let debug: UInt64 = 1
  static let nmi: UInt64 = 2
  static let breakpoint: UInt64 = 3
  static let overflow: UInt64 = 4
  static let boundRange: UInt64 = 5
  static let invalidOpcode: UInt64 = 6
  static let deviceNotAvailable: UInt64 = 7
  static let doubleFault: UInt64 = 8
  static let invalidTSS: UInt64 = 10
  static let segmentNotPresent: UInt64 = 11
  static let stackFault: UInt64 = 12
  static let generalProtection: UInt64 = 13
  static let pageFault: UInt64 = 14
  static let x87Error: UInt64 = 16
  static let alignmentCheck: UInt64 = 17
  static let machineCheck: UInt64 = 18
  static let simdError: UInt64 = 19
  static let virtualization: UInt64 = 20
  static let controlProtection: UInt64 = 21
}
