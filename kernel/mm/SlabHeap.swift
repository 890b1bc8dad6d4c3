// The kernel heap once pages exist: small blocks from slabs, large ones from whole
// pages, all in the heap window. A slab is one page of equal blocks of one size class
// (16 … 1024 bytes) with a 64-byte header at its start; a page whose last block is
// freed is unmapped and returned at once, so freeing really gives memory back. A
// large block (over 1024 bytes, or alignment over 64) gets a run of pages after a
// header page, so its payload is page-aligned.

struct SlabHeap {
  static let sizeClasses = [16, 32, 64, 128, 256, 512, 1024]
  private static let headerSize = 64
  private static let slabMagic: UInt32 = 0x534c_4142  // "SLAB"
  private static let largeMagic: UInt64 = 0x4c41_5247_4542_4c4b  // "LARGEBLK"

  /// Per class: the first slab with a free block (0: none).
  private var partial = InlineArray<7, UInt64>(repeating: 0)
  private(set) var bytesInUse = 0
  private(set) var pagesInUse = 0

  // Slab header, at the start of the slab's page.
  private struct SlabHeader {
    var magic: UInt32
    var sizeClass: UInt16
    var used: UInt16
    var freeList: UInt64  // first free block, 0: none
    var next: UInt64      // next slab with free blocks, same class
    var previous: UInt64
  }

  mutating func allocate(size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    guard size >= 0, alignment > 0, alignment & (alignment - 1) == 0 else { return nil }
    if alignment <= Self.headerSize, let index = Self.sizeClasses.firstIndex(where: { $0 >= max(size, alignment) }) {
      return allocateSmall(index)
    }
    return allocateLarge(size: size, alignment: alignment)
  }

  /// Frees a block this heap handed out; false for any other pointer.
  mutating func free(_ pointer: UnsafeMutableRawPointer) -> Bool {
    let address = UInt64(UInt(bitPattern: pointer))
    guard HeapWindow.contains(address) else { return false }
    if address % PageAllocator.pageSize == 0 {
      return freeLarge(address)
    }
    return freeSmall(address)
  }

  // MARK: - small blocks

  private mutating func allocateSmall(_ index: Int) -> UnsafeMutableRawPointer? {
    if partial[index] == 0 {
      guard let page = HeapWindow.mapRun(1) else { return nil }
      pagesInUse += 1
      initializeSlab(page, index)
      link(page, index)
    }
    let slab = partial[index]
    let header = Self.header(slab)
    let block = header.pointee.freeList
    header.pointee.freeList = Self.word(block)
    header.pointee.used += 1
    if header.pointee.freeList == 0 { unlink(slab, index) }
    bytesInUse += Self.sizeClasses[index]
    return UnsafeMutableRawPointer(bitPattern: UInt(block))
  }

  private mutating func freeSmall(_ address: UInt64) -> Bool {
    let slab = address & ~(PageAllocator.pageSize - 1)
    let header = Self.header(slab)
    guard header.pointee.magic == Self.slabMagic, header.pointee.used > 0 else { return false }
    let index = Int(header.pointee.sizeClass)
    let size = UInt64(Self.sizeClasses[index])
    guard (address - slab) >= UInt64(Self.headerSize), (address - slab - UInt64(Self.headerSize)) % size == 0 else { return false }
    let wasFull = header.pointee.freeList == 0
    Self.setWord(address, header.pointee.freeList)
    header.pointee.freeList = address
    header.pointee.used -= 1
    bytesInUse -= Int(size)
    if wasFull { link(slab, index) }
    if header.pointee.used == 0 {
      unlink(slab, index)
      header.pointee.magic = 0
      HeapWindow.unmapRun(slab, count: 1)
      pagesInUse -= 1
    }
    return true
  }

  private func initializeSlab(_ page: UInt64, _ index: Int) {
    let size = UInt64(Self.sizeClasses[index])
    var block = page + UInt64(Self.headerSize)
    var first: UInt64 = 0
    var previous: UInt64 = 0
    while block + size <= page + PageAllocator.pageSize {
      if previous == 0 { first = block } else { Self.setWord(previous, block) }
      previous = block
      block += size
    }
    Self.setWord(previous, 0)
    Self.header(page).pointee = SlabHeader(magic: Self.slabMagic, sizeClass: UInt16(index), used: 0, freeList: first, next: 0, previous: 0)
  }

  private mutating func link(_ slab: UInt64, _ index: Int) {
    let header = Self.header(slab)
    header.pointee.previous = 0
    header.pointee.next = partial[index]
    if partial[index] != 0 { Self.header(partial[index]).pointee.previous = slab }
    partial[index] = slab
  }

  private mutating func unlink(_ slab: UInt64, _ index: Int) {
    let header = Self.header(slab)
    let next = header.pointee.next
    let previous = header.pointee.previous
    if previous != 0 { Self.header(previous).pointee.next = next } else if partial[index] == slab { partial[index] = next }
    if next != 0 { Self.header(next).pointee.previous = previous }
    header.pointee.next = 0
    header.pointee.previous = 0
  }

  // MARK: - large blocks

  private mutating func allocateLarge(size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    guard alignment <= Int(PageAllocator.pageSize) else { return nil }
    let payloadPages = (size + Int(PageAllocator.pageSize) - 1) / Int(PageAllocator.pageSize)
    guard payloadPages > 0 || size == 0, let run = HeapWindow.mapRun(1 + max(payloadPages, 1)) else { return nil }
    let pages = 1 + max(payloadPages, 1)
    Self.setWord(run, Self.largeMagic)
    Self.setWord(run + 8, UInt64(pages))
    Self.setWord(run + 16, UInt64(size))
    pagesInUse += pages
    bytesInUse += size
    return UnsafeMutableRawPointer(bitPattern: UInt(run + PageAllocator.pageSize))
  }

  private mutating func freeLarge(_ address: UInt64) -> Bool {
    let run = address - PageAllocator.pageSize
    guard HeapWindow.contains(run), Self.word(run) == Self.largeMagic else { return false }
    let pages = Int(Self.word(run + 8))
    bytesInUse -= Int(Self.word(run + 16))
    Self.setWord(run, 0)
    HeapWindow.unmapRun(run, count: pages)
    pagesInUse -= pages
    return true
  }

  // SAFETY: every address below is inside a mapped heap-window page this heap owns.
  private static func header(_ slab: UInt64) -> UnsafeMutablePointer<SlabHeader> {
    UnsafeMutablePointer(bitPattern: UInt(slab))!
  }
  private static func word(_ address: UInt64) -> UInt64 {
    UnsafePointer<UInt64>(bitPattern: UInt(address))!.pointee
  }
  private static func setWord(_ address: UInt64, _ value: UInt64) {
    UnsafeMutablePointer<UInt64>(bitPattern: UInt(address))!.pointee = value
  }
}
