// A four-level x86-64 page table, edited through the direct map. One type serves the
// boot tables, the kernel's own tables and (M3) each process's: map, unmap and
// translate, allocating intermediate tables from the page allocator. Intermediate
// entries are permissive (present, writable, user where asked); the leaf decides.
import X86Shim

struct PageFlags: OptionSet {
  let rawValue: UInt64
  static let present = PageFlags(rawValue: 1 << 0)
  static let writable = PageFlags(rawValue: 1 << 1)
  static let user = PageFlags(rawValue: 1 << 2)
  static let writeThrough = PageFlags(rawValue: 1 << 3)
  static let cacheDisable = PageFlags(rawValue: 1 << 4)
  static let huge = PageFlags(rawValue: 1 << 7)
  static let global = PageFlags(rawValue: 1 << 8)
  static let noExecute = PageFlags(rawValue: 1 << 63)
}

enum PageSize: UInt64 {
  case small = 0x1000      // 4 KiB, level 1
  case large = 0x20_0000   // 2 MiB, level 2
}

enum MapError: Error {
  case outOfPages
  case alreadyMapped(UInt64)
}

struct PageTables {
  private static let addressMask: UInt64 = 0x000f_ffff_ffff_f000
  /// Pages all page tables hold for intermediate levels. Unmapping keeps them (a
  /// region mapped once is likely mapped again), so memory accounting counts them.
  nonisolated(unsafe) private(set) static var tablePages = 0
  /// Physical address of the PML4.
  let root: UInt64

  init(root: UInt64) { self.root = root }

  /// The lowest address of the kernel-owned PML4 slots every address space shares.
  static let sharedKernelBase = UInt64(KERNEL_HEAP_BASE)

  /// A new, empty top-level table.
  static func create() -> PageTables? {
    guard let page = PageAllocator.shared.allocateZeroed() else { return nil }
    Interrupts.withDisabled { tablePages += 1 }
    return PageTables(root: page.intoAddress())
  }

  /// Free pages, counting page-table pages created since `baseline` (a `tablePages`
  /// snapshot) as free: intermediate tables are kept for reuse by design, so a test
  /// that checks memory comes back must not count them as lost.
  static func freePages(countingTablesSince baseline: Int) -> Int {
    PageAllocator.shared.freePages + tablePages - baseline
  }

  /// Accounts for a table page being freed (AddressSpace.destroy).
  static func forgetTable() { Interrupts.withDisabled { tablePages -= 1 } }

  /// Maps `virtual` to `physical` (both aligned to `size`).
  func map(_ virtual: UInt64, to physical: UInt64, size: PageSize = .small, flags: PageFlags) throws(MapError) {
    try Interrupts.withDisabled { () throws(MapError) in try mapLocked(virtual, to: physical, size: size, flags: flags) }
  }

  private func mapLocked(_ virtual: UInt64, to physical: UInt64, size: PageSize, flags: PageFlags) throws(MapError) {
    let leafLevel = size == .small ? 1 : 2
    let entry = try walk(virtual, to: leafLevel, creating: true, user: flags.contains(.user))!
    if entry.pointee & PageFlags.present.rawValue != 0 { throw .alreadyMapped(virtual) }
    let huge: PageFlags = size == .large ? .huge : []
    entry.pointee = physical | flags.union(.present).union(huge).rawValue
  }

  /// Removes a 4 KiB mapping; returns the physical page it named, if any.
  @discardableResult
  func unmap(_ virtual: UInt64) -> UInt64? {
    Interrupts.withDisabled { unmapLocked(virtual) }
  }

  private func unmapLocked(_ virtual: UInt64) -> UInt64? {
    guard let entry = try? walk(virtual, to: 1, creating: false, user: false),
      entry.pointee & PageFlags.present.rawValue != 0
    else { return nil }
    let physical = entry.pointee & Self.addressMask
    entry.pointee = 0
    // Kernel-half mappings are shared by every address space and global in the TLB (a
    // CR3 switch keeps them): invalidate them whatever CR3 holds. Lower-half ones only
    // matter if these tables are the ones loaded.
    if virtual >= Self.sharedKernelBase || x86_read_cr3() & Self.addressMask == root { x86_invlpg(virtual) }
    return physical
  }

  /// The physical address and leaf flags `virtual` maps to, or nil.
  func translate(_ virtual: UInt64) -> (physical: UInt64, flags: PageFlags)? {
    var table = root
    for level in stride(from: 4, through: 1, by: -1) {
      let entry = Self.entries(table)[Self.index(virtual, level)]
      guard entry & PageFlags.present.rawValue != 0 else { return nil }
      if level == 1 || (level == 2 && entry & PageFlags.huge.rawValue != 0) {
        let pageMask: UInt64 = level == 1 ? 0xfff : 0x1f_ffff
        let base = entry & Self.addressMask & ~pageMask
        return (base | (virtual & pageMask), PageFlags(rawValue: entry & ~Self.addressMask))
      }
      table = entry & Self.addressMask
    }
    return nil
  }

  /// Creates the second-level table under the PML4 slot of `virtual`, if missing. The
  /// kernel does this for every slot it will ever use before the first process copies
  /// them, so all address spaces share the same kernel tables forever.
  func prepareTopLevel(_ virtual: UInt64) throws(MapError) {
    _ = try Interrupts.withDisabled { () throws(MapError) in try walk(virtual, to: 3, creating: true, user: false) }
  }

  /// Makes these tables the CPU's.
  func activate() { x86_write_cr3(root) }

  // MARK: - walking

  /// The entry for `virtual` at `leafLevel` (1 = PT, 2 = PD), creating tables above it.
  private func walk(
    _ virtual: UInt64, to leafLevel: Int, creating: Bool, user: Bool
  ) throws(MapError) -> UnsafeMutablePointer<UInt64>? {
    var table = root
    var level = 4
    while level > leafLevel {
      let entry = Self.entries(table) + Self.index(virtual, level)
      if entry.pointee & PageFlags.present.rawValue == 0 {
        guard creating else { return nil }
        guard let page = PageAllocator.shared.allocateZeroed() else { throw .outOfPages }
        Self.tablePages += 1  // interrupts are masked: map() holds them off
        var flags: PageFlags = [.present, .writable]
        if user { flags.insert(.user) }
        entry.pointee = page.intoAddress() | flags.rawValue
      } else if entry.pointee & PageFlags.huge.rawValue != 0 {
        throw .alreadyMapped(virtual)  // a large page covers it
      } else if user {
        entry.pointee |= PageFlags.user.rawValue
      }
      table = entry.pointee & Self.addressMask
      level -= 1
    }
    return Self.entries(table) + Self.index(virtual, leafLevel)
  }

  private static func index(_ virtual: UInt64, _ level: Int) -> Int {
    Int((virtual >> (12 + 9 * UInt64(level - 1))) & 0x1ff)
  }

  // SAFETY: page-table pages come from the page allocator and are only reached
  // through the direct map; each holds 512 entries.
  private static func entries(_ table: UInt64) -> UnsafeMutablePointer<UInt64> {
    DirectMap.pointer(physical: table).assumingMemoryBound(to: UInt64.self)
  }
}
