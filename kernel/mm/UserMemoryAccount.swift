// What a process is charged for user memory, against the per-process limit of 256 MiB
// (docs/design.md, "Limits and reserves"): the bytes its address space maps, and the
// bytes of each shared memory object it made (shm_create) for as long as that object
// lives. A shared object handed to another process stays charged to its maker until
// its last handle and mapping are gone, so a program cannot hold memory beyond its
// limit by making objects and passing them on (or by making them and never mapping
// them). The maker that also maps its own object pays for it twice (the object, and
// the range it maps), which errs on the side of the limit.
//
// Every process's account also charges its job's (kernel/object/Jobs.swift), whose
// ceiling is three quarters of the user memory free when the first job began: a
// program's children each have 256 MiB, and two of them once took the whole machine
// down to the page reserve, so that another program could not even be started (the
// second hostile-client review, tests/attack/test_attack2.py). Jobs together can
// still fill memory; one cannot.
//
// The account outlives its process while an object charged to it lives. Lock rule:
// `lock` (a spinlock) guards `charged`; it is taken inside the address space's mutex
// and from a memory object's deinit, and nothing is taken inside it.

final class UserMemoryAccount {
  static let limit: UInt64 = 256 << 20
  /// A job's ceiling, fixed when the first job's account is made (at init's start, with
  /// nearly all memory free).
  nonisolated(unsafe) private static var jobLimit: UInt64 = 0

  private let lock = SpinLock()
  private var charged: UInt64 = 0
  private let ceiling: UInt64
  /// The job's account, which every charge also goes to; nil for a job's own.
  let job: UserMemoryAccount?

  /// A process's account, charging `job` too.
  init(job: UserMemoryAccount) {
    ceiling = Self.limit
    self.job = job
  }

  private init(ceiling: UInt64) {
    self.ceiling = ceiling
    job = nil
  }

  /// A new job's account.
  static func forJob() -> UserMemoryAccount {
    let limit = Interrupts.withDisabled { () -> UInt64 in
      if jobLimit == 0 { jobLimit = UInt64(PageAllocator.shared.pagesAvailableToUser) * 4096 / 4 * 3 }
      return jobLimit
    }
    return UserMemoryAccount(ceiling: limit)
  }

  /// Adds `bytes` here and to the job; false (nothing charged) when they do not fit
  /// under either limit.
  func charge(_ bytes: UInt64) -> Bool {
    if let job, !job.charge(bytes) { return false }
    let fits = lock.withLock { () -> Bool in
      guard bytes <= ceiling - charged else { return false }
      charged += bytes
      return true
    }
    if !fits { job?.release(bytes) }
    return fits
  }

  /// Gives back `bytes` charged earlier, here and to the job.
  func release(_ bytes: UInt64) {
    lock.withLock {
      if bytes > charged { kernelPanic(.selfCheckFailed, "user memory released beyond what was charged") }
      charged -= bytes
    }
    job?.release(bytes)
  }

  /// Bytes that could still be charged (here and in the job).
  var available: UInt64 {
    let mine = lock.withLock { ceiling - charged }
    guard let job else { return mine }
    return min(mine, job.available)
  }
}
