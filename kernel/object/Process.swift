// A process: an address space, a handle table and the user threads that run in it,
// and how it ended. It is a kernel object, alive while anything references it: each
// handle naming it, each of its thread records (until the reaper frees the thread),
// and whoever is spawning or waiting on it. Its life has three steps:
//   running  - threads run; `exiting` set by process_exit, a fault or process_kill
//              makes every thread stop at its next system call or interrupt;
//   exited   - the last thread has left the CPU; the reaper tears down (handles
//              closed, memory freed) with interrupts enabled, then sets `ended`;
//   ended    - the status is final and waiters are woken; only handles keep it.
//
// Lock rule: `lock` (a spinlock, innermost) guards the handle table, the thread counts,
// `exiting`, `status`, `ended` and `waiters`. Objects leave the table under it and are
// released after it is let go.

final class Process: KernelObject {
  static let threadLimit = 64
  /// Processes not yet ended, system-wide.
  static let liveLimit = 256
  nonisolated(unsafe) private(set) static var liveCount = 0
  nonisolated(unsafe) private static var nextPid: UInt32 = 1

  let pid: UInt32
  /// The job it counts as (Jobs.swift): its own pid when init (or the kernel) started
  /// it, else its spawner's job.
  let job: UInt32
  /// Whether the processes it starts begin jobs of their own: init's.
  let startsJobs: Bool
  let space: AddressSpace
  private(set) var name = InlineArray<48, UInt8>(repeating: 0)
  private(set) var nameLength = 0
  let lock = SpinLock()

  private var handles: HandleTable?
  /// Threads started and not yet exited: the last one out decides the status.
  private var runningThreads = 0
  /// Thread records that still name this process: the reaper tears down at zero.
  private var attachedThreads = 0
  private(set) var exiting = false
  private(set) var status = ProcessStatus()
  private(set) var ended = false
  private var waiters = WaitQueue()
  /// process_watch: endpoints (and key bits) told when it has ended.
  private var watchers = InlineArray<4, (endpoint: Endpoint?, bit: UInt64)>(repeating: (nil, 0))
  /// endpoint_watch_caller: the servers' endpoints told when it has ended (CallerWatch.swift).
  private var callerWatches = InlineArray<16, CallerWatch?>(repeating: nil)
  /// `test=audit`: what its system calls returned (kernel/selftest/SyscallAudit.swift).
  var audit = SyscallAudit()

  /// Who starts a process, for its job: the kernel (init), init (a new job), or a
  /// process of `job` (the same job).
  enum Spawner {
    case kernel
    case process(job: UInt32, startsJobs: Bool, memory: UserMemoryAccount)
  }

  /// A new process with an empty address space and handle table, counted live; nil
  /// (no_memory) when memory, the live-process limit or its job's share is exhausted.
  static func make<P: Collection<UInt8>>(name path: P, spawner: Spawner) -> Process? {
    let admitted = Interrupts.withDisabled { () -> (pid: UInt32, job: UInt32, startsJobs: Bool)? in
      guard liveCount < liveLimit else { return nil }
      let pid = nextPid
      let (job, byInit, startsJobs): (UInt32, Bool, Bool)
      switch spawner {
      case .kernel: (job, byInit, startsJobs) = (pid, true, true)
      case .process(let parentJob, let parentStartsJobs, _): (job, byInit, startsJobs) = (parentStartsJobs ? pid : parentJob, parentStartsJobs, false)
      }
      guard Jobs.admit(job, liveProcesses: liveCount, byInit: byInit) else { return nil }
      liveCount += 1
      nextPid += 1
      return (pid, job, startsJobs)
    }
    guard let admitted else { return nil }
    // The job's user-memory account: a new job's own, or the spawner's.
    let jobMemory: UserMemoryAccount
    switch spawner {
    case .process(_, false, let memory): jobMemory = memory
    default: jobMemory = UserMemoryAccount.forJob()
    }
    guard let space = AddressSpace.create(job: jobMemory), let handles = HandleTable.make() else {
      Interrupts.withDisabled {
        liveCount -= 1
        Jobs.release(admitted.job)
      }
      return nil
    }
    let process = Process(pid: admitted.pid, job: admitted.job, startsJobs: admitted.startsJobs, space: space, handles: handles)
    for (offset, byte) in path.prefix(48).enumerated() { process.name[offset] = byte }
    process.nameLength = min(path.count, 48)
    return process
  }

