// Copying between kernel and user memory: the only code that touches user pages. It
// goes through x86_copy_user (arch/x86_64/syscall/syscall_entry.S), whose page faults
// on user addresses ExceptionReport turns into `.fault`, with SMAP lifted for exactly
// the copy. Range checks were done when the UserPointer or UserBuffer was made.
import X86Shim

extension UserPointer where Access == ReadAccess {
  /// Reads the value; a fault mid-copy (an unmapped or kernel-only page) is `.fault`.
  func read() throws(AbiError) -> Element where Element: BitwiseCopyable {
    var value = unsafe_zeroedValue(Element.self)
    try withUnsafeMutableBytes(of: &value) { bytes throws(AbiError) in
      try UserMemory.copyIn(from: address, into: bytes)
    }
    return value
  }
}

extension UserPointer where Access == WriteAccess {
  func write(_ value: Element) throws(AbiError) where Element: BitwiseCopyable {
    var copy = value
    try withUnsafeBytes(of: &copy) { bytes throws(AbiError) in try UserMemory.copyOut(bytes, to: address) }
  }
}

extension UserBuffer where Access == ReadAccess {
  /// Copies `count` bytes starting `offset` bytes in, into `destination`.
  func read(into destination: UnsafeMutableRawBufferPointer, offset: UInt64 = 0) throws(AbiError) {
    guard offset <= byteCount, UInt64(destination.count) <= byteCount - offset else { throw .fault }
    try UserMemory.copyIn(from: address + offset, into: destination)
  }
}

extension UserBuffer where Access == ReadAccess, Element == UInt8 {
  /// The whole buffer, copied into the kernel.
  func readAll() throws(AbiError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: Int(count))
    let outcome = bytes.withUnsafeMutableBytes { raw in Result { () throws(AbiError) in try read(into: raw) } }
    try outcome.get()
    return bytes
  }
}

extension UserBuffer where Access == WriteAccess {
  func write(_ source: UnsafeRawBufferPointer, offset: UInt64 = 0) throws(AbiError) {
    guard offset <= byteCount, UInt64(source.count) <= byteCount - offset else { throw .fault }
    try UserMemory.copyOut(source, to: address + offset)
  }
}

private func unsafe_zeroedValue<T: BitwiseCopyable>(_ type: T.Type) -> T {
  withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer in
    UnsafeMutableRawPointer(buffer.baseAddress!).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
    return buffer[0]
  }
}

/// The one road between kernel and user memory: x86_copy_user, which a page fault
/// turns into `.fault` (ExceptionReport recognises its address range).
enum UserMemory {
  static func copyIn(from address: UInt64, into destination: UnsafeMutableRawBufferPointer) throws(AbiError) {
    guard destination.count > 0 else { return }
    guard address < UserSpace.end, UInt64(destination.count) <= UserSpace.end - address else { throw .fault }
    if x86_copy_user(destination.baseAddress, UnsafeRawPointer(bitPattern: UInt(address)), UInt64(destination.count)) != 0 {
      throw .fault
    }
  }

  static func copyOut(_ source: UnsafeRawBufferPointer, to address: UInt64) throws(AbiError) {
    guard source.count > 0 else { return }
    guard address < UserSpace.end, UInt64(source.count) <= UserSpace.end - address else { throw .fault }
    if x86_copy_user(UnsafeMutableRawPointer(bitPattern: UInt(address)), source.baseAddress, UInt64(source.count)) != 0 {
      throw .fault
    }
  }

  enum CrossCopy { case done, sourceFault, destinationUnusable }

  /// Copies `count` bytes from the running process's memory at `source` into another
  /// (blocked) process's memory at `destination`, through that space's page tables
  /// and the direct map: the one copy of a direct IPC delivery. A destination page
  /// that is not mapped writable for the user stops it (what was written is then
  /// unspecified: the caller delivers another way or reports a fault).
  static func copy(from source: UInt64, count: Int, to destination: UInt64, in tables: PageTables) -> CrossCopy {
    guard count > 0 else { return .done }
    guard source < UserSpace.end, UInt64(count) <= UserSpace.end - source else { return .sourceFault }
    guard destination < UserSpace.end, UInt64(count) <= UserSpace.end - destination else { return .destinationUnusable }
    var done = 0
    while done < count {
      let target = destination + UInt64(done)
      guard let mapping = tables.translate(target), mapping.flags.contains(.user), mapping.flags.contains(.writable) else {
        return .destinationUnusable
      }
      let inPage = min(count - done, Int(PageAllocator.pageSize - (target & (PageAllocator.pageSize - 1))))
      if x86_copy_user(DirectMap.pointer(physical: mapping.physical), UnsafeRawPointer(bitPattern: UInt(source + UInt64(done))), UInt64(inPage)) != 0 {
        return .sourceFault
      }
      done += inPage
    }
    return .done
  }

  /// Writes into another (not running) address space through the direct map: used to
  /// set up a new process's stack.
  static func write(_ bytes: [UInt8], to address: UInt64, in space: AddressSpace) throws(AbiError) {
    var done = 0
    while done < bytes.count {
      let virtual = address + UInt64(done)
      guard let mapping = space.tables.translate(virtual) else { throw .fault }
      let inPage = min(bytes.count - done, Int(PageAllocator.pageSize - (virtual & (PageAllocator.pageSize - 1))))
      let target = DirectMap.pointer(physical: mapping.physical)
      bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress! + done, byteCount: inPage) }
      done += inPage
    }
  }
}
