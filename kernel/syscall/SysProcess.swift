// process_spawn, process_exit and process_wait.

extension KernelSyscalls {
  static let pathMaximum: UInt64 = 255

  mutating func processSpawn(path: UserInBuffer<UInt8>, args: UserInBuffer<UInt8>) throws(AbiError) -> UInt32 {
    guard path.count >= 1, path.count <= Self.pathMaximum, args.count <= Abi.pageSize else { throw .invalidArgument }
    let pathBytes = try path.readAll()
    let argumentBytes = try args.readAll()
    // The handle table must have room before a process exists that it would name.
    guard let handle = try? install(.process(-1), kind: .process, rights: Rights.wait.union(.manage)) else {
      throw .limitReached
    }
    let child: Int32
    do {
      child = try ProcessTable.spawn(path: pathBytes, arguments: argumentBytes)
    } catch {
      _ = Interrupts.withDisabled { record.pointee.handles.remove(handle) }
      throw error
    }
    Interrupts.withDisabled {
      _ = record.pointee.handles.remove(handle)
      // The handle takes over the reference spawn returned with.
      _ = record.pointee.handles.install(.process(child), kind: .process, rights: Rights.wait.union(.manage))
    }
    return handle
  }

  mutating func processExit(code: Int64) -> Never {
    ProcessTable.setExit(process, status: ProcessStatus(code: code, reason: .exited, faultAddress: 0, faultIp: 0))
    UserThreads.exitCurrent()
  }

  mutating func processWait(process child: HandleEntry<KernelObject>, status: UserOut<ProcessStatus>) throws(AbiError) {
    guard case .process(let index) = child.object else { throw .wrongHandleKind }
    let result = ProcessTable.wait(index)
    try status.write(result)
  }
}
