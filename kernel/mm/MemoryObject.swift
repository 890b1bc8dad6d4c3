// A memory object owns physical pages (Zircon's VMO): address-space regions map it,
// and a page is freed only when the object dies, that is when no mapping and no handle
// holds it any more, so unmapping shared pages can never free them twice. M4's shared
// memory objects are this type behind an shm handle; M5 adds DMA memory (one
// physically contiguous run, owned) and device registers (a BAR's pages, not owned,
// mapped uncached).
//
// Lock rule: the page list is written only while the object is being built and by
// `decommit`, which the owning AddressSpace calls under its mutex for an object only
// it maps.

final class MemoryObject: KernelObject {
  enum Backing {
    /// Zeroed pages from the page allocator, owned and freed by the object.
    case anonymous
    /// One physically contiguous run of zeroed pages, owned: DMA memory.
    case contiguous
    /// Device registers: the pages are the device's, never freed, mapped uncached.
    case device
  }

  let backing: Backing
  let pageCount: Int
  /// Physical address of each page; 0: given back (decommitted).
  private let pages: UnsafeMutablePointer<UInt64>
  /// Pages still owned.
  private(set) var committed = 0
  /// True while no handle names it: exactly one region maps it, so unmapping part of
  /// that region may free the pages behind it at once.
  var isPrivate = true
  /// shm_create's maker, charged the object's size until it dies (UserMemoryAccount).
  private var chargedTo: UserMemoryAccount? = nil

  private init(pageCount: Int, pages: UnsafeMutablePointer<UInt64>, backing: Backing = .anonymous) {
    self.backing = backing
    self.pageCount = pageCount
    self.pages = pages
    super.init(kind: .shm)
  }

  /// `pageCount` zeroed pages charged to user memory, or nil (no_memory) when they or
  /// the page list do not fit; nothing is held after a failure.
  static func anonymous(pageCount: Int) -> MemoryObject? {
    guard pageCount > 0, pageCount <= PageAllocator.shared.pagesAvailableToUser,
      let list = KernelHeap.allocate(size: pageCount * 8, alignment: 8)
    else { return nil }
    let pages = list.bindMemory(to: UInt64.self, capacity: pageCount)
    pages.initialize(repeating: 0, count: pageCount)
    let object = MemoryObject(pageCount: pageCount, pages: pages)
    for index in 0..<pageCount {
      guard let page = PageAllocator.shared.allocateZeroedForUser() else { return nil }  // deinit frees the rest
      pages[index] = page.intoAddress()
      object.committed += 1
    }
    return object
  }

  /// `pageCount` physically contiguous zeroed pages charged to user memory (DMA), or
  /// nil (no_memory).
  static func contiguous(pageCount: Int) -> MemoryObject? {
    guard pageCount > 0, let list = KernelHeap.allocate(size: pageCount * 8, alignment: 8) else { return nil }
    guard let first = PageAllocator.shared.allocateContiguousZeroedForUser(pageCount) else {
      _ = KernelHeap.free(list)
      return nil
    }
    let pages = list.bindMemory(to: UInt64.self, capacity: pageCount)
    for index in 0..<pageCount { (pages + index).initialize(to: first + UInt64(index) * PageAllocator.pageSize) }
    let object = MemoryObject(pageCount: pageCount, pages: pages, backing: .contiguous)
    object.committed = pageCount
    object.isPrivate = false
    return object
  }

  /// The device registers in [physical, physical + byteCount) (page-aligned), or nil
  /// when the page list does not fit in the heap.
  static func device(physical: UInt64, byteCount: UInt64) -> MemoryObject? {
    let pageCount = Int(byteCount / PageAllocator.pageSize)
    guard pageCount > 0, let list = KernelHeap.allocate(size: pageCount * 8, alignment: 8) else { return nil }
    let pages = list.bindMemory(to: UInt64.self, capacity: pageCount)
    for index in 0..<pageCount { (pages + index).initialize(to: physical + UInt64(index) * PageAllocator.pageSize) }
    let object = MemoryObject(pageCount: pageCount, pages: pages, backing: .device)
    object.isPrivate = false  // never decommitted: the pages are the device's
    return object
  }

  /// A shared object (shm_create) of `pageCount` zeroed pages, charged to `account`
  /// until it dies; nil (no_memory) when the account's limit or user memory is short.
  static func shared(pageCount: Int, chargedTo account: UserMemoryAccount) -> MemoryObject? {
    let bytes = UInt64(pageCount) * PageAllocator.pageSize
    guard account.charge(bytes) else { return nil }
    guard let object = anonymous(pageCount: pageCount) else {
      account.release(bytes)
      return nil
    }
    object.isPrivate = false
    object.chargedTo = account
    return object
  }

  /// Device registers must not be cached.
  var isUncached: Bool { backing == .device }

  var byteCount: UInt64 { UInt64(pageCount) * PageAllocator.pageSize }

  /// The physical page at `index`, or nil if it was given back.
  func physicalPage(_ index: Int) -> UInt64? {
    index < pageCount && pages[index] != 0 ? pages[index] : nil
  }

  /// Gives back pages [first, first + count): they are mapped nowhere any more.
  func decommit(first: Int, count: Int) {
    var freed = 0
    for index in first..<min(first + count, pageCount) where pages[index] != 0 {
      PageAllocator.shared.release(pages[index])
      pages[index] = 0
      freed += 1
    }
    committed -= freed
  }

  deinit {
    chargedTo?.release(byteCount)
    if backing != .device {
      for index in 0..<pageCount where pages[index] != 0 { PageAllocator.shared.release(pages[index]) }
    }
    pages.deinitialize(count: pageCount)
    _ = KernelHeap.free(UnsafeMutableRawPointer(pages))
  }
}
