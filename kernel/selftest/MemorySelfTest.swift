// test=mm: the page allocator and the heap must give back exactly what they took.
// Heap: mixed sizes from every size class and the large path, freed in a scrambled
// order; bytes in use and free pages return to where they started, except for
// page-table pages the heap window needed, which are kept and counted. Pages (second,
// so the count it prints is the same before and after): allocate until the allocator
// is empty, chaining the pages through their own first word so the test needs no
// memory of its own, free them all, and compare free counts.

enum MemorySelfTest {
  static func run() {
    checkHeap()
    let free = checkPages()
    kprint("MM: selftest ok free=\(free) pages")
  }

  /// Returns the free page count, the same before and after.
  private static func checkPages() -> Int {
    let startFree = PageAllocator.shared.freePages

    var chain: UInt64 = 0
    var taken = 0
    while let page = PageAllocator.shared.allocate() {
      page.bytes.storeBytes(of: chain, as: UInt64.self)
      chain = page.intoAddress()
      taken += 1
    }
    let exhausted = PageAllocator.shared.freePages == 0 && taken == startFree
    while chain != 0 {
      let next = DirectMap.pointer(physical: chain).load(as: UInt64.self)
      PageAllocator.shared.release(chain)
      chain = next
    }
    guard exhausted, PageAllocator.shared.freePages == startFree else {
      kernelPanic(.selfCheckFailed, "page allocator: took \(taken) of \(startFree), \(PageAllocator.shared.freePages) free after returning them")
    }
    kprint("MM: pages exhausted after \(taken) and all returned")

    return startFree
  }

  private static func checkHeap() {
    let sizes = [1, 16, 17, 48, 100, 256, 700, 1024, 1025, 3000, 4096, 9000]
    let heapBytes = KernelHeap.bytesInUse
    let heapStartFree = PageAllocator.shared.freePages
    let startTables = PageTables.tablePages
    /// Free pages plus the page tables created since the heap test began.
    func accounted() -> Int { PageTables.freePages(countingTablesSince: startTables) }
    var blocks: [UnsafeMutableRawPointer] = []
    blocks.reserveCapacity(sizes.count * 40)
    let listBytes = KernelHeap.bytesInUse
    let listFree = accounted()
    for round in 0..<40 {
      for size in sizes {
        let alignment = round % 3 == 0 ? 64 : 16
        guard let block = KernelHeap.allocate(size: size, alignment: alignment),
          UInt(bitPattern: block) % UInt(alignment) == 0
        else { kernelPanic(.selfCheckFailed, "heap: \(size) bytes aligned \(alignment) failed") }
        block.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: size), count: size)
        blocks.append(block)
      }
    }
    let grewBy = listFree - accounted()
    // Free in a scrambled order (a stride coprime to the count visits each once).
    let count = blocks.count
    var index = 0
    for _ in 0..<count {
      index = (index + 7) % count
      guard KernelHeap.free(blocks[index]) else { kernelPanic(.selfCheckFailed, "heap: free refused a live block") }
    }
    guard KernelHeap.bytesInUse == listBytes, accounted() == listFree else {
      kernelPanic(.selfCheckFailed, "heap: \(KernelHeap.bytesInUse - listBytes) bytes and \(listFree - accounted()) pages not returned")
    }
    blocks = []
    guard KernelHeap.bytesInUse == heapBytes, accounted() == heapStartFree else {
      kernelPanic(.selfCheckFailed, "heap: the block list itself was not returned")
    }
    kprint("MM: heap \(count) blocks of \(sizes.count) sizes grew by \(grewBy) pages and returned all (\(PageTables.tablePages - startTables) page-table pages kept)")
  }

  /// test=tlb: with a process's page tables loaded (as during any system call), free a
  /// heap page and map the same virtual page to a different frame. The write through
  /// the new mapping must land in the new frame; with a stale global TLB entry it lands
  /// in the old one.
  static func staleTLB() {
    guard let space = AddressSpace.create(job: UserMemoryAccount.forJob()) else { kernelPanic(.outOfMemory, "tlb: no address space") }
    space.tables.activate()
    guard let first = HeapWindow.mapRun(1) else { kernelPanic(.outOfMemory, "tlb: no heap page") }
    let pointer = UnsafeMutablePointer<UInt64>(bitPattern: UInt(first))!
    pointer.pointee = 0x1111  // the TLB now holds first → frame A
    HeapWindow.unmapRun(first, count: 1)  // frame A is free again
    let holdsA = PageAllocator.shared.allocate()  // so the next mapping gets another frame
    guard let second = HeapWindow.mapRun(1), second == first else { kernelPanic(.selfCheckFailed, "tlb: the window did not reuse the page") }
    pointer.pointee = 0x2222
    let frameB = space.tables.translate(second)!.physical
    let landed = DirectMap.pointer(physical: frameB).load(as: UInt64.self)
    HeapWindow.unmapRun(second, count: 1)
    if let page = holdsA { PageAllocator.shared.release(page.intoAddress()) }
    KernelAddressSpace.tables.activate()
    space.tearDown()
    guard landed == 0x2222 else { kernelPanic(.selfCheckFailed, "tlb: a write went through a stale TLB entry to a freed page") }
    kprint("MM: tlb ok: kernel-half unmaps are invalidated whatever CR3 holds")
  }
}
