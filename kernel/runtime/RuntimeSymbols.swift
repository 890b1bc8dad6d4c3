// The C symbols Embedded Swift's runtime and code generation call, implemented by the
// kernel. memcpy/memmove/memset are in arch/x86_64/shim/string.S; the stack
// protector's guard word is seeded by the entry asm before any Swift frame exists.
import X86Shim

private let EINVAL: Int32 = 22
private let ENOMEM: Int32 = 12

@_cdecl("posix_memalign")
func posix_memalign(
  _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int
) -> Int32 {
  guard alignment >= MemoryLayout<UnsafeRawPointer>.size,
    alignment & (alignment - 1) == 0
  else { return EINVAL }
  guard let memory = KernelHeap.allocate(size: size, alignment: alignment) else {
    // Swift's runtime cannot recover from a failed allocation, so say why here
    // rather than let it trap without a word.
    kernelPanic(.outOfMemory, "kernel heap exhausted: \(size) bytes requested, \(KernelHeap.bytesInUse) in use")
  }
  result.pointee = memory
  return 0
}

/// Exported as `free` by the linker (--defsym in the Makefile): Swift reserves that
/// name for its runtime's own references and will not let a Swift function take it.
@_cdecl("kernel_heap_free")
func kernelHeapFree(_ pointer: UnsafeMutableRawPointer?) {
  guard let pointer else { return }
  if !KernelHeap.free(pointer) {
    kernelPanic(.heapCorruption, "free(0x\(hex: UInt(bitPattern: pointer))): not a live heap block")
  }
}

@_cdecl("memcmp")
func memcmp(_ lhs: UnsafeRawPointer, _ rhs: UnsafeRawPointer, _ count: Int) -> Int32 {
  for index in 0..<count {
    let a = lhs.load(fromByteOffset: index, as: UInt8.self)
    let b = rhs.load(fromByteOffset: index, as: UInt8.self)
    if a != b { return Int32(a) - Int32(b) }
  }
  return 0
}

/// Swift's runtime asks for random bytes only to seed hashing. TSC-seeded xorshift is
/// enough for that and is not offered for anything that needs secrecy.
@_cdecl("arc4random_buf")
func arc4random_buf(_ buffer: UnsafeMutableRawPointer, _ count: Int) {
  var state = x86_rdtsc() | 1
  for index in 0..<count {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    buffer.storeBytes(of: UInt8(truncatingIfNeeded: state), toByteOffset: index, as: UInt8.self)
  }
}

@_cdecl("__stack_chk_fail")
func stackCheckFail() -> Never {
  kernelPanic(.stackSmashed, "stack protector: a canary was overwritten")
}

/// Embedded Swift's print() writes through putchar.
@_cdecl("putchar")
func putchar(_ character: Int32) -> Int32 {
  if KernelLog.consoleReady { Serial16550.com1.write(UInt8(truncatingIfNeeded: character)) }
  return character
}
