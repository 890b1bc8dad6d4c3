// User memory as the kernel sees it. Every pointer a system call receives is an
// allegation by the calling process (Hubris's word) until checked; these types are
// the only way kernel code may hold one. The generated dispatcher
// (kernel/generated/SyscallDispatch.swift) builds them from raw registers, choosing
// the type by the spec's pointer direction, so a handler cannot write through an
// `in` pointer or read an `out` one. Construction checks what can be checked without
// touching memory: the range lies in user space, does not wrap and is aligned for
// its element. M3 adds the copy routines, which check the caller's mappings and
// survive a fault mid-copy by returning AbiError.fault.
import X86Shim

/// A user-space address the kernel stores or hands back but never dereferences
/// (a thread's entry point, a mapping hint).
struct UserAddress {
  let value: UInt64

  init(_ value: UInt64) { self.value = value }

  var isInUserSpace: Bool { value < UserSpace.end }
}

enum UserSpace {
  /// The first address above user space (kernel_layout.h).
  static let end = UInt64(USER_SPACE_END)

  /// Checks a user range of `count` elements of `Element` at `address`: in user
  /// space, not wrapping, aligned, and not the null page unless empty.
  static func checkRange<Element>(
    address: UInt64, count: UInt64, of element: Element.Type
  ) throws(AbiError) -> UInt64 {
    let stride = UInt64(MemoryLayout<Element>.stride)
    let (bytes, overflow) = count.multipliedReportingOverflow(by: stride)
    guard !overflow else { throw .fault }
    guard bytes != 0 else { return 0 }
    guard address != 0, address % UInt64(MemoryLayout<Element>.alignment) == 0,
      address < end, bytes <= end - address
    else { throw .fault }
    return bytes
  }
}

/// How the kernel may use a user pointer; the spec's pointer direction picks one.
/// M3's copy routines are defined only for the access that allows them, so writing
/// through an `in` pointer does not compile.
protocol UserAccess {}
enum ReadAccess: UserAccess {}       // spec `in`
enum WriteAccess: UserAccess {}      // spec `out`
enum ReadWriteAccess: UserAccess {}  // spec `inout`

/// One value of `Element` in user memory (a spec pointer without a length).
struct UserPointer<Element, Access: UserAccess> {
  let address: UInt64

  init(address: UInt64) throws(AbiError) {
    _ = try UserSpace.checkRange(address: address, count: 1, of: Element.self)
    self.address = address
  }
}

/// `count` values of `Element` in user memory (a spec pointer with a length).
struct UserBuffer<Element, Access: UserAccess> {
  let address: UInt64
  let count: UInt64
  let byteCount: UInt64

  init(address: UInt64, count: UInt64) throws(AbiError) {
    byteCount = try UserSpace.checkRange(address: address, count: count, of: Element.self)
    self.address = address
    self.count = count
  }
}

// The names the generated dispatcher uses (GeneratedText.kernelUserPointer).
typealias UserIn<Element> = UserPointer<Element, ReadAccess>
typealias UserOut<Element> = UserPointer<Element, WriteAccess>
typealias UserInOut<Element> = UserPointer<Element, ReadWriteAccess>
typealias UserInBuffer<Element> = UserBuffer<Element, ReadAccess>
typealias UserOutBuffer<Element> = UserBuffer<Element, WriteAccess>
typealias UserInOutBuffer<Element> = UserBuffer<Element, ReadWriteAccess>

// MARK: - Copying

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
