// Physical page allocator: one bit per 4 KiB frame, set = in use. Built from the
// Multiboot2 memory map: every frame starts used, the map's available regions are
// freed, then the kernel image, the boot information, the modules, low memory and the
// bitmap itself are reserved again. A bitmap (not a buddy allocator) because every
// allocation so far is a single page — page tables, heap pages, stack pages — and a
// bitmap costs 32 KiB per GiB and makes double frees detectable; contiguous runs for
// DMA (M5) are a scan for clear bits. The bitmap lives in RAM found in the memory map
// and is reached through the direct map.
import X86Shim

/// One physical page the holder owns. Dropping it frees the page; a page handed to a
/// longer-lived owner (a page table, the heap) leaves through `intoAddress()`.
@frozen @usableFromInline
struct PhysicalPage: ~Copyable {
  let address: UInt64

  init(claimed address: UInt64) { self.address = address }

  /// The page's bytes, through the direct map.
  var bytes: UnsafeMutableRawPointer { DirectMap.pointer(physical: address) }

  /// Gives up ownership: the caller now answers for freeing `address`.
  consuming func intoAddress() -> UInt64 {
    let address = self.address
    discard self
    return address
  }

  deinit { PageAllocator.shared.release(address) }
}

struct PageAllocator {
  static let pageSize: UInt64 = 4096
  nonisolated(unsafe) static var shared = PageAllocator()

  /// Bits, 64 frames per word; nil until `start`.
  private var words: UnsafeMutablePointer<UInt64>? = nil
  private var wordCount = 0
  private(set) var frameCount = 0
  private(set) var freePages = 0
  private var hint = 0  // first word that may hold a clear bit
  /// Pages user requests may never take: what is left for the kernel's own heap, page
  /// tables and stacks when user memory is full (docs/design.md, "Limits and reserves").
  private(set) var reservePages = 0

  /// Builds the allocator from the boot loader's memory map.
  static func start(_ boot: BootInfo) {
    var highest: UInt64 = 0
    for region in boot.memoryMap where region.kind == .available {
      highest = max(highest, region.base &+ region.length)
    }
    let frames = Int(highest / pageSize)
    guard frames > 0 else { kernelPanic(.badMemoryMap, "memory map lists no available memory") }
    let wordCount = (frames + 63) / 64
    let bitmapBytes = UInt64(wordCount * 8)

    // The bitmap goes in the first available range above the kernel image that fits
    // it and is still inside the early direct map.
    let imageEnd = UInt64(layout_kernel_end()) - UInt64(KERNEL_VMA)
    var bitmapAt: UInt64? = nil
    for region in boot.memoryMap where region.kind == .available {
      let start = roundUp(max(region.base, imageEnd, boot.infoEnd, boot.modulesEnd), pageSize)
      let end = region.base &+ region.length
      if start < end, end - start >= bitmapBytes, start + bitmapBytes <= EARLY_DIRECT_MAP_SIZE {
        bitmapAt = start
        break
      }
    }
    guard let bitmapAt else { kernelPanic(.badMemoryMap, "no room for the page bitmap (\(bitmapBytes) bytes)") }

    var allocator = PageAllocator()
    allocator.words = DirectMap.pointer(physical: bitmapAt).bindMemory(to: UInt64.self, capacity: wordCount)
    allocator.wordCount = wordCount
    allocator.frameCount = frames
    allocator.words!.update(repeating: ~0, count: wordCount)
    for region in boot.memoryMap where region.kind == .available {
      // Only whole frames inside the region are usable.
      allocator.setRange(roundUp(region.base, pageSize), region.base &+ region.length, used: false)
    }
    allocator.setRange(0, 0x100000, used: true)  // BIOS data, EBDA, option ROMs
    allocator.setRange(UInt64(KERNEL_PHYS_BASE), imageEnd, used: true)
    allocator.setRange(boot.infoStart, boot.infoEnd, used: true)
    for module in boot.modules { allocator.setRange(module.start, module.end, used: true) }
    allocator.setRange(bitmapAt, bitmapAt + bitmapBytes, used: true)
    allocator.reservePages = max(minimumReserve, allocator.freePages / 32)
    shared = allocator
  }

