// A process's address space: its own PML4, whose kernel slots (the heap window and the
// higher half) point at the kernel's shared tables, and a sorted list of regions, each
// a range of user addresses mapping a memory object from an offset with a protection
// (Zircon's VMAR, flattened). The page tables are a cache of the regions: vm_unmap and
// teardown walk regions and existing tables, so they cost what is mapped, never the
// size of the range asked for, and they run with interrupts enabled.
//
// Lock rule: `lock` (a sleeping mutex) guards the region list, `mappedBytes` and every
// page-table edit of this space; it is taken in thread context only, never inside a
// spinlock. The page allocator's own lock nests inside it.

/// Where user memory lives (kernel_layout.h has USER_SPACE_END).
enum UserLayout {
  static let pageSize = PageAllocator.pageSize
  /// Where vm_map starts looking for room (program images usually lie below).
  static let imageEnd: UInt64 = 0x10_0000_0000
  static let stackTop = UserSpace.end - pageSize  // a guard page above
  static let stackPages: UInt64 = 16
  /// The stack and the guard page below it: no image segment or vm_map may use it.
  static let stackAreaStart = stackTop - stackPages * pageSize - pageSize
  /// The highest address vm_map may choose.
  static let mapEnd = stackAreaStart
}

struct Region {
  var start: UInt64
  var length: UInt64
  var prot: VmProt
  var object: MemoryObject
  /// Bytes into `object` where this region begins.
  var offset: UInt64

  var end: UInt64 { start + length }
}

final class AddressSpace {
  static let regionLimit = 128
  /// The per-process user memory limit (what is mapped, and the shared memory objects
  /// the process made: UserMemoryAccount).
  static let mappedLimit: UInt64 = UserMemoryAccount.limit
  /// PML4 slots shared with the kernel: the heap window (255) and the higher half.
  static let firstKernelSlot = 255

  /// The region list starts with room for this many and doubles up to regionLimit.
  private static let initialRegions = 8

  let tables: PageTables
  private let lock = KernelMutex()
  private var regions: UnsafeMutablePointer<Region>
  private var regionCapacity: Int
  private var regionCount = 0
  private(set) var mappedBytes: UInt64 = 0
  /// This process's user memory: `mappedBytes` and its shared memory objects.
  let account: UserMemoryAccount

  private init(tables: PageTables, regions: UnsafeMutablePointer<Region>, job: UserMemoryAccount) {
    self.tables = tables
    self.account = UserMemoryAccount(job: job)
    self.regions = regions
    self.regionCapacity = Self.initialRegions
  }

  /// A new, empty address space whose memory is charged to it and to `job`'s account,
  /// or nil when memory is short.
  static func create(job: UserMemoryAccount) -> AddressSpace? {
    guard let list = allocateRegions(initialRegions) else { return nil }
    guard let tables = PageTables.create(forUser: true) else {
      _ = KernelHeap.free(UnsafeMutableRawPointer(list))
      return nil
    }
    let kernel = DirectMap.pointer(physical: KernelAddressSpace.tables.root).assumingMemoryBound(to: UInt64.self)
    let mine = DirectMap.pointer(physical: tables.root).assumingMemoryBound(to: UInt64.self)
    for slot in firstKernelSlot..<512 { mine[slot] = kernel[slot] }
    return AddressSpace(tables: tables, regions: list, job: job)
  }

  private static func allocateRegions(_ count: Int) -> UnsafeMutablePointer<Region>? {
    KernelHeap.allocate(size: count * MemoryLayout<Region>.stride, alignment: MemoryLayout<Region>.alignment)?
      .bindMemory(to: Region.self, capacity: count)
  }

  /// Room for one more region: false at regionLimit or when the heap says no.
  private func makeRoom() -> Bool {
    if regionCount < regionCapacity { return true }
    let larger = min(regionCapacity * 2, Self.regionLimit)
    guard larger > regionCapacity, let moved = Self.allocateRegions(larger) else { return false }
    moved.moveInitialize(from: regions, count: regionCount)
    _ = KernelHeap.free(UnsafeMutableRawPointer(regions))
    regions = moved
    regionCapacity = larger
    return true
  }

  enum Placement {
    /// Exactly here, or address_in_use.
    case fixed(UInt64)
    /// Here if the whole range is free, else the first free range at or above imageEnd.
    case hint(UInt64)
  }

