// Device registers mapped uncached in the MMIO window (KERNEL_MMIO_BASE): the cached
// direct map must never be used for them. Mappings are made once per device and kept;
// a probe window is one page remapped to each place it looks at (PCI configuration
// space while enumerating).
import X86Shim

enum DeviceMemory {
  nonisolated(unsafe) private static var next = UInt64(KERNEL_MMIO_BASE)

  private static let flags: PageFlags = [.global, .writable, .noExecute, .cacheDisable, .writeThrough]

  /// A page of the window for `remap`: nothing is mapped there yet.
  static func reserveProbePage() -> UInt64 {
    guard next < UInt64(KERNEL_MMIO_BASE) + UInt64(KERNEL_MMIO_SIZE) else { kernelPanic(.outOfPages, "MMIO window exhausted") }
    defer { next += PageAllocator.pageSize }
    return next
  }

  /// Points probe page `virtual` at the device page `physical` (page-aligned).
  static func remap(_ virtual: UInt64, to physical: UInt64) {
    KernelAddressSpace.tables.unmap(virtual)  // invalidates the old translation
    do {
      try KernelAddressSpace.tables.map(virtual, to: physical, flags: flags)
    } catch {
      kernelPanic(.outOfPages, "cannot map device registers at 0x\(hex: physical)")
    }
  }

  /// Maps `size` bytes of device registers at `physical`; returns their virtual
  /// address (with the same offset into the first page).
  static func map(physical: UInt64, size: UInt64) -> UInt64 {
    let first = physical & ~(PageAllocator.pageSize - 1)
    let last = roundUp(physical + size, PageAllocator.pageSize)
    let base = next
    var page = first
    while page < last {
      guard next < UInt64(KERNEL_MMIO_BASE) + UInt64(KERNEL_MMIO_SIZE) else {
        kernelPanic(.outOfPages, "MMIO window exhausted")
      }
      do {
        try KernelAddressSpace.tables.map(next, to: page, flags: flags)
      } catch {
        kernelPanic(.outOfPages, "cannot map device registers at 0x\(hex: page)")
      }
      next += PageAllocator.pageSize
      page += PageAllocator.pageSize
    }
    return base + (physical - first)
  }
}
