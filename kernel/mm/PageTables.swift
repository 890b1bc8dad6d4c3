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
  /// Pages the kernel's own tables hold (the shared kernel half: heap window, stack
  /// slots, MMIO). They are kept for reuse once made, so memory accounting counts them
  /// as free. User tables are not counted: a process's tables are freed when they
  /// empty and at teardown, so one that is not shows as a lost page.
  nonisolated(unsafe) private(set) static var tablePages = 0
  /// Physical address of the PML4.
  let root: UInt64

  init(root: UInt64) { self.root = root }

  /// The lowest address of the kernel-owned PML4 slots every address space shares.
  static let sharedKernelBase = UInt64(KERNEL_HEAP_BASE)

  /// A new, empty top-level table; a user one is charged to user memory.
  static func create(forUser: Bool) -> PageTables? {
    let fresh = forUser ? PageAllocator.shared.allocateZeroedForUser() : PageAllocator.shared.allocateZeroed()
    guard let page = fresh else { return nil }
    if !forUser { Interrupts.withDisabled { tablePages += 1 } }
    return PageTables(root: page.intoAddress())
  }

  /// Free pages, counting page-table pages created since `baseline` (a `tablePages`
  /// snapshot) as free: intermediate tables are kept for reuse by design, so a test
  /// that checks memory comes back must not count them as lost.
  static func freePages(countingTablesSince baseline: Int) -> Int {
    PageAllocator.shared.freePages + tablePages - baseline
  }

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

  /// Removes every 4 KiB mapping in the user range [start, end) and frees the tables
  /// that leaves empty; returns how many pages were unmapped. It visits only tables
  /// that exist, so its cost follows what is mapped, not the size of the range. The
  /// pages themselves belong to their memory objects and are not freed here.
  @discardableResult
  func unmapUserRange(_ start: UInt64, _ end: UInt64) -> Int {
    guard start < end, end <= Self.sharedKernelBase else { return 0 }
    let active = x86_read_cr3() & Self.addressMask == root
    let unmapped = Interrupts.withDisabled { clear(root, level: 4, base: 0, start, end) }
    if active { x86_write_cr3(root) }  // one flush for the whole range
    return unmapped
  }

  /// Clears entries of `table` (covering addresses from `base`) inside [start, end);
  /// frees each lower table that ends up empty.
  private func clear(_ table: UInt64, level: Int, base: UInt64, _ start: UInt64, _ end: UInt64) -> Int {
    let span: UInt64 = 1 << (12 + 9 * UInt64(level - 1))
    let entries = Self.entries(table)
    let first = start <= base ? 0 : Int((start - base) / span)
    var unmapped = 0
    var index = first
    while index < 512 {
      let low = base + UInt64(index) * span
      if low >= end { break }
      let entry = entries[index]
      if entry & PageFlags.present.rawValue != 0 {
        if level == 1 {
          entries[index] = 0
          unmapped += 1
        } else {
          let child = entry & Self.addressMask
          unmapped += clear(child, level: level - 1, base: low, start, end)
          if Self.isEmpty(child) {
            entries[index] = 0
            PageAllocator.shared.release(child)
          }
        }
      }
      index += 1
    }
    return unmapped
  }

  private static func isEmpty(_ table: UInt64) -> Bool {
    let entries = Self.entries(table)
    for index in 0..<512 where entries[index] != 0 { return false }
    return true
  }

  /// Frees every table below the user slots of the PML4 (not the leaf pages, which
  /// their memory objects own), then the PML4. The tables must not be loaded.
  func destroyUserTables(userSlots: Int) {
    for slot in 0..<userSlots {
      let entry = Self.entries(root)[slot]
      if entry & PageFlags.present.rawValue != 0 { freeTables(entry & Self.addressMask, level: 3) }
      Self.entries(root)[slot] = 0
    }
    PageAllocator.shared.release(root)
  }

  private func freeTables(_ table: UInt64, level: Int) {
    if level > 1 {
      let entries = Self.entries(table)
      for index in 0..<512 where entries[index] & PageFlags.present.rawValue != 0 {
        freeTables(entries[index] & Self.addressMask, level: level - 1)
      }
    }
    PageAllocator.shared.release(table)
  }

  /// The physical address and leaf flags `virtual` maps to, or nil.
  func translate(_ virtual: UInt64) -> (physical: UInt64, flags: PageFlags)? {
    // Unrolled (no 1 GiB pages exist): IPC copies walk this for every page they touch.
    let present = PageFlags.present.rawValue
    let pml4e = Self.entries(root)[Self.slot(virtual, 39)]
    guard pml4e & present != 0 else { return nil }
    let pdpte = Self.entries(pml4e & Self.addressMask)[Self.slot(virtual, 30)]
    guard pdpte & present != 0 else { return nil }
    let pde = Self.entries(pdpte & Self.addressMask)[Self.slot(virtual, 21)]
    guard pde & present != 0 else { return nil }
    if pde & PageFlags.huge.rawValue != 0 {
      return ((pde & Self.addressMask & ~0x1f_ffff) | (virtual & 0x1f_ffff), PageFlags(rawValue: pde & ~Self.addressMask))
    }
    let pte = Self.entries(pde & Self.addressMask)[Self.slot(virtual, 12)]
    guard pte & present != 0 else { return nil }
    return ((pte & Self.addressMask) | (virtual & 0xfff), PageFlags(rawValue: pte & ~Self.addressMask))
  }

  @inline(__always)
  private static func slot(_ virtual: UInt64, _ shift: UInt64) -> Int {
    Int(truncatingIfNeeded: (virtual &>> shift) & 0x1ff)
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
        // Tables for user mappings are charged to user memory (they stop at the reserve).
        let fresh = user ? PageAllocator.shared.allocateZeroedForUser() : PageAllocator.shared.allocateZeroed()
        guard let page = fresh else { throw .outOfPages }
        if !user { Self.tablePages += 1 }  // interrupts are masked: map() holds them off
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
