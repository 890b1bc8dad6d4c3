// Where a program image's bytes are read from while it loads (ElfImage): the initrd's
// file, contiguous in kernel memory, or the pages of the caller's memory object
// (process_spawn_image), read in place through the direct map. Reading in place needs
// no kernel copy of the image (it was one of up to 64 MiB on the kernel heap, charged
// to nobody); the caller may still change its pages meanwhile, so the loader reads
// each header field once and keeps what it checked: a change can alter the bytes
// loaded, as changing the file before the call could, never a bound.

protocol ImageSource {
  /// The image's length in bytes.
  var count: Int { get }
  /// Copies [offset, offset + length), which lies inside `count`, to `destination`.
  func copyBytes(at offset: Int, count length: Int, to destination: UnsafeMutableRawPointer)
}

extension ImageSource {
  /// The little-endian integer at `offset` (inside `count`).
  func load<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
    var value: T = 0
    withUnsafeMutableBytes(of: &value) { copyBytes(at: offset, count: MemoryLayout<T>.size, to: $0.baseAddress!) }
    return T(littleEndian: value)
  }
}

extension UnsafeRawBufferPointer: ImageSource {
  func copyBytes(at offset: Int, count length: Int, to destination: UnsafeMutableRawPointer) {
    destination.copyMemory(from: baseAddress! + offset, byteCount: length)
  }
}

/// The first `count` bytes of a memory object, page by page; a page it gave back reads
/// as zeros. The caller's reference keeps the object (and so its pages) alive.
struct MemoryObjectImage: ImageSource {
  let object: MemoryObject
  let count: Int

  func copyBytes(at offset: Int, count length: Int, to destination: UnsafeMutableRawPointer) {
    let pageSize = Int(PageAllocator.pageSize)
    var done = 0
    while done < length {
      let at = offset + done
      let within = at % pageSize
      let chunk = min(length - done, pageSize - within)
      if let physical = object.physicalPage(at / pageSize) {
        (destination + done).copyMemory(from: DirectMap.pointer(physical: physical) + within, byteCount: chunk)
      } else {
        (destination + done).initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
      }
      done += chunk
    }
  }
}
