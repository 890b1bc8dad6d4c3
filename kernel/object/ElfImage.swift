// Loads a static ELF64 x86-64 executable into an address space. Everything is checked
// before anything is mapped: the identification bytes, type and machine, the program
// header table's bounds, and each PT_LOAD segment (inside user space but clear of the
// stack and its guard pages; at most `maximumImageBytes` in all; file bytes inside the file, filesz <= memsz,
// page-congruent offsets, no segment both writable and executable, no overlap). Each
// segment becomes a region over a memory object of its own. A rejected image gets one log line saying why and the
// caller's bad_image; the kernel never trusts a byte of it.

struct LoadedImage {
  let entry: UInt64
  let highestAddress: UInt64
}

enum ElfImage {
  private static let headerSize = 64
  private static let programHeaderSize = 56
  private static let loadType: UInt32 = 1
  private static let flagExecute: UInt32 = 1
  private static let flagWrite: UInt32 = 2
  private static let maximumSegments = 16
  static let maximumImageBytes: UInt64 = 64 << 20

  /// `file` may change while this runs (a caller's memory object, ImageSource.swift):
  /// each field is read once and only what was checked is used.
  static func load<File: ImageSource>(_ file: File, into space: AddressSpace, name: [UInt8]) throws(AbiError) -> LoadedImage {
    func reject(_ why: StaticString) -> AbiError {
      kprint("ELF: rejected \"\(escaping: name)\": \(why)")
      return .badImage
    }
    guard file.count >= headerSize, file.load(at: 0, as: UInt32.self) == 0x464c_457f else { throw reject("not an ELF file") }
    guard file.load(at: 4, as: UInt8.self) == 2, file.load(at: 5, as: UInt8.self) == 1, file.load(at: 6, as: UInt8.self) == 1 else {
      throw reject("not ELF64 little-endian version 1")
    }
    let type = file.load(at: 16, as: UInt16.self)
    let machine = file.load(at: 18, as: UInt16.self)
    guard type == 2 else { throw reject("not a static executable (ET_EXEC)") }
    guard machine == 62 else { throw reject("not for x86-64") }
    let entry = file.load(at: 24, as: UInt64.self)
    let tableOffset = file.load(at: 32, as: UInt64.self)
    let entrySize = Int(file.load(at: 54, as: UInt16.self))
    let count = Int(file.load(at: 56, as: UInt16.self))
    guard entrySize == programHeaderSize, count > 0, count <= maximumSegments,
      tableOffset <= UInt64(file.count), UInt64(count * entrySize) <= UInt64(file.count) - tableOffset
    else { throw reject("program header table out of bounds") }

    // Pass 1: check every segment.
    var segments = InlineArray<16, (vaddr: UInt64, memsz: UInt64, offset: UInt64, filesz: UInt64, flags: UInt32)>(repeating: (0, 0, 0, 0, 0))
    var loads = 0
    var entryInside = false
    var highest: UInt64 = 0
    var total: UInt64 = 0
    for index in 0..<count {
      let header = Int(tableOffset) + index * entrySize
      guard file.load(at: header, as: UInt32.self) == loadType else { continue }
      let flags = file.load(at: header + 4, as: UInt32.self)
      let offset = file.load(at: header + 8, as: UInt64.self)
      let vaddr = file.load(at: header + 16, as: UInt64.self)
      let filesz = file.load(at: header + 32, as: UInt64.self)
      let memsz = file.load(at: header + 40, as: UInt64.self)
      guard memsz > 0 else { continue }
      guard filesz <= memsz else { throw reject("segment filesz exceeds memsz") }
      guard offset <= UInt64(file.count), filesz <= UInt64(file.count) - offset else { throw reject("segment data outside the file") }
      guard vaddr >= PageAllocator.pageSize, vaddr < UserSpace.end, memsz <= UserSpace.end - vaddr else {
        throw reject("segment outside user space")
      }
      guard roundUp(vaddr + memsz, PageAllocator.pageSize) <= UserLayout.stackAreaStart || vaddr >= UserLayout.stackTop else {
        throw reject("segment overlaps the stack area")
      }
      total += memsz
      guard total <= maximumImageBytes else { throw reject("segments larger than 64 MiB in all") }
      guard vaddr % PageAllocator.pageSize == offset % PageAllocator.pageSize else { throw reject("segment offset not page-congruent") }
      guard flags & flagWrite == 0 || flags & flagExecute == 0 else { throw reject("segment both writable and executable") }
      for other in 0..<loads {
        let a = segments[other]
        if roundUp(vaddr + memsz, PageAllocator.pageSize) > (a.vaddr & ~(PageAllocator.pageSize - 1)) && vaddr < roundUp(a.vaddr + a.memsz, PageAllocator.pageSize) {
          throw reject("segments overlap")
        }
      }
      if entry >= vaddr && entry < vaddr + memsz && flags & flagExecute != 0 { entryInside = true }
      segments[loads] = (vaddr, memsz, offset, filesz, flags)
      loads += 1
      highest = max(highest, vaddr + memsz)
    }
    guard loads > 0 else { throw reject("no loadable segments") }
    guard entryInside else { throw reject("entry point not in an executable segment") }

    // Pass 2: a memory object per segment, filled through the direct map, then mapped.
    for index in 0..<loads {
      let segment = segments[index]
      let first = segment.vaddr & ~(PageAllocator.pageSize - 1)
      let pageCount = Int((roundUp(segment.vaddr + segment.memsz, PageAllocator.pageSize) - first) / PageAllocator.pageSize)
      guard let object = MemoryObject.anonymous(pageCount: pageCount) else { throw .noMemory }
      for page in 0..<pageCount {
        // The part of this page that holds file bytes.
        let pageStart = first + UInt64(page) * PageAllocator.pageSize
        let start = max(pageStart, segment.vaddr)
        let end = min(pageStart + PageAllocator.pageSize, segment.vaddr + segment.filesz)
        guard start < end, let physical = object.physicalPage(page) else { continue }
        file.copyBytes(at: Int(segment.offset + (start - segment.vaddr)), count: Int(end - start),
                       to: DirectMap.pointer(physical: physical) + Int(start - pageStart))
      }
      var prot: VmProt = [.read]
      if segment.flags & flagWrite != 0 { prot.insert(.write) }
      if segment.flags & flagExecute != 0 { prot.insert(.execute) }
      _ = try space.map(object, .fixed(first), prot: prot)
    }
    return LoadedImage(entry: entry, highestAddress: highest)
  }
}