  /// Maps all of `object` with `prot`; returns the start address.
  func map(_ object: MemoryObject, _ placement: Placement, prot: VmProt) throws(AbiError) -> UInt64 {
    let length = object.byteCount
    return try lock.withLock { () throws(AbiError) -> UInt64 in
      guard makeRoom(), account.charge(length) else { throw .noMemory }
      var mapped = false
      defer { if !mapped { account.release(length) } }
      let start: UInt64
      switch placement {
      case .fixed(let address):
        guard isFree(address, length) else { throw .addressInUse }
        start = address
      case .hint(let address):
        if address >= UserLayout.imageEnd, address <= UserLayout.mapEnd, length <= UserLayout.mapEnd - address, isFree(address, length) {
          start = address
        } else {
          start = try firstFit(length)
        }
      }
      var flags: PageFlags = [.user]
      if prot.contains(.write) { flags.insert(.writable) }
      if !prot.contains(.execute) { flags.insert(.noExecute) }
      if object.isUncached { flags.formUnion([.cacheDisable, .writeThrough]) }
      var page = 0
      while page < object.pageCount {
        guard let physical = object.physicalPage(page) else { break }
        do throws(MapError) {
          try tables.map(start + UInt64(page) * UserLayout.pageSize, to: physical, flags: flags)
        } catch {
          tables.unmapUserRange(start, start + length)
          throw .noMemory
        }
        page += 1
      }
      insert(Region(start: start, length: length, prot: prot, object: object, offset: 0))
      mappedBytes += length
      mapped = true
      return start
    }
  }

  /// Removes every mapping in [start, start + length). Pages of a memory object that
  /// only this region mapped are given back at once; shared ones stay with their object.
  func unmap(_ start: UInt64, _ length: UInt64) {
    let end = start + length
    lock.withLock {
      var index = 0
      while index < regionCount {
        let region = regions[index]
        guard region.start < end else { break }
        guard region.end > start else { index += 1; continue }
        let cutStart = max(region.start, start)
        let cutEnd = min(region.end, end)
        tables.unmapUserRange(cutStart, cutEnd)
        if region.object.isPrivate {
          let first = Int((region.offset + cutStart - region.start) / UserLayout.pageSize)
          region.object.decommit(first: first, count: Int((cutEnd - cutStart) / UserLayout.pageSize))
        }
        mappedBytes -= cutEnd - cutStart
        account.release(cutEnd - cutStart)
        if cutStart > region.start && cutEnd < region.end {
          // A hole in the middle: the region becomes two.
          regions[index].length = cutStart - region.start
          var tail = region
          tail.start = cutEnd
          tail.length = region.end - cutEnd
          tail.offset = region.offset + (cutEnd - region.start)
          if makeRoom() {
            insert(tail)
          } else {
            // No room to split: give up the tail as well, like a full unmap of it.
            tables.unmapUserRange(tail.start, tail.end)
            mappedBytes -= tail.length
            account.release(tail.length)
          }
          index += 2
        } else if cutStart > region.start {
          regions[index].length = cutStart - region.start
          index += 1
        } else if cutEnd < region.end {
          regions[index].offset += cutEnd - region.start
          regions[index].length = region.end - cutEnd
          regions[index].start = cutEnd
          index += 1
        } else {
          remove(at: index)
        }
      }
    }
  }

  /// True when nothing is mapped anywhere in [address, address + length).
  func isFree(_ address: UInt64, _ length: UInt64) -> Bool {
    for index in 0..<regionCount where regions[index].start < address + length && regions[index].end > address {
      return false
    }
    return true
  }

  /// The lowest free run of `length` bytes between imageEnd and mapEnd (first fit, so
  /// freed addresses are used again).
  private func firstFit(_ length: UInt64) throws(AbiError) -> UInt64 {
    var candidate = UserLayout.imageEnd
    for index in 0..<regionCount where regions[index].end > candidate {
      if regions[index].start >= candidate && regions[index].start - candidate >= length { break }
      candidate = regions[index].end
    }
    guard candidate <= UserLayout.mapEnd, length <= UserLayout.mapEnd - candidate else { throw .noMemory }
    return candidate
  }

  private func insert(_ region: Region) {
    var index = regionCount
    while index > 0 && regions[index - 1].start > region.start {
      (regions + index).moveInitialize(from: regions + index - 1, count: 1)
      index -= 1
    }
    (regions + index).initialize(to: region)
    regionCount += 1
  }

  private func remove(at index: Int) {
    (regions + index).deinitialize(count: 1)
    if index + 1 < regionCount {
      (regions + index).moveInitialize(from: regions + index + 1, count: regionCount - index - 1)
    }
    regionCount -= 1
  }

  /// Frees everything: the regions (and with them every memory object only they held)
  /// and the page tables. Runs when no thread can run on these tables any more, with
  /// interrupts enabled.
  /// Idempotent.
  func tearDown() {
    #if DEBUG
    // Teardown frees much; it must never hold off the timer (the M3 kernel did).
    if !Interrupts.areEnabled { kernelPanic(.selfCheckFailed, "an address space torn down with interrupts masked") }
    #endif
    lock.withLock {
      guard !tornDown else { return }
      tornDown = true
      tables.destroyUserTables(userSlots: Self.firstKernelSlot)
      while regionCount > 0 { remove(at: regionCount - 1) }
      account.release(mappedBytes)
      mappedBytes = 0
    }
  }
  private var tornDown = false

  deinit {
    tearDown()
    _ = KernelHeap.free(UnsafeMutableRawPointer(regions))
  }
}
