// A process's address space: its own PML4 whose kernel entries (the heap window and
// the whole higher half) point at the kernel's shared tables, and whose lower half
// holds the process's pages, mapped with the user bit. Destroying it frees every user
// page and every user page table; the shared kernel tables are never touched.
import X86Shim

struct AddressSpace {
  let tables: PageTables

  /// PML4 slots shared with the kernel: the heap window (255) and the higher half.
  static let firstKernelSlot = 255

  static func create() -> AddressSpace? {
    guard let tables = PageTables.create() else { return nil }
    let kernel = DirectMap.pointer(physical: KernelAddressSpace.tables.root).assumingMemoryBound(to: UInt64.self)
    let mine = DirectMap.pointer(physical: tables.root).assumingMemoryBound(to: UInt64.self)
    for slot in firstKernelSlot..<512 { mine[slot] = kernel[slot] }
    return AddressSpace(tables: tables)
  }

  /// Maps a fresh zeroed page at `virtual` for the user; returns its kernel view.
  func mapZeroedPage(at virtual: UInt64, writable: Bool, executable: Bool) throws(AbiError) -> UnsafeMutableRawPointer {
    guard let page = PageAllocator.shared.allocateZeroed() else { throw .noMemory }
    var flags: PageFlags = [.user]
    if writable { flags.insert(.writable) }
    if !executable { flags.insert(.noExecute) }
    let bytes = page.bytes
    let physical = page.intoAddress()
    do {
      try tables.map(virtual, to: physical, flags: flags)
    } catch {
      PageAllocator.shared.release(physical)
      if case .alreadyMapped = error { throw .addressInUse }
      throw .noMemory
    }
    return bytes
  }

  /// Unmaps one user page and frees it, if mapped.
  func unmapPage(at virtual: UInt64) {
    if let physical = tables.unmap(virtual) { PageAllocator.shared.release(physical) }
  }

  func isMapped(_ virtual: UInt64) -> Bool { tables.translate(virtual) != nil }

  /// Frees every user page and table, then the PML4. Must not be the active tables.
  func destroy() {
    let pml4 = DirectMap.pointer(physical: tables.root).assumingMemoryBound(to: UInt64.self)
    for slot in 0..<Self.firstKernelSlot where pml4[slot] & PageFlags.present.rawValue != 0 {
      freeTable(pml4[slot] & Self.addressMask, level: 3)
      pml4[slot] = 0
    }
    PageTables.forgetTable()
    PageAllocator.shared.release(tables.root)
  }

  private static let addressMask: UInt64 = 0x000f_ffff_ffff_f000

  /// Frees a table at `level` (3 = PDPT … 1 = PT) and everything below it.
  private func freeTable(_ table: UInt64, level: Int) {
    let entries = DirectMap.pointer(physical: table).assumingMemoryBound(to: UInt64.self)
    for index in 0..<512 where entries[index] & PageFlags.present.rawValue != 0 {
      let target = entries[index] & Self.addressMask
      if level == 1 {
        PageAllocator.shared.release(target)
      } else {
        freeTable(target, level: level - 1)
      }
    }
    PageTables.forgetTable()
    PageAllocator.shared.release(table)
  }
}
