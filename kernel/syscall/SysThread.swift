// thread_spawn, thread_exit and yield.

extension KernelSyscalls {
  mutating func threadSpawn(entry: UserAddress, stackTop: UserAddress, arg: UInt64) throws(AbiError) -> KernelObject {
    let tables = withProcess { $0.space.tables }
    guard entry.isInUserSpace, tables.translate(entry.value).map({ !$0.flags.contains(.noExecute) }) == true else {
      throw .invalidArgument
    }
    guard stackTop.value % 16 == 0, stackTop.value > PageAllocator.pageSize, stackTop.value <= UserSpace.end,
      tables.translate(stackTop.value - 8).map({ $0.flags.contains(.writable) }) == true
    else { throw .invalidArgument }
    let thread = try withProcess { process throws(AbiError) in
      try UserThreads.create(in: process, entry: entry.value, stack: stackTop.value, arguments: (arg, 0))
    }
    Scheduler.makeReady(thread.id)
    return thread
  }

  mutating func threadExit(code: Int64) -> Never {
    UserThreads.exitCurrent(code: code)
  }

  mutating func yield() {
    Scheduler.yield()
  }
}