  private init(pid: UInt32, job: UInt32, startsJobs: Bool, space: AddressSpace, handles: HandleTable) {
    self.pid = pid
    self.job = job
    self.startsJobs = startsJobs
    self.space = space
    self.handles = handles
    super.init(kind: .process)
  }

  deinit {
    // A process that never ran (spawn failed) is torn down here instead of by the reaper.
    if !ended { tearDown(announcing: false) }
  }

  /// What ipc_recv_info.sender says of its messages: its job above its pid, so a
  /// server can count a client's share by job and tell its processes apart.
  var senderId: UInt64 { UInt64(job) << 32 | UInt64(pid) }

  /// How the processes it starts count (Jobs.swift).
  var asSpawner: Spawner { .process(job: job, startsJobs: startsJobs, memory: space.account.job!) }

  // MARK: - handles

  func reserveHandle() -> UInt32? { lock.withLock { handles?.reserve() } }

  func fillHandle(_ handle: UInt32, with object: KernelObject, rights: Rights) {
    object.handleOpened(rights)
    lock.withLock { handles?.fill(handle, with: object, rights: rights) }
  }

  func installHandle(_ object: KernelObject, rights: Rights) -> UInt32? {
    object.handleOpened(rights)
    guard let handle = lock.withLock({ handles?.install(object, rights: rights) }) else {
      object.handleClosed(rights)
      return nil
    }
    return handle
  }

  /// The object and rights `handle` names; the caller's reference keeps the object
  /// alive however the table changes meanwhile.
  func lookupHandle(_ handle: UInt32) -> (object: KernelObject, rights: Rights)? {
    lock.withLock { handles?.lookup(handle) }
  }

  /// Removes a handle (or a reservation); the object is released by the caller.
  @discardableResult
  func removeHandle(_ handle: UInt32) -> (object: KernelObject, rights: Rights)? {
    guard let removed = lock.withLock({ handles?.remove(handle) }) else { return nil }
    removed.object.handleClosed(removed.rights)
    return removed
  }

  /// Removes several handles at once, all or none, for moving them (into a message);
  /// nil (nothing removed) if one names nothing, repeats another, or lacks `needed`.
  /// Each object's handleClosed runs after the lock is let go.
  func removeHandles(_ values: UnsafeBufferPointer<UInt32>, needing needed: Rights,
                     into moved: inout HandlesInFlight) -> AbiError? {
    let problem = lock.withLock { () -> AbiError? in
      guard var table = handles else { return .badHandle }
      for (index, value) in values.enumerated() {
        guard let (_, rights) = table.lookup(value), !values[..<index].contains(value) else { return .badHandle }
        if !rights.contains(needed) { return .accessDenied }
      }
      for value in values {
        if let removed = table.remove(value) { moved.append(removed.object, removed.rights) }
      }
      handles = table
      return nil
    }
    if problem != nil { return problem }
    for index in 0..<moved.count { moved[index].object?.handleClosed(moved[index].rights) }
    return nil
  }


  // MARK: - threads and exit

  /// Counts a new thread in; false when the process is at its thread limit or exiting.
  func attachThread() -> Bool {
    lock.withLock {
      guard !exiting, runningThreads < Self.threadLimit else { return false }
      runningThreads += 1
      attachedThreads += 1
      return true
    }
  }

  /// A thread that was attached but never ran goes away (its creation failed).
  func detachUnstartedThread() {
    lock.withLock {
      runningThreads -= 1
      attachedThreads -= 1
    }
  }

  /// Ends the process with `status`, unless it is ending already; its threads stop at
  /// their next system call or interrupt.
  func end(_ status: ProcessStatus) {
    let others = lock.withLock { () -> Int in
      guard !exiting else { return 0 }
      exiting = true
      self.status = status
      let caller = UserThreads.currentProcess?.toOpaque() == Unmanaged.passUnretained(self).toOpaque()
      return runningThreads - (caller ? 1 : 0)
    }
    // Threads blocked in the kernel stop now too (process_wait, IPC); when the caller
    // is the only thread there is nobody to look for.
    if others > 0 { UserThreads.interruptWaits(of: self) }
  }

  /// The calling thread leaves user space for good. `code` is thread_exit's: if this
  /// is the last thread and nothing else ended the process, it becomes the exit code.
  /// Decrement and decision are one step, so two threads exiting at once cannot both
  /// think the other is last.
  func threadExiting(code: Int64?) {
    lock.withLock {
      if let code, runningThreads == 1, !exiting {
        exiting = true
        status = ProcessStatus(code: code, reason: .exited, faultAddress: 0, faultIp: 0)
      }
      runningThreads -= 1
    }
  }

