// endpoint_create, ipc_send and ipc_recv (kernel/ipc/Endpoint.swift), and shared
// memory: shm_create and shm_map (kernel/mm/MemoryObject.swift).

extension KernelSyscalls {
  mutating func endpointCreate() throws(AbiError) -> KernelObject {
    guard let endpoint = Endpoint.make() else { throw .noMemory }
    return endpoint
  }

  mutating func ipcSend(endpoint: HandleEntry<KernelObject>, msg: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>) throws(AbiError) {
    var moved = HandlesInFlight()
    try takeHandles(handles, messageLength: msg.count, into: &moved)
    let sender = withProcess { $0.senderId }
    if IpcTrace.enabled {
      IpcTrace.message(.send, pid: UInt32(truncatingIfNeeded: sender), endpointLabel: Self.endpoint(endpoint).protocolLabel, from: msg.address, length: msg.count,
                       handles: Int(handles.count))
    }
    try Self.endpoint(endpoint).send(from: msg.address, length: Int(msg.count), handles: &moved, sender: sender,
                                     senderManage: endpoint.rights.contains(.manage))
  }

  mutating func ipcRecv(endpoint: HandleEntry<KernelObject>, buf: UserOutBuffer<UInt8>, handles: UserOutBuffer<UInt32>, info: UserOut<IpcRecvInfo>) throws(AbiError) -> UInt64 {
    // Plain ipc_recv never takes a direct delivery (capacity 0): calls reach it queued.
    try receive(Self.endpoint(endpoint), buf: buf, handles: handles, info: info, direct: false, answered: .none)
  }

  mutating func ipcCall(endpoint: HandleEntry<KernelObject>, args: UserIn<IpcCallArgs>, info: UserOut<IpcRecvInfo>) throws(AbiError) -> UInt64 {
    let a = try args.read()
    let msg = try UserInBuffer<UInt8>(address: a.msg, count: a.len)
    let sent = try UserInBuffer<UInt32>(address: a.handles, count: a.handleCount)
    let reply = try UserOutBuffer<UInt8>(address: a.reply, count: a.replyCap)
    let replyHandles = try UserOutBuffer<UInt32>(address: a.replyHandles, count: a.replyHandleCap)
    guard msg.count <= Abi.ipcMessageMax else { throw .invalidArgument }
    var moved = HandlesInFlight()
    if sent.count > 0 { try takeHandles(sent, messageLength: msg.count, into: &moved) }
    let record = ThreadTable.pointer(Scheduler.current)
    Interrupts.withDisabled {
      record.pointee.ipc.answered = false
      record.pointee.ipc.replyError = AbiError(rawValue: 0)
      record.pointee.ipc.replyBuffer = reply.address
      record.pointee.ipc.replyCapacity = reply.count
      record.pointee.ipc.replyHandleCapacity = replyHandles.count
      record.pointee.ipc.replyHandleCount = 0
    }
    let sender = withProcess { $0.senderId }
    if IpcTrace.enabled {
      IpcTrace.message(.call, pid: UInt32(truncatingIfNeeded: sender), endpointLabel: Self.endpoint(endpoint).protocolLabel, from: msg.address, length: msg.count,
                       handles: Int(sent.count))
    }
    if let error = Self.endpoint(endpoint).call(from: msg.address, length: Int(msg.count), handles: &moved, sender: sender,
                                                senderManage: endpoint.rights.contains(.manage)) {
      throw error
    }
    // Answered: the server left the reply's bytes in our buffer and the rest here
    // (nobody writes these fields while we run). Handles it installed in our table are
    // ours only once their values reached us: a fault writing them closes them.
    let handleCount = record.pointee.ipc.replyHandleCount
    let failed = record.pointee.ipc.replyError.rawValue != 0
    var values = record.pointee.ipc.replyHandles
    do throws(AbiError) {
      try info.write(IpcRecvInfo(handleCount: UInt32(handleCount), flags: 0, sender: 0))
      if !failed && handleCount > 0 {
        try withUnsafeBytes(of: &values) { bytes throws(AbiError) in
          try replyHandles.write(UnsafeRawBufferPointer(rebasing: bytes[0..<(handleCount * 4)]))
        }
      }
    } catch {
      if !failed { for index in 0..<handleCount { _ = withProcess { $0.removeHandle(values[index]) } } }
      throw error
    }
    if failed { throw record.pointee.ipc.replyError }
    if IpcTrace.enabled {
      IpcTrace.message(.reply, pid: UInt32(truncatingIfNeeded: sender), endpointLabel: Self.endpoint(endpoint).protocolLabel, from: reply.address,
                       length: UInt64(record.pointee.ipc.replyLength), handles: handleCount)
    }
    return UInt64(record.pointee.ipc.replyLength)
  }

  mutating func endpointLabel(endpoint: HandleEntry<KernelObject>, name: UserInBuffer<UInt8>) throws(AbiError) {
    guard name.count >= 1, name.count <= 64 else { throw .invalidArgument }
    let label = ProtocolTrace.index(of: try name.readAll())
    guard label != 0 else { throw .notFound }
    Self.endpoint(endpoint).protocolLabel = label
  }

