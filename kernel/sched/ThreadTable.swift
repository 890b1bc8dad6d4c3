// Every kernel thread, in one fixed table allocated at boot. Threads are named by
// index, and queues link them through `next`, so the scheduler's hot paths — the
// timer interrupt included — never allocate or touch reference counts. All fields are
// changed only with interrupts masked (the scheduler's rule, docs/design.md "Locks").

typealias ThreadEntry = @convention(c) (UInt64) -> Void

struct ThreadID: Equatable {
  let index: Int32
  static let none = ThreadID(index: -1)
}

enum ThreadState: Equatable {
  case free, ready, running, blocked, dead
}

struct ThreadRecord {
  var state = ThreadState.free
  var name: StaticString = ""
  /// The KernelStack slot, or -1 for the boot thread (which runs on the boot stack).
  var stackSlot: Int32 = -1
  /// Run queue or wait queue link.
  var next = ThreadID.none
  var entry: ThreadEntry? = nil
  var argument: UInt64 = 0
  var exitCode: Int64 = 0
  /// Threads waiting in join() for this one.
  var joiners = WaitQueue()
  /// Timer tick at which a sleeping thread wakes.
  var wakeTick: UInt64 = 0
  /// FXSAVE area for threads that use the FPU/SSE (16-byte aligned), else nil.
  var fpuState: UnsafeMutableRawPointer? = nil
  var preemptions = 0
  var voluntarySwitches = 0
  /// The process this thread runs for (one reference, given back when the thread is
  /// reaped), or nil for a kernel thread. Unmanaged: copying a record must not touch
  /// reference counts (the scheduler copies records in the timer interrupt).
  var process: Unmanaged<Process>? = nil
  /// What this thread's handles name (one reference, likewise).
  var object: Unmanaged<ThreadObject>? = nil
  /// While blocked interruptibly: the object whose wait queue holds it (borrowed: the
  /// blocked call holds a reference). process_kill takes it off (UserThreads).
  var waitingOn: Unmanaged<KernelObject>? = nil
  /// Set when it was taken off a wait because its process is ending.
  var interrupted = false
  /// Calls and replies in progress (kernel/ipc/CallReply.swift).
  var ipc = ThreadIpc()
  /// Physical address of the page tables to run on; 0: the kernel's.
  var addressSpace: UInt64 = 0
  /// Top of the kernel stack: where traps and system calls from ring 3 land.
  var kernelStackTop: UInt64 = 0
  /// Where a user thread starts in ring 3, and its first two arguments.
  var userEntry: UInt64 = 0
  var userStack: UInt64 = 0
  var userArguments: (UInt64, UInt64) = (0, 0)
  /// Reclaimed by the reaper after exit instead of by a joiner.
  var detached = false
}

enum ThreadTable {
  static let capacity = 2048
  // SAFETY: both arrays are allocated once in `start` and never freed or moved; the
  // scheduler touches them with interrupts masked.
  nonisolated(unsafe) private(set) static var records = UnsafeMutablePointer<ThreadRecord>(bitPattern: 8)!
  /// Saved stack pointers, apart from the records so the switch asm gets a plain
  /// pointer to one.
  nonisolated(unsafe) private(set) static var savedStack = UnsafeMutablePointer<UInt64>(bitPattern: 8)!
  nonisolated(unsafe) private(set) static var inUse = 0

  static func start() {
    records = .allocate(capacity: capacity)
    records.initialize(repeating: ThreadRecord(), count: capacity)
    savedStack = .allocate(capacity: capacity)
    savedStack.initialize(repeating: 0, count: capacity)
  }

  static subscript(_ id: ThreadID) -> ThreadRecord {
    get { records[Int(id.index)] }
    set { records[Int(id.index)] = newValue }
  }

  static func pointer(_ id: ThreadID) -> UnsafeMutablePointer<ThreadRecord> { records + Int(id.index) }

  /// A free record, claimed; nil when the table is full.
  static func claim() -> ThreadID? {
    for index in 0..<capacity where records[index].state == .free {
      records[index] = ThreadRecord()
      records[index].state = .blocked  // not runnable until the creator says so
      inUse += 1
      return ThreadID(index: Int32(index))
    }
    return nil
  }

  static func release(_ id: ThreadID) {
    records[Int(id.index)] = ThreadRecord()
    inUse -= 1
  }
}

/// A FIFO of threads linked through ThreadRecord.next. A value: it lives inside the
/// object whose waiters it holds, and is changed only with interrupts masked.
struct WaitQueue {
  private(set) var head = ThreadID.none
  private var tail = ThreadID.none

  var isEmpty: Bool { head == .none }

  mutating func push(_ thread: ThreadID) {
    ThreadTable.pointer(thread).pointee.next = .none
    if tail == .none {
      head = thread
    } else {
      ThreadTable.pointer(tail).pointee.next = thread
    }
    tail = thread
  }

  /// The thread `pop` would return, left in place.
  var first: ThreadID? { head == .none ? nil : head }

  mutating func pop() -> ThreadID? {
    guard head != .none else { return nil }
    let thread = head
    head = ThreadTable[thread].next
    if head == .none { tail = .none }
    ThreadTable.pointer(thread).pointee.next = .none
    return thread
  }

  /// Removes `thread` if it is queued here; true if it was.
  @discardableResult
  mutating func remove(_ thread: ThreadID) -> Bool {
    var found = false
    removeAll(where: { $0 == thread }) { _ in found = true }
    return found
  }

  /// Removes every thread for which `shouldRemove` is true, calling `removed` on each.
  mutating func removeAll(where shouldRemove: (ThreadID) -> Bool, _ removed: (ThreadID) -> Void) {
    var kept = WaitQueue()
    while let thread = pop() {
      if shouldRemove(thread) { removed(thread) } else { kept.push(thread) }
    }
    self = kept
  }
}
