// The kernel's page tables, built in Swift to replace the boot tables: kernel text
// read-only and executable, rodata read-only, data and bss writable and never
// executable, the boot stack's guard page unmapped, all physical memory direct-mapped
// (never executable), the heap window's bootstrap arena, and nothing at low addresses:
// the boot identity map is gone. EFER.NXE and CR0.WP are turned on first, so NX bits
// are honoured and the kernel's own writes respect read-only pages.
import X86Shim

enum KernelAddressSpace {
  nonisolated(unsafe) static var tables = PageTables(root: 0)
  /// Bytes of physical memory the direct map covers.
  nonisolated(unsafe) static var directMapSize: UInt64 = 0

  private static let msrEfer: UInt32 = 0xc000_0080
  private static let eferNoExecuteEnable: UInt64 = 1 << 11
  private static let cr0WriteProtect: UInt64 = 1 << 16

  static func start(_ boot: BootInfo) {
    guard x86_cpuid(0x8000_0001, 0, 3) & (1 << 20) != 0 else {
      kernelPanic(.badMemoryMap, "CPU lacks the NX bit; W^X cannot be enforced")
    }
    guard let tables = PageTables.create(forUser: false) else { kernelPanic(.outOfPages, "no page for the kernel PML4") }
    let vma = UInt64(KERNEL_VMA)
    do throws(MapError) {
      // Kernel image, section by section.
      try mapRange(tables, UInt64(layout_text_start()), UInt64(layout_text_end()), offset: vma, [.global])
      try mapRange(tables, UInt64(layout_rodata_start()), UInt64(layout_rodata_end()), offset: vma, [.global, .noExecute])
      let guardPage = UInt64(layout_boot_stack_guard())
      try mapRange(tables, UInt64(layout_data_start()), guardPage, offset: vma, [.global, .writable, .noExecute])
      try mapRange(tables, guardPage + PageAllocator.pageSize, UInt64(layout_kernel_end()), offset: vma, [.global, .writable, .noExecute])

      // Direct map: every byte of RAM, and at least the first 4 GiB so device
      // registers (LAPIC, IOAPIC) are reachable; 2 MiB pages, never executable.
      // Reserved ranges above 4 GiB (q35 lists one near 1 TiB) are left out: mapping
      // them would cost megabytes of page tables for memory nobody uses.
      var highest = UInt64(EARLY_DIRECT_MAP_SIZE)
      for region in boot.memoryMap where region.kind != .reserved && region.kind != .defective {
        highest = max(highest, region.base &+ region.length)
      }
      directMapSize = roundUp(highest, PageSize.large.rawValue)
      var physical: UInt64 = 0
      while physical < directMapSize {
        try tables.map(UInt64(DirectMap.base) + physical, to: physical, size: .large, flags: [.global, .writable, .noExecute])
        physical += PageSize.large.rawValue
      }

      // The heap window's bootstrap arena keeps its physical pages.
      let arena = UInt64(layout_early_heap_physical())
      var offset: UInt64 = 0
      while offset < UInt64(EARLY_HEAP_SIZE) {
        try tables.map(UInt64(KERNEL_HEAP_BASE) + offset, to: arena + offset, flags: [.global, .writable, .noExecute])
        offset += PageAllocator.pageSize
      }
      // Every kernel PML4 slot exists from the start: processes copy them once.
      for base in [UInt64(KERNEL_HEAP_BASE), UInt64(KERNEL_MMIO_BASE), UInt64(KERNEL_STACKS_BASE), UInt64(KERNEL_VMA)] {
        try tables.prepareTopLevel(base)
      }
    } catch {
      kernelPanic(.outOfPages, "building the kernel page tables failed")
    }

    x86_wrmsr(msrEfer, x86_rdmsr(msrEfer) | eferNoExecuteEnable)
    x86_write_cr0(x86_read_cr0() | cr0WriteProtect)
    tables.activate()
    self.tables = tables
    verify()
  }

  /// Maps [start, end) of the image (virtual) to virtual - offset, in 4 KiB pages.
  private static func mapRange(_ tables: PageTables, _ start: UInt64, _ end: UInt64, offset: UInt64, _ flags: PageFlags) throws(MapError) {
    var page = start & ~(PageAllocator.pageSize - 1)
    while page < end {
      try tables.map(page, to: page - offset, flags: flags)
      page += PageAllocator.pageSize
    }
  }

  /// Proves the new tables are the ones in use and say what they should: a write and
  /// read through a fresh page's direct mapping, and the permissions of each region.
  private static func verify() {
    guard let page = PageAllocator.shared.allocate() else { kernelPanic(.outOfPages, "no page to check paging with") }
    let probe = page.bytes.assumingMemoryBound(to: UInt64.self)
    probe[0] = 0x4150_5553_5041_4745  // "APUSPAGE"
    probe[511] = ~probe[0]
    let readBack = probe[0] == 0x4150_5553_5041_4745 && probe[511] == ~0x4150_5553_5041_4745
    let text = tables.translate(UInt64(layout_text_start()))
    let data = tables.translate(UInt64(layout_data_start()))
    let direct = tables.translate(UInt64(DirectMap.base) + page.address)
    let checks = readBack
      && x86_read_cr3() & ~0xfff == tables.root
      && text.map { !$0.flags.contains(.writable) && !$0.flags.contains(.noExecute) } == true
      && data.map { $0.flags.contains(.writable) && $0.flags.contains(.noExecute) } == true
      && direct?.physical == page.address
      && tables.translate(UInt64(KERNEL_PHYS_BASE)) == nil       // identity map gone
      && tables.translate(UInt64(layout_boot_stack_guard())) == nil  // guard unmapped
    guard checks else { kernelPanic(.selfCheckFailed, "the kernel page tables do not say what was mapped") }
    kprint("MM: paging=on direct-map=\(directMapSize >> 20) MiB text=RX rodata=R data=RW-NX identity=off free=\(PageAllocator.shared.freePages) pages")
  }
}