  mutating func endpointTimer(endpoint: HandleEntry<KernelObject>, key: UInt32, deadline: UInt64) throws(AbiError) {
    try EndpointTimers.arm(Self.endpoint(endpoint), key: key, deadline: deadline)
  }

  mutating func ipcReplyRecv(endpoint: HandleEntry<KernelObject>, args: UserIn<IpcReplyRecvArgs>, info: UserOut<IpcRecvInfo>) throws(AbiError) -> UInt64 {
    let a = try args.read()
    let reply = try UserInBuffer<UInt8>(address: a.reply, count: a.replyLen)
    let replyHandles = try UserInBuffer<UInt32>(address: a.replyHandles, count: a.replyHandleCount)
    let buf = try UserOutBuffer<UInt8>(address: a.buf, count: a.cap)
    let handles = try UserOutBuffer<UInt32>(address: a.handles, count: a.handleCap)
    guard reply.count <= Abi.ipcMessageMax, replyHandles.count <= Abi.ipcHandlesMax else { throw .invalidArgument }
    let answered = try CallReply.answer(with: reply, handles: replyHandles, from: self)
    return try receive(Self.endpoint(endpoint), buf: buf, handles: handles, info: info, direct: true, answered: answered)
  }

  mutating func endpointStatus(endpoint: HandleEntry<KernelObject>) -> UInt64 {
    Self.endpoint(endpoint).status
  }

  mutating func ipcReplyDetach() throws(AbiError) -> KernelObject {
    let me = ThreadTable.pointer(Scheduler.current)
    let held = Interrupts.withDisabled { () -> (ThreadID, UInt64) in
      defer { me.pointee.ipc.replyTo = .none }
      return (me.pointee.ipc.replyTo, me.pointee.ipc.replySerial)
    }
    guard held.0 != .none else { throw .notFound }
    return ReplyObject(caller: held.0, serial: held.1)
  }

  mutating func endpointWatchCaller(endpoint: HandleEntry<KernelObject>) throws(AbiError) -> UInt64 {
    let me = ThreadTable.pointer(Scheduler.current)
    // The caller is blocked in this call, so its process lives; the reference is taken
    // while that is known (masked), and keeps it alive past a kill meanwhile.
    let caller = Interrupts.withDisabled { () -> Process? in
      let (thread, serial) = (me.pointee.ipc.replyTo, me.pointee.ipc.replySerial)
      guard CallReply.isWaiting(thread, serial: serial) else { return nil }
      return ThreadTable.pointer(thread).pointee.process?.takeUnretainedValue()
    }
    guard let caller else { throw .notFound }
    try caller.watchAsCaller(from: Self.endpoint(endpoint))
    return caller.senderId
  }

  mutating func ipcDiscard(endpoint: HandleEntry<KernelObject>) throws(AbiError) {
    guard Self.endpoint(endpoint).discardHead() else { throw .notFound }
  }

  mutating func ipcReply(reply: HandleEntry<KernelObject>, msg: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>) throws(AbiError) {
    guard msg.count <= Abi.ipcMessageMax, handles.count <= Abi.ipcHandlesMax else { throw .invalidArgument }
    let call = unsafeDowncast(reply.object, to: ReplyObject.self)  // the dispatcher checked the kind
    _ = try CallReply.answer(call, with: msg, handles: handles, from: self)
    // A capability answers once: the handle goes (the object lives while this call holds it).
    _ = withProcess { $0.removeHandle(reply.value) }
  }

