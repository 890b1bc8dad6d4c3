// process_spawn, process_exit, process_wait and process_kill.

extension KernelSyscalls {
  static let pathMaximum: UInt64 = 255

  mutating func processSpawn(path: UserInBuffer<UInt8>, args: UserInBuffer<UInt8>) throws(AbiError) -> KernelObject {
    guard path.count >= 1, path.count <= Self.pathMaximum, args.count <= Abi.pageSize else { throw .invalidArgument }
    return try Process.spawn(path: try path.readAll(), arguments: try args.readAll(), by: withProcess { $0.asSpawner })
  }

  mutating func processSpawnHandles(path: UserInBuffer<UInt8>, args: UserInBuffer<UInt8>, grants: UserInBuffer<HandleGrant>) throws(AbiError) -> KernelObject {
    guard path.count >= 1, path.count <= Self.pathMaximum, args.count <= Abi.pageSize, grants.count <= Abi.ipcHandlesMax else {
      throw .invalidArgument
    }
    return try Process.spawn(path: try path.readAll(), arguments: try args.readAll(), grants: try granted(grants),
                             by: withProcess { $0.asSpawner })
  }

  /// The most bytes process_spawn_image copies.
  static let imageMaximum: UInt64 = 64 << 20

  mutating func processSpawnImage(image: HandleEntry<KernelObject>, imageLen: UInt64, args: UserInBuffer<UInt8>,
                                  grants: UserInBuffer<HandleGrant>) throws(AbiError) -> KernelObject {
    let memory = unsafeDowncast(image.object, to: MemoryObject.self)  // the dispatcher checked the kind
    guard imageLen > 0, imageLen <= memory.byteCount, imageLen <= Self.imageMaximum, args.count >= 1, args.count <= Abi.pageSize,
      grants.count <= Abi.ipcHandlesMax
    else { throw .invalidArgument }
    let given = try granted(grants)
    let arguments = try args.readAll()
    let name = Array(arguments.prefix(while: { $0 != 0 }))
    // Read in place, page by page (no kernel copy of up to 64 MiB on the heap): the
    // loader reads each field once, so the caller changing its pages meanwhile can
    // change only the bytes loaded. The handle entry keeps the object alive.
    return try Process.spawn(image: MemoryObjectImage(object: memory, count: Int(imageLen)), name: name, arguments: arguments,
                             grants: given, by: withProcess { $0.asSpawner })
  }

  /// The handles a new process gets: each needs transfer, and rights no more than the
  /// parent's.
  private mutating func granted(_ grants: UserInBuffer<HandleGrant>) throws(AbiError) -> HandlesInFlight {
    guard grants.count <= Abi.ipcHandlesMax else { throw .invalidArgument }
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
    return given
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

  mutating func processWatch(process child: HandleEntry<KernelObject>, endpoint: HandleEntry<KernelObject>, key: UInt32) throws(AbiError) {
    guard key < Abi.interruptKeys else { throw .invalidArgument }
    try Self.process(child).watch(unsafeDowncast(endpoint.object, to: Endpoint.self), bit: 1 << UInt64(key))
  }

  mutating func processKill(process child: HandleEntry<KernelObject>) throws(AbiError) {
    Self.process(child).end(ProcessStatus(code: 0, reason: .killed, faultAddress: 0, faultIp: 0))
  }

  /// The dispatcher checked the handle's kind.
  private static func process(_ entry: HandleEntry<KernelObject>) -> Process {
    unsafeDowncast(entry.object, to: Process.self)
  }
}
