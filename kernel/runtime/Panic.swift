// The panic path: one line that names the cause, then a failing exit. It allocates
// nothing and takes no locks, so it works from any context, including the allocator.
import X86Shim

/// Why the kernel stopped. The numbers live in panic_codes.h, shared with the entry
/// asm (which can fail before Swift runs), so each is written once.
struct PanicCode {
  let rawValue: UInt32

  static let testRequested = PanicCode(rawValue: UInt32(PANIC_TEST_REQUESTED))
  static let malformedBootInfo = PanicCode(rawValue: UInt32(PANIC_MALFORMED_BOOT_INFO))
  static let outOfMemory = PanicCode(rawValue: UInt32(PANIC_OUT_OF_MEMORY))
  static let heapCorruption = PanicCode(rawValue: UInt32(PANIC_HEAP_CORRUPTION))
  static let stackSmashed = PanicCode(rawValue: UInt32(PANIC_STACK_SMASHED))
  static let selfCheckFailed = PanicCode(rawValue: UInt32(PANIC_SELF_CHECK_FAILED))
  static let kernelFault = PanicCode(rawValue: UInt32(PANIC_KERNEL_FAULT))
  static let doubleFault = PanicCode(rawValue: UInt32(PANIC_DOUBLE_FAULT))
  static let unexpectedTrap = PanicCode(rawValue: UInt32(PANIC_UNEXPECTED_TRAP))
  static let outOfPages = PanicCode(rawValue: UInt32(PANIC_OUT_OF_PAGES))
  static let badMemoryMap = PanicCode(rawValue: UInt32(PANIC_BAD_MEMORY_MAP))
}

/// Stops the kernel: prints `KERNEL: panic code=0x<hex> reason=<text>` and exits
/// QEMU with the failure status.
func kernelPanic(_ code: PanicCode, _ reason: LogLine) -> Never {
  x86_cli()
  kprint("KERNEL: panic code=0x\(hex: code.rawValue, digits: 2) reason=\(reason)")
  Machine.exit(.panic)
}
