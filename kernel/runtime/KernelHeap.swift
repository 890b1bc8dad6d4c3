// The heap behind every Swift allocation in the kernel, in the heap window at
// KERNEL_HEAP_BASE (kernel_layout.h explains why it sits in the lower half). Before
// the page allocator exists, blocks come from the bootstrap arena (EarlyHeap: 1 MiB of
// .bss); once paging is up (`startPaged`), every new block comes from SlabHeap on
// pages from the page allocator, and the arena only takes back the blocks it gave
// out. Every entry masks interrupts (one CPU: that is the lock; docs/design.md, "Locks").
import X86Shim

enum KernelHeap {
  static let windowBase = UInt(KERNEL_HEAP_BASE)
  nonisolated(unsafe) static var early = EarlyHeap(start: 0, end: 0)
  nonisolated(unsafe) static var paged = SlabHeap()
  nonisolated(unsafe) private(set) static var isPaged = false

  static func start() {
    early = EarlyHeap(start: windowBase, end: windowBase + UInt(EARLY_HEAP_SIZE))
  }

  /// From now on new blocks come from pages.
  static func startPaged() { isPaged = true }

  static func allocate(size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    Interrupts.withDisabled {
      isPaged ? paged.allocate(size: size, alignment: alignment) : early.allocate(size: size, alignment: alignment)
    }
  }

  /// False when `pointer` is not a live block of either heap.
  static func free(_ pointer: UnsafeMutableRawPointer) -> Bool {
    let address = UInt(bitPattern: pointer)
    return Interrupts.withDisabled {
      if address >= windowBase && address < windowBase + UInt(EARLY_HEAP_SIZE) {
        return early.free(pointer)
      }
      return paged.free(pointer)
    }
  }

  /// Bytes handed out and not yet freed, by both heaps.
  static var bytesInUse: Int { early.bytesInUse + paged.bytesInUse }

  /// The physical address behind a heap pointer (for handing memory to a device or,
  /// in tests, to code that takes physical addresses).
  static func physicalAddress(of pointer: UnsafeRawPointer) -> UInt64 {
    let address = UInt64(UInt(bitPattern: pointer))
    if isPaged, let mapping = KernelAddressSpace.tables.translate(address) { return mapping.physical }
    return UInt64(UInt(bitPattern: pointer) - windowBase + layout_early_heap_physical())
  }
}
