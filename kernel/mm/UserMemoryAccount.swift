// What a process is charged for user memory, against the per-process limit of 256 MiB
// (docs/design.md, "Limits and reserves"): the bytes its address space maps, and the
// bytes of each shared memory object it made (shm_create) for as long as that object
// lives. A shared object handed to another process stays charged to its maker until
// its last handle and mapping are gone, so a program cannot hold memory beyond its
// limit by making objects and passing them on (or by making them and never mapping
// them). The maker that also maps its own object pays for it twice (the object, and
// the range it maps), which errs on the side of the limit.
//
// The account outlives its process while an object charged to it lives. Lock rule:
// `lock` (a spinlock) guards `charged`; it is taken inside the address space's mutex
// and from a memory object's deinit, and nothing is taken inside it.

final class UserMemoryAccount {
  static let limit: UInt64 = 256 << 20

  private let lock = SpinLock()
  private var charged: UInt64 = 0

  /// Adds `bytes`; false (nothing charged) when they do not fit under the limit.
  func charge(_ bytes: UInt64) -> Bool {
    lock.withLock {
      guard bytes <= Self.limit - charged else { return false }
      charged += bytes
      return true
    }
  }

  /// Gives back `bytes` charged earlier.
  func release(_ bytes: UInt64) {
    lock.withLock {
      if bytes > charged { kernelPanic(.selfCheckFailed, "user memory released beyond what was charged") }
      charged -= bytes
    }
  }

  /// Bytes that could still be charged.
  var available: UInt64 { lock.withLock { Self.limit - charged } }
}
