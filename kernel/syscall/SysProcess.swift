// process_spawn, process_exit, process_wait and process_kill.

extension KernelSyscalls {
  static let pathMaximum: UInt64 = 255

  mutating func processSpawn(path: UserInBuffer<UInt8>, args: UserInBuffer<UInt8>) throws(AbiError) -> KernelObject {
    guard path.count >= 1, path.count <= Self.pathMaximum, args.count <= Abi.pageSize else { throw .invalidArgument }
    return try Process.spawn(path: try path.readAll(), arguments: try args.readAll())
  }

  mutating func processSpawnHandles(path: UserInBuffer<UInt8>, args: UserInBuffer<UInt8>, grants: UserInBuffer<HandleGrant>) throws(AbiError) -> KernelObject {
    guard path.count >= 1, path.count <= Self.pathMaximum, args.count <= Abi.pageSize, grants.count <= Abi.ipcHandlesMax else {
      throw .invalidArgument
    }
    var wanted = InlineArray<4, HandleGrant>(repeating: HandleGrant())
    try withUnsafeMutableBytes(of: &wanted) { bytes throws(AbiError) in
      try grants.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Int(grants.byteCount)]))
    }
    var given = HandlesInFlight()
    for index in 0..<Int(grants.count) {
      guard let (object, rights) = withProcess({ $0.lookupHandle(wanted[index].handle) }) else { throw .badHandle }
      guard rights.contains(.transfer) else { throw .accessDenied }
      let asked = Rights(rawValue: wanted[index].rights)
      guard rights.contains(asked) else { throw .invalidArgument }  // never more than the parent has
      given.append(object, asked)
    }
    return try Process.spawn(path: try path.readAll(), arguments: try args.readAll(), grants: given)
  }

  mutating func processExit(code: Int64) -> Never {
    withProcess { $0.end(ProcessStatus(code: code, reason: .exited, faultAddress: 0, faultIp: 0)) }
    UserThreads.exitCurrent()
  }

  mutating func processWait(process child: HandleEntry<KernelObject>, status: UserOut<ProcessStatus>) throws(AbiError) {
    // The entry's reference keeps the child alive even if a sibling closes the handle.
    // nil: this thread's own process is ending; it stops on its way out, unseen.
    guard let ended = Self.process(child).wait() else { throw .fault }
    try status.write(ended)
  }

  mutating func processKill(process child: HandleEntry<KernelObject>) throws(AbiError) {
    Self.process(child).end(ProcessStatus(code: 0, reason: .killed, faultAddress: 0, faultIp: 0))
  }

  /// The dispatcher checked the handle's kind.
  private static func process(_ entry: HandleEntry<KernelObject>) -> Process {
    unsafeDowncast(entry.object, to: Process.self)
  }
}