  /// Moves `handles` (a message's, at most ipc_handles_max, each with `transfer`) out
  /// of the caller's table, all or none; checks the message length too.
  mutating func takeHandles(_ handles: UserInBuffer<UInt32>, messageLength: UInt64,
                            into moved: inout HandlesInFlight) throws(AbiError) {
    guard messageLength <= Abi.ipcMessageMax, handles.count <= Abi.ipcHandlesMax else { throw .invalidArgument }
    guard handles.count > 0 else { return }
    var values = InlineArray<4, UInt32>(repeating: 0)
    try withUnsafeMutableBytes(of: &values) { bytes throws(AbiError) in
      try handles.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Int(handles.byteCount)]))
    }
    let count = Int(handles.count)
    let problem = withUnsafeBytes(of: &values) { bytes in
      let sent = UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt32.self), count: count)
      return withProcess { $0.removeHandles(sent, needing: .transfer, into: &moved) }
    }
    if let problem { throw problem }
  }

  /// The receiving half of ipc_recv and ipc_reply_recv. `direct`: a caller may copy a
  /// request straight into `buf`. `answered`: a caller just replied to, to run next.
  private mutating func receive(_ queue: Endpoint, buf: UserOutBuffer<UInt8>, handles: UserOutBuffer<UInt32>,
                                info: UserOut<IpcRecvInfo>, direct: Bool, answered: ThreadID) throws(AbiError) -> UInt64 {
    var wake = answered
    while true {
      let arrival = queue.waitForMessage(buffer: buf.address, capacity: direct ? buf.count : 0, answered: wake)
      wake = .none
      switch arrival {
      case nil:
        throw .peerClosed
      case .signaled(let bits)?:
        guard buf.count >= 8 else {
          queue.resignal(bits)
          try info.write(IpcRecvInfo(handleCount: 0, flags: IpcRecvFlags.interrupt.rawValue, sender: 0))
          throw .bufferTooSmall
        }
        var value = bits
        do throws(AbiError) {
          try withUnsafeBytes(of: &value) { bytes throws(AbiError) in try buf.write(bytes) }
          try info.write(IpcRecvInfo(handleCount: 0, flags: IpcRecvFlags.interrupt.rawValue, sender: 0))
        } catch {
          queue.resignal(bits)  // an interrupt is never lost to a bad buffer
          throw error
        }
        return 8
      case .notice?:
        guard let notice = queue.takeNotice() else { continue }
        do throws(AbiError) {
          try info.write(IpcRecvInfo(handleCount: 0, flags: IpcRecvFlags.senderEnded.rawValue, sender: notice.sender))
        } catch {
          queue.renotice(notice)  // a notice is never lost to a bad buffer
          throw error
        }
        return 0
      case .delivered(let length, let sender, let senderManage)?:
        let flags: IpcRecvFlags = senderManage ? [.call, .senderManage] : [.call]
        try info.write(IpcRecvInfo(handleCount: 0, flags: flags.rawValue, sender: sender))
        if FaultInjection.armed { withProcess { FaultInjection.received(by: $0) } }
        return UInt64(length)
      case .queued(let length, let handleCount, let serial)?:
        // Room first: the message stays queued unless all of it can be delivered.
        guard UInt64(length) <= buf.count, UInt64(handleCount) <= handles.count else {
          try info.write(IpcRecvInfo(handleCount: UInt32(handleCount), flags: 0, sender: 0))
          throw .bufferTooSmall
        }
        var reserved = InlineArray<4, UInt32>(repeating: 0)
        var reservedCount = 0
        defer { for index in 0..<reservedCount { cancelHandle(reserved[index]) } }
        while reservedCount < handleCount {
          guard let handle = withProcess({ $0.reserveHandle() }) else {
            try info.write(IpcRecvInfo(handleCount: UInt32(handleCount), flags: 0, sender: 0))
            throw .bufferTooSmall
          }
          reserved[reservedCount] = handle
          reservedCount += 1
        }
        var received = HandlesInFlight()
        guard let taken = try queue.take(serial: serial, to: buf.address, handles: &received) else { continue }
        for index in 0..<handleCount {
          if let object = received[index].object {
            withProcess { $0.fillHandle(reserved[index], with: object, rights: received[index].rights) }
          }
        }
        reservedCount = 0  // filled: nothing to cancel
        try withUnsafeBytes(of: &reserved) { bytes throws(AbiError) in
          try handles.write(UnsafeRawBufferPointer(rebasing: bytes[0..<(handleCount * 4)]))
        }
        try info.write(IpcRecvInfo(handleCount: UInt32(handleCount), flags: taken.flags.rawValue, sender: taken.sender))
        if FaultInjection.armed { withProcess { FaultInjection.received(by: $0) } }
        return UInt64(taken.length)
      }
    }
  }

  mutating func shmCreate(size: UInt64) throws(AbiError) -> KernelObject {
    guard size > 0, size % Abi.pageSize == 0 else { throw .invalidArgument }
    // Charged to this process until the object dies, wherever its handles go.
    guard size <= UserMemoryAccount.limit,
      let object = MemoryObject.shared(pageCount: Int(size / Abi.pageSize), chargedTo: withProcess { $0.space.account })
    else { throw .noMemory }
    return object
  }

  mutating func shmMap(shm: HandleEntry<KernelObject>, addr: UserAddress, prot: VmProt) throws(AbiError) -> UserAddress {
    guard addr.value % Abi.pageSize == 0, !(prot.contains(.write) && prot.contains(.execute)) else { throw .invalidArgument }
    if prot.contains(.write) && !shm.rights.contains(.write) { throw .accessDenied }
    let object = unsafeDowncast(shm.object, to: MemoryObject.self)
    let space = withProcess { $0.space }
    let placement: AddressSpace.Placement
    if addr.value == 0 {
      placement = .hint(0)
    } else {
      guard addr.value < UserSpace.end, object.byteCount <= UserSpace.end - addr.value else { throw .invalidArgument }
      placement = .fixed(addr.value)
    }
    return UserAddress(try space.map(object, placement, prot: prot))
  }

  /// The dispatcher checked the handle's kind.
  private static func endpoint(_ entry: HandleEntry<KernelObject>) -> Endpoint {
    unsafeDowncast(entry.object, to: Endpoint.self)
  }
}
