// Processes: an address space, a handle table, one or more user threads, and how the
// process ended. A record lives while the process runs and while any handle names it
// (`references`); process_wait reads the status of an exited one. Fields change only
// with interrupts masked.
import X86Shim

enum ProcessState: Equatable { case free, alive, exited }

/// What the kernel saw a process's system calls return, for the M3 round-trip check:
/// `SYSCALL: ok` is printed only from these observations.
struct SyscallAudit {
  var debugWriteBytes: UInt64 = 0
  var debugWriteExact = true
  var timeNowCalls = 0
  var lastTime: UInt64 = 0
  var timeMonotonic = true
}

struct ProcessRecord {
  var state = ProcessState.free
  var pid: UInt32 = 0
  var name = InlineArray<48, UInt8>(repeating: 0)
  var nameLength = 0
  var space = AddressSpace(tables: PageTables(root: 0))
  var threadCount = 0
  /// Set by process_exit or a fault: the remaining threads die at their next system call.
  var exiting = false
  var status = ProcessStatus()
  var waiters = WaitQueue()
  /// One for being alive, one per handle naming it.
  var references = 0
  var handles = HandleTable()
  /// Where vm_map without `fixed` looks for room next.
  var mapCursor: UInt64 = 0
  var audit = SyscallAudit()
}

enum ProcessTable {
  static let capacity = 256
  static let stackTop = UInt64(USER_SPACE_END) - PageAllocator.pageSize  // a guard page above
  static let stackPages: UInt64 = 16
  static let mapBase: UInt64 = 0x10_0000_0000
  // SAFETY: allocated once in `start`, never freed or moved; changed with interrupts masked.
  nonisolated(unsafe) private(set) static var records = UnsafeMutablePointer<ProcessRecord>(bitPattern: 8)!
  nonisolated(unsafe) private static var nextPid: UInt32 = 1
  nonisolated(unsafe) private(set) static var alive = 0
  nonisolated(unsafe) static var yieldAfterStart = false

  static func start() {
    records = .allocate(capacity: capacity)
    records.initialize(repeating: ProcessRecord(), count: capacity)
  }

  static func pointer(_ index: Int32) -> UnsafeMutablePointer<ProcessRecord> { records + Int(index) }

  /// The process the current thread belongs to, or nil for kernel threads.
  static var current: Int32? {
    let process = ThreadTable.pointer(Scheduler.current).pointee.process
    return process >= 0 ? process : nil
  }

  /// Starts `path` from the initrd as a new process; returns its index, holding a
  /// reference for the caller (to keep in a handle, or drop). The reference is taken
  /// before the child can run: a child that exits at once must not free the record
  /// its spawner is about to name.
  static func spawn<P: Collection<UInt8>, A: Collection<UInt8>>(path: P, arguments: A) throws(AbiError) -> Int32 {
    guard let file = Initrd.find(path) else { throw .notFound }
    guard let index = claim() else { throw .noMemory }
    let record = pointer(index)
    for (offset, byte) in path.prefix(48).enumerated() { record.pointee.name[offset] = byte }
    record.pointee.nameLength = min(path.count, 48)
    guard let space = AddressSpace.create() else {
      release(index)
      throw .noMemory
    }
    record.pointee.space = space
    do throws(AbiError) {
      let image = try ElfImage.load(file.bytes, into: space, name: file.name)
      record.pointee.mapCursor = max(mapBase, roundUp(image.highestAddress, PageAllocator.pageSize))
      // The stack, and the arguments copied to its top.
      for page in 1...stackPages {
        _ = try space.mapZeroedPage(at: stackTop - page * PageAllocator.pageSize, writable: true, executable: false)
      }
      let argumentsAt = (stackTop - UInt64(arguments.count)) & ~15
      try UserMemory.write(Array(arguments), to: argumentsAt, in: space)
      let thread = try UserThreads.create(process: index, entry: image.entry, stack: argumentsAt - 16,
                                          arguments: (argumentsAt, UInt64(arguments.count)))
      Interrupts.withDisabled {
        record.pointee.state = .alive
        record.pointee.references = 2  // alive, and the caller's
        record.pointee.threadCount = 1
        alive += 1
      }
      Scheduler.makeReady(thread)
      // test=spawnwindow: let the child run first, as an ill-timed tick can.
      if yieldAfterStart { Scheduler.yieldEvenIfIdle() }
      return index
    } catch {
      space.destroy()
      release(index)
      throw error
    }
  }

  /// A user thread of `process` is gone. The last one ends the process: its address
  /// space is freed and waiters are woken. Runs on the exiting thread's kernel stack.
  static func threadExited(process index: Int32) {
    Interrupts.withDisabled {
      let record = pointer(index)
      record.pointee.threadCount -= 1
      guard record.pointee.threadCount == 0 else { return }
      // Leave the process's tables before freeing them, and stop naming them: the
      // scheduler loads a thread's tables whenever it switches to it.
      ThreadTable.pointer(Scheduler.current).pointee.addressSpace = 0
      if x86_read_cr3() & ~0xfff == record.pointee.space.tables.root { KernelAddressSpace.tables.activate() }
      record.pointee.space.destroy()
      record.pointee.state = .exited
      alive -= 1
      announceAudit(index)
      while let waiter = record.pointee.waiters.pop() {
        ThreadTable.pointer(waiter).pointee.state = .ready
        CPU.this.runQueue.push(waiter)
      }
      dropReference(index)
    }
  }

  /// Ends the process `index` with `status` (exit or fault); the calling thread must be
  /// one of its threads and exits afterwards.
  static func setExit(_ index: Int32, status: ProcessStatus) {
    Interrupts.withDisabled {
      if !pointer(index).pointee.exiting {
        pointer(index).pointee.exiting = true
        pointer(index).pointee.status = status
      }
    }
  }

  /// Blocks until `index` has exited; returns its status.
  static func wait(_ index: Int32) -> ProcessStatus {
    Interrupts.withDisabled {
      while pointer(index).pointee.state != .exited {
        pointer(index).pointee.waiters.push(Scheduler.current)
        Scheduler.blockCurrent()
      }
      return pointer(index).pointee.status
    }
  }

  static func dropReference(_ index: Int32) {
    Interrupts.withDisabled {
      pointer(index).pointee.references -= 1
      if pointer(index).pointee.references == 0 && pointer(index).pointee.state == .exited { release(index) }
    }
  }

  private static func announceAudit(_ index: Int32) {
    let record = pointer(index).pointee
    let audit = record.audit
    guard record.status.reason == .exited, record.status.code == 0, audit.debugWriteBytes > 0, audit.timeNowCalls >= 2 else { return }
    if audit.debugWriteExact && audit.timeMonotonic {
      kprint("SYSCALL: ok pid=\(record.pid) debug_write=\(audit.debugWriteBytes) bytes time_now=\(audit.timeNowCalls) calls monotonic")
    } else {
      kprint("SYSCALL: wrong pid=\(record.pid) debug_write exact=\(audit.debugWriteExact) time_now monotonic=\(audit.timeMonotonic)")
    }
  }

  private static func claim() -> Int32? {
    Interrupts.withDisabled {
      for index in 0..<capacity where records[index].state == .free && records[index].pid == 0 {
        records[index] = ProcessRecord()
        records[index].pid = nextPid
        nextPid += 1
        return Int32(index)
      }
      return nil
    }
  }

  private static func release(_ index: Int32) {
    records[Int(index)] = ProcessRecord()
  }
}
