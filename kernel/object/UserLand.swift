// Starting user space: /init from the initrd, with the programs named by `run=` as
// its arguments, and waiting for it. The kernel halts when init is done. Free pages
// are reported before and after, so a leak anywhere in process life shows up as a
// difference (tests/user/test_process_lifecycle.py).

enum UserLand {
  static let initPath: StaticString = "init"

  static func runInit(_ programs: [[UInt8]], bench: Bool) {
    let path = initPath.withUTF8Buffer { Array($0) }
    guard Initrd.find(path) != nil else {
      kprint("KERNEL: no init in the initrd; not starting user space")
      return
    }
    var arguments = path + [0]
    for program in programs { arguments += program + [0] }
    if bench { arguments += Array("bench/syscalls".utf8) + [0] }
    // Both counts are taken with the heap holding the same objects: the argument
    // arrays exist before the first and are kept alive past the second (Swift would
    // otherwise free them at their last use, in between).
    defer { withExtendedLifetime((path, arguments)) {} }
    let startThreads = ThreadTable.inUse
    let startTables = PageTables.tablePages
    let startFree = PageTables.freePages(countingTablesSince: startTables)

    kprint("MM: free=\(startFree) pages before init")
    let process: Int32
    do {
      process = try ProcessTable.spawn(path: path, arguments: arguments)
    } catch {
      kprint("KERNEL: init did not start: error \(error.rawValue)")
      return
    }
    let status = ProcessTable.wait(process)
    ProcessTable.dropReference(process)
    kprint("KERNEL: init exited code=\(status.code) reason=\(status.reason.rawValue)")
    // The reaper frees dead threads asynchronously: let it finish before counting.
    var rounds = 0
    while ThreadTable.inUse > startThreads && rounds < 1000 {
      Scheduler.yield()
      rounds += 1
    }
    kprint("MM: free=\(PageTables.freePages(countingTablesSince: startTables)) pages after init")
  }
}
