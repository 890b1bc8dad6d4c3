// Jobs: who a process counts as. Every program init starts begins a job of its own, and
// everything that program starts, and their children in turn, belongs to the same
// job (Zircon's jobs are the model, without the tree of policies). A server's
// per-client limits count by job (ipc_recv_info.sender carries it), so a program
// cannot multiply its share by starting children: without jobs, 4 children of one
// program held all 256 of fsd's open files, and 250 held the process table so the
// supervisor could not restart fsd (issue 21's hostile-client review).
//
// The kernel keeps per job the one table it owns that any program could fill: live
// processes. A job holds at most `processLimit` of them, and jobs together leave
// `reservedForInit` entries that only init's own starts (its servers' restarts, its
// run= programs) may take. Guarded by masking interrupts (one CPU: that is the lock).

enum Jobs {
  /// Most live processes one job may have.
  static let processLimit = Int(Abi.jobProcessesMax)
  /// Process-table entries only init's starts may use.
  static let reservedForInit = 16

  private struct Count {
    var job: UInt32 = 0  // 0: free
    var live = 0
  }

  /// One entry per job with a live process: there are never more jobs than processes.
  nonisolated(unsafe) private static var counts = InlineArray<256, Count>(repeating: Count())

  /// Counts a new process into `job` when the limits allow (interrupts masked); false
  /// (no_memory) otherwise. `byInit`: init starts it, so the reserve is open to it.
  static func admit(_ job: UInt32, liveProcesses: Int, byInit: Bool) -> Bool {
    guard byInit || liveProcesses < Process.liveLimit - reservedForInit else { return false }
    var free: Int? = nil
    for index in 0..<counts.count {
      if counts[index].job == job {
        guard byInit || counts[index].live < processLimit else { return false }
        counts[index].live += 1
        return true
      }
      if free == nil && counts[index].job == 0 { free = index }
    }
    guard let free else { return false }
    counts[free] = Count(job: job, live: 1)
    return true
  }

  /// A process of `job` has ended (interrupts masked).
  static func release(_ job: UInt32) {
    for index in 0..<counts.count where counts[index].job == job {
      counts[index].live -= 1
      if counts[index].live == 0 { counts[index] = Count() }
      return
    }
  }
}
