// process_spawn, process_exit, process_wait and process_kill.

extension KernelSyscalls {
  static let pathMaximum: UInt64 = 255

  mutating func processSpawn(path: UserInBuffer<UInt8>, args: UserInBuffer<UInt8>) throws(AbiError) -> KernelObject {
    guard path.count >= 1, path.count <= Self.pathMaximum, args.count <= Abi.pageSize else { throw .invalidArgument }
    return try Process.spawn(path: try path.readAll(), arguments: try args.readAll())
  }

  mutating func processExit(code: Int64) -> Never {
    withProcess { $0.end(ProcessStatus(code: code, reason: .exited, faultAddress: 0, faultIp: 0)) }
    UserThreads.exitCurrent()
  }

  mutating func processWait(process child: HandleEntry<KernelObject>, status: UserOut<ProcessStatus>) throws(AbiError) {
    // The entry's reference keeps the child alive even if a sibling closes the handle.
    try status.write(Self.process(child).wait())
  }

  mutating func processKill(process child: HandleEntry<KernelObject>) throws(AbiError) {
    Self.process(child).end(ProcessStatus(code: 0, reason: .killed, faultAddress: 0, faultIp: 0))
  }

  /// The dispatcher checked the handle's kind.
  private static func process(_ entry: HandleEntry<KernelObject>) -> Process {
    unsafeDowncast(entry.object, to: Process.self)
  }
}
