// User memory as the kernel sees it. Every pointer a system call receives is an
// allegation by the calling process (Hubris's word) until checked; these types are
// the only way kernel code may hold one. The generated dispatcher
// (kernel/generated/SyscallDispatch.swift) builds them from raw registers, choosing
// the type by the spec's pointer direction, so a handler cannot write through an
// `in` pointer or read an `out` one. Construction checks what can be checked without
// touching memory: the range lies in user space, does not wrap and is aligned for
// its element. The copies themselves are in UserMemory.swift.
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