  /// A free page, or nil when none is left.
  mutating func allocate() -> PhysicalPage? {
    Interrupts.withDisabled { allocateLocked() }
  }

  private mutating func allocateLocked() -> PhysicalPage? {
    guard let words else { return nil }
    var index = hint
    while index < wordCount {
      let word = words[index]
      if word != ~0 {
        let bit = (~word).trailingZeroBitCount
        let frame = index * 64 + bit
        guard frame < frameCount else { break }
        words[index] = word | (1 << UInt64(bit))
        freePages -= 1
        hint = index
        return PhysicalPage(claimed: UInt64(frame) * Self.pageSize)
      }
      index += 1
    }
    hint = wordCount
    return nil
  }

  /// A free page filled with zeros.
  mutating func allocateZeroed() -> PhysicalPage? {
    guard let page = allocate() else { return nil }
    page.bytes.initializeMemory(as: UInt8.self, repeating: 0, count: Int(Self.pageSize))
    return page
  }

  static let minimumReserve = 1024

  /// A zeroed page for something a user request asked for (its memory, its page
  /// tables, its threads' kernel stacks): nil once only the reserve is left, so user
  /// memory can never starve the kernel's own allocations.
  mutating func allocateZeroedForUser() -> PhysicalPage? {
    guard Interrupts.withDisabled({ freePages > reservePages }) else { return nil }
    return allocateZeroed()
  }

  /// `count` physically contiguous zeroed pages for a user request (DMA memory): the
  /// first one's address, or nil when no free run that long exists outside the
  /// reserve. A first-fit scan of the bitmap: DMA allocations are rare and made by
  /// drivers as they start.
  mutating func allocateContiguousZeroedForUser(_ count: Int) -> UInt64? {
    let first = Interrupts.withDisabled { () -> Int? in
      guard count > 0, freePages - reservePages >= count, let words else { return nil }
      var run = 0
      var frame = 0
      while frame < frameCount {
        if words[frame / 64] == ~0 {  // a whole used word: skip it
          run = 0
          frame = (frame / 64 + 1) * 64
          continue
        }
        if words[frame / 64] & (1 << UInt64(frame % 64)) == 0 {
          run += 1
          if run == count {
            let start = frame + 1 - count
            for taken in start...frame { words[taken / 64] |= 1 << UInt64(taken % 64) }
            freePages -= count
            return start
          }
        } else {
          run = 0
        }
        frame += 1
      }
      return nil
    }
    guard let first else { return nil }
    let address = UInt64(first) * Self.pageSize
    DirectMap.pointer(physical: address).initializeMemory(as: UInt8.self, repeating: 0, count: count * Int(Self.pageSize))
    return address
  }

  /// Pages a user request could still take.
  var pagesAvailableToUser: Int { max(freePages - reservePages, 0) }

  /// Returns a page. Freeing a page that is not in use is a kernel bug: it panics.
  mutating func release(_ address: UInt64) {
    Interrupts.withDisabled { releaseLocked(address) }
  }

  private mutating func releaseLocked(_ address: UInt64) {
    let frame = Int(address / Self.pageSize)
    guard address % Self.pageSize == 0, frame < frameCount, let words else {
      kernelPanic(.heapCorruption, "release of 0x\(hex: address): not a page this allocator manages")
    }
    let mask: UInt64 = 1 << UInt64(frame % 64)
    guard words[frame / 64] & mask != 0 else {
      kernelPanic(.heapCorruption, "page 0x\(hex: address) freed twice")
    }
    words[frame / 64] &= ~mask
    freePages += 1
    hint = min(hint, frame / 64)
  }

  private mutating func setRange(_ start: UInt64, _ end: UInt64, used: Bool) {
    guard let words else { return }
    var frame = Int(start / Self.pageSize)
    let last = min(Int((end + Self.pageSize - 1) / Self.pageSize), frameCount)
    while frame < last {
      let mask: UInt64 = 1 << UInt64(frame % 64)
      let wasUsed = words[frame / 64] & mask != 0
      if used && !wasUsed {
        words[frame / 64] |= mask
        freePages -= 1
      } else if !used && wasUsed {
        words[frame / 64] &= ~mask
        freePages += 1
      }
      frame += 1
    }
    hint = 0
  }
}

func roundUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
  (value + alignment - 1) & ~(alignment - 1)
}
