// The heap behind every Swift allocation in the kernel, in the heap window at
// KERNEL_HEAP_BASE (kernel_layout.h explains why it sits in the lower half). One
// instance, started by kmain before anything allocates. Single CPU and no interrupts
// yet, so no lock; M2's scheduler must wrap it in a spinlock before the first
// preemption.
import X86Shim

enum KernelHeap {
  static let windowBase = UInt(KERNEL_HEAP_BASE)
  nonisolated(unsafe) static var early = EarlyHeap(start: 0, end: 0)

  static func start() {
    early = EarlyHeap(start: windowBase, end: windowBase + UInt(EARLY_HEAP_SIZE))
  }

  /// The physical address behind a heap pointer (for handing memory to a device or,
  /// in tests, to code that takes physical addresses).
  static func physicalAddress(of pointer: UnsafeRawPointer) -> UInt64 {
    UInt64(UInt(bitPattern: pointer) - windowBase + layout_early_heap_physical())
  }
}
