// thread_spawn, thread_exit and yield.

extension KernelSyscalls {
  mutating func threadSpawn(entry: UserAddress, stackTop: UserAddress, arg: UInt64) throws(AbiError) -> UInt32 {
    let space = record.pointee.space
    guard entry.isInUserSpace, space.tables.translate(entry.value).map({ !$0.flags.contains(.noExecute) }) == true else {
      throw .invalidArgument
    }
    guard stackTop.value % 16 == 0, stackTop.value > PageAllocator.pageSize, stackTop.value <= UserSpace.end,
      space.tables.translate(stackTop.value - 8).map({ $0.flags.contains(.writable) }) == true
    else { throw .invalidArgument }
    let thread = try UserThreads.create(process: process, entry: entry.value, stack: stackTop.value, arguments: (arg, 0))
    let handle: UInt32
    do {
      handle = try install(.thread(thread.index), kind: .thread, rights: Rights.wait.union(.manage))
    } catch {
      Scheduler.cancel(thread)
      throw error
    }
    Interrupts.withDisabled { record.pointee.threadCount += 1 }
    Scheduler.makeReady(thread)
    return handle
  }

  mutating func threadExit(code: Int64) -> Never {
    if Interrupts.withDisabled({ record.pointee.threadCount }) == 1 {
      ProcessTable.setExit(process, status: ProcessStatus(code: code, reason: .exited, faultAddress: 0, faultIp: 0))
    }
    UserThreads.exitCurrent()
  }

  mutating func yield() {
    Scheduler.yield()
  }
}
