// Virtual pages of the heap window (KERNEL_HEAP_BASE, after the bootstrap arena):
// which are in use, one bit each in a bitmap the linker reserves, and mapping them to
// fresh physical pages. Runs are contiguous in virtual space only.
import X86Shim

enum HeapWindow {
  static let start = UInt64(KERNEL_HEAP_BASE) + UInt64(EARLY_HEAP_SIZE)
  static let pageCount = (Int(HEAP_WINDOW_SIZE) - Int(EARLY_HEAP_SIZE)) / Int(PageAllocator.pageSize)
  nonisolated(unsafe) private static var hint = 0

  // SAFETY: the linker reserves HEAP_WINDOW_SIZE / 4096 bits at __heap_window_bitmap
  // (.bss, so zero = all free); nothing else writes there.
  private static var bits: UnsafeMutablePointer<UInt64> {
    UnsafeMutablePointer(bitPattern: layout_heap_window_bitmap())!
  }

  /// Maps `count` consecutive fresh pages; returns the first address, or nil.
  static func mapRun(_ count: Int) -> UInt64? {
    guard let first = claimRun(count) else { return nil }
    for index in 0..<count {
      let virtual = start + UInt64(first + index) * PageAllocator.pageSize
      guard let page = PageAllocator.shared.allocate() else {
        unmapRun(start + UInt64(first) * PageAllocator.pageSize, mappedPages: index, claimed: count)
        return nil
      }
      do {
        try KernelAddressSpace.tables.map(virtual, to: page.intoAddress(), flags: [.global, .writable, .noExecute])
      } catch {
        kernelPanic(.outOfPages, "heap window page 0x\(hex: virtual) could not be mapped")
      }
    }
    return start + UInt64(first) * PageAllocator.pageSize
  }

  /// Unmaps a run made by mapRun and frees its pages.
  static func unmapRun(_ address: UInt64, count: Int) {
    unmapRun(address, mappedPages: count, claimed: count)
  }

  static func contains(_ address: UInt64) -> Bool {
    address >= start && address < start + UInt64(pageCount) * PageAllocator.pageSize
  }

  private static func unmapRun(_ address: UInt64, mappedPages: Int, claimed: Int) {
    let first = Int((address - start) / PageAllocator.pageSize)
    for index in 0..<claimed {
      if index < mappedPages, let physical = KernelAddressSpace.tables.unmap(address + UInt64(index) * PageAllocator.pageSize) {
        PageAllocator.shared.release(physical)
      }
      let page = first + index
      bits[page / 64] &= ~(1 << UInt64(page % 64))
    }
    hint = min(hint, first)
  }

  private static func claimRun(_ count: Int) -> Int? {
    var first = hint
    var length = 0
    var page = hint
    while page < pageCount {
      if bits[page / 64] & (1 << UInt64(page % 64)) == 0 {
        if length == 0 { first = page }
        length += 1
        if length == count {
          for claimed in first..<(first + count) { bits[claimed / 64] |= 1 << UInt64(claimed % 64) }
          if first == hint { hint = first + count }
          return first
        }
      } else {
        length = 0
      }
      page += 1
    }
    return nil
  }
}
