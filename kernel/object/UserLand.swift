// Starting user space: /init from the initrd, with the programs named by `run=` as
// its arguments, the device resource as its handle 1 and the console as its handle 2,
// and waiting for it. The kernel halts when init is done. Free pages,
// heap bytes and live kernel objects are reported before and after, so a leak anywhere
// in process life shows up as a difference (tests/user/test_process_lifecycle.py,
// tests/user/test_object_stress.py).

enum UserLand {
  static let initPath: StaticString = "init"

  static func runInit(_ programs: [[UInt8]], options: [[UInt8]], bench: Bool) {
    let path = initPath.withUTF8Buffer { Array($0) }
    guard Initrd.find(path) != nil else {
      kprint("KERNEL: no init in the initrd; not starting user space")
      return
    }
    var arguments = path + [0]
    // make bench masks the tick, so endpoint timers never fire: init must not wait on one.
    if bench { arguments += Array("--no-tick".utf8) + [0] }
    // bench/block reads the raw disk: only a system tool's registry handle looks up
    // block0 (issue 21), and the kernel command line, here bench, is what grants it.
    let tool: StaticString = "--tool=bench/block"  // a StaticString: a long String literal's UTF8View traps here
    if bench { arguments += tool.withUTF8Buffer { Array($0) } + [0] }
    for option in options { arguments += option + [0] }
    for program in programs { arguments += program + [0] }
    if bench {
      for program in ["bench/syscalls", "bench/block", "bench/fs", "bench/pkg", "bench/net"] as [StaticString] {
        arguments += program.withUTF8Buffer { Array($0) } + [0]
      }
    }
    // Both counts are taken with the heap holding the same objects: the argument
    // arrays exist before the first and are kept alive past the second (Swift would
    // otherwise free them at their last use, in between).
    defer { withExtendedLifetime((path, arguments)) {} }
    let tables = PageTables.tablePages
    let before = Accounting.now(tables)
    kprint("MM: free=\(before.freePages) pages heap=\(before.heapBytes) bytes objects=\(before.objects) before init")
    let status: ProcessStatus
    do throws(AbiError) {
      // init's handle 1: the authority over devices (device_open), which it passes on
      // only as device handles to the drivers it starts.
      var grants = HandlesInFlight()
      grants.append(ResourceObject(), [.manage])
      // Handle 2: the console, which init hands to the programs it runs.
      grants.append(ConsoleObject(), [.read, .manage, .transfer])
      status = try Process.spawn(path: path, arguments: arguments, grants: grants, by: .kernel).wait()!  // kmain is never interrupted
    } catch {
      kprint("KERNEL: init did not start: error \(error.rawValue)")
      return
    }
    kprint("KERNEL: init exited code=\(status.code) reason=\(status.reason.rawValue)")
    // What the reaper still has in hand (a server init stopped last, whose thread it is
    // freeing) is not a leak: let it finish before counting. Bounded, and a no-op when
    // nothing else is ready.
    for _ in 0..<1000 {
      if Interrupts.withDisabled({ CPU.this.reaperIdle && CPU.this.dead.isEmpty }) { break }
      Scheduler.yield()
    }
    let after = Accounting.now(tables)
    kprint("MM: free=\(after.freePages) pages heap=\(after.heapBytes) bytes objects=\(after.objects) after init")
  }

  /// What the kernel holds, counted so that a leak anywhere shows as a difference.
  /// Page tables the kernel created for its own half (heap window, stack slots) are
  /// kept for reuse by design, so they count as free here.
  struct Accounting {
    let freePages: Int
    let heapBytes: Int
    let objects: Int

    /// `tables`: PageTables.tablePages when counting began.
    static func now(_ tables: Int) -> Accounting {
      Accounting(freePages: PageTables.freePages(countingTablesSince: tables), heapBytes: KernelHeap.bytesInUse,
                 objects: KernelObject.live)
    }
  }
}
