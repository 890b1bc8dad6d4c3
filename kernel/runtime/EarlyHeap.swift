// The kernel heap before the page allocator exists: an address-ordered, first-fit
// free list over one fixed region reserved by boot/kernel.ld. free() puts blocks back
// and merges them with free neighbours, so memory really returns. M1 keeps this API
// and moves the backing store onto the page allocator.
//
// Invariants (checked by `verify()`): free blocks are sorted by address, never
// adjacent (they would have been merged), 16-byte aligned, at least `minimumBlock`
// long, inside the region; free bytes + bytes in use == region size.

struct EarlyHeap {
  /// Every block starts with 16 bytes: its size, then a free-list link (free blocks)
  /// or `liveMagic` (allocated blocks, so free() can reject a foreign pointer).
  private static let headerSize = 16
  private static let minimumBlock = 32
  private static let liveMagic: UInt = 0x4150_5553_4c49_5645  // "APUSLIVE"

  private let regionStart: UInt
  private let regionEnd: UInt
  private var freeList: UInt = 0  // address of the first free block; 0 = none
  private(set) var bytesInUse = 0
  private(set) var blocksInUse = 0

  init(start: UInt, end: UInt) {
    regionStart = Self.roundUp(start, 16)
    regionEnd = end & ~15
    if regionEnd - regionStart >= UInt(Self.minimumBlock) {
      freeList = regionStart
      Self.writeBlock(at: regionStart, size: regionEnd - regionStart, word: 0)
    }
  }

  var capacity: Int { Int(regionEnd - regionStart) }

  /// Returns `size` bytes aligned to `alignment` (a power of two), or nil when no
  /// free block can hold them.
  mutating func allocate(size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    guard size >= 0, size <= capacity, alignment > 0, alignment & (alignment - 1) == 0
    else { return nil }
    let align = UInt(max(alignment, 16))
    let payloadSize = Self.roundUp(UInt(max(size, 1)), 16)
    var previous: UInt = 0
    var block = freeList
    while block != 0 {
      let blockEnd = block + Self.size(of: block)
      let next = Self.word(of: block)
      // The payload follows its header; any gap in front of the header must be big
      // enough to stay on the free list as a block of its own.
      var payload = Self.roundUp(block + UInt(Self.headerSize), align)
      let gap = payload - UInt(Self.headerSize) - block
      if gap != 0 && gap < UInt(Self.minimumBlock) {
        payload = Self.roundUp(block + UInt(Self.headerSize + Self.minimumBlock), align)
      }
      let header = payload - UInt(Self.headerSize)
      var end = header + UInt(Self.headerSize) + payloadSize
      if end <= blockEnd {
        if blockEnd - end < UInt(Self.minimumBlock) { end = blockEnd }  // absorb a sliver
        var link = next
        if end < blockEnd {
          Self.writeBlock(at: end, size: blockEnd - end, word: link)
          link = end
        }
        if header > block {
          Self.writeBlock(at: block, size: header - block, word: link)
          link = block
        }
        setLink(after: previous, to: link)
        Self.writeBlock(at: header, size: end - header, word: Self.liveMagic)
        bytesInUse += Int(end - header)
        blocksInUse += 1
        return UnsafeMutableRawPointer(bitPattern: payload)
      }
      previous = block
      block = next
    }
    return nil
  }

  /// Returns a block to the free list. False when `pointer` is not a live block of
  /// this heap (a double free or a foreign pointer): the caller decides how loud.
  mutating func free(_ pointer: UnsafeMutableRawPointer) -> Bool {
    let payload = UInt(bitPattern: pointer)
    guard payload & 15 == 0, payload >= regionStart + UInt(Self.headerSize),
      payload < regionEnd
    else { return false }
    let header = payload - UInt(Self.headerSize)
    let size = Self.size(of: header)
    guard Self.word(of: header) == Self.liveMagic, size >= UInt(Self.minimumBlock),
      size <= regionEnd - header
    else { return false }
    bytesInUse -= Int(size)
    blocksInUse -= 1

    var previous: UInt = 0
    var next = freeList
    while next != 0 && next < header {
      previous = next
      next = Self.word(of: next)
    }
    var start = header
    var length = size
    if previous != 0 && previous + Self.size(of: previous) == header {
      start = previous  // merge into the block in front
      length += Self.size(of: previous)
    } else {
      setLink(after: previous, to: header)
    }
    if next != 0 && start + length == next {
      length += Self.size(of: next)  // swallow the block behind
      next = Self.word(of: next)
    }
    Self.writeBlock(at: start, size: length, word: next)
    return true
  }

  /// Walks the free list and checks every invariant in the header comment.
  func verify() -> Bool {
    var freeBytes: UInt = 0
    var previousEnd: UInt = 0
    var block = freeList
    var steps = 0
    while block != 0 {
      let size = Self.size(of: block)
      guard block >= regionStart, block & 15 == 0, size >= UInt(Self.minimumBlock),
        size & 15 == 0, size <= regionEnd - block, block > previousEnd || previousEnd == 0,
        steps < capacity / Self.minimumBlock
      else { return false }
      if previousEnd != 0 && block == previousEnd { return false }  // unmerged neighbours
      freeBytes += size
      previousEnd = block + size
      block = Self.word(of: block)
      steps += 1
    }
    return Int(freeBytes) + bytesInUse == capacity
  }

  private mutating func setLink(after previous: UInt, to block: UInt) {
    if previous == 0 {
      freeList = block
    } else {
      Self.writeBlock(at: previous, size: Self.size(of: previous), word: block)
    }
  }

  // SAFETY: every address below lies inside [regionStart, regionEnd), which the
  // linker reserved for this heap and nothing else writes.
  private static func size(of block: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: block)!.load(as: UInt.self)
  }
  private static func word(of block: UInt) -> UInt {
    UnsafeRawPointer(bitPattern: block)!.load(fromByteOffset: 8, as: UInt.self)
  }
  private static func writeBlock(at block: UInt, size: UInt, word: UInt) {
    let pointer = UnsafeMutableRawPointer(bitPattern: block)!
    pointer.storeBytes(of: size, as: UInt.self)
    pointer.storeBytes(of: word, toByteOffset: 8, as: UInt.self)
  }

  private static func roundUp(_ value: UInt, _ alignment: UInt) -> UInt {
    (value + alignment - 1) & ~(alignment - 1)
  }
}