  /// The reaper has freed one of its threads; the last one tears the process down.
  /// Interrupts are enabled: teardown frees much and may sleep on the space's mutex.
  func threadReaped() {
    let last = lock.withLock { () -> Bool in
      attachedThreads -= 1
      return attachedThreads == 0
    }
    if last { tearDown(announcing: true) }
  }

  /// Closes every handle, frees the address space, then publishes the status.
  private func tearDown(announcing: Bool) {
    while let removed = lock.withLock({ handles?.removeAny() }) {
      removed.object.handleClosed(removed.rights)  // and released here, outside the lock
    }
    var table = lock.withLock { () -> HandleTable? in
      defer { handles = nil }
      return handles
    }
    // A handle installed after the loop above and before `handles` went (a reply's,
    // CallReply.deliver) is closed here; none can come after.
    while let removed = table?.removeAny() { removed.object.handleClosed(removed.rights) }
    table?.destroy()
    space.tearDown()
    if announcing { audit.announce(pid: pid, status: lock.withLock { status }) }
    lock.withLock {
      if !exiting {  // never ran: nothing set a status
        exiting = true
        status = ProcessStatus(code: 0, reason: .killed, faultAddress: 0, faultIp: 0)
      }
      ended = true
      while let waiter = waiters.pop() { Scheduler.makeReady(waiter) }
    }
    Interrupts.withDisabled {
      Self.liveCount -= 1
      Jobs.release(job)
    }
    // The watchers hear of it last, when process_wait no longer waits; the endpoints
    // are signalled and released outside the lock.
    let told = lock.withLock { () -> InlineArray<4, (endpoint: Endpoint?, bit: UInt64)> in
      defer { watchers = InlineArray(repeating: (nil, 0)) }
      return watchers
    }
    for index in 0..<4 { told[index].endpoint?.signal(told[index].bit) }
    let watches = lock.withLock { () -> InlineArray<16, CallerWatch?> in
      defer { callerWatches = InlineArray(repeating: nil) }
      return callerWatches
    }
    for index in 0..<watches.count {
      if let watch = watches[index], let endpoint = watch.endpoint { endpoint.callerEnded(watch) }
    }
  }

  /// endpoint_watch_caller: `endpoint` hears when this process has ended (at once, if
  /// it has). One watch per endpoint; limit_reached past Abi.endpointWatchersMax.
  func watchAsCaller(from endpoint: Endpoint) throws(AbiError) {
    let watch = CallerWatch(sender: senderId, endpoint: endpoint)  // allocated before the lock
    let now = try lock.withLock { () throws(AbiError) -> Bool in
      if ended { return true }
      var free: Int? = nil
      for index in 0..<callerWatches.count {
        guard let existing = callerWatches[index] else {
          if free == nil { free = index }
          continue
        }
        if existing.endpoint === endpoint { return false }  // watched already
      }
      guard let free, free < Int(Abi.endpointWatchersMax) else { throw .limitReached }
      callerWatches[free] = watch
      return false
    }
    if now { endpoint.callerEnded(watch) }
  }

  /// process_watch: posts `bit` on `endpoint` when the process has ended (now, if it has).
  func watch(_ endpoint: Endpoint, bit: UInt64) throws(AbiError) {
    let now = try lock.withLock { () throws(AbiError) -> Bool in
      if ended { return true }
      guard let free = (0..<4).first(where: { watchers[$0].endpoint == nil }) else { throw .noMemory }
      watchers[free] = (endpoint, bit)
      return false
    }
    if now { endpoint.signal(bit) }
  }

  /// Blocks until the process has ended; returns its status, or nil when the waiting
  /// thread's own process is ending (or from a kernel thread, never).
  func wait() -> ProcessStatus? {
    lock.withLock { () -> ProcessStatus? in
      while !ended {
        if UserThreads.mustStop { return nil }
        waiters.push(Scheduler.current)
        if UserThreads.currentProcess == nil {
          Scheduler.blockCurrent(releasing: lock)
        } else if !UserThreads.blockInterruptibly(on: self, releasing: lock) {
          return nil
        }
      }
      return status
    }
  }

  override func interruptWaiter(_ thread: ThreadID) {
    lock.withLock {
      if waiters.remove(thread) { UserThreads.wakeInterrupted(thread) }
    }
  }
}
