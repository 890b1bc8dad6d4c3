// endpoint_create, ipc_send and ipc_recv (kernel/ipc/Endpoint.swift), and shared
// memory: shm_create and shm_map (kernel/mm/MemoryObject.swift).

extension KernelSyscalls {
  mutating func endpointCreate() throws(AbiError) -> KernelObject {
    guard let endpoint = Endpoint.make() else { throw .noMemory }
    return endpoint
  }

  mutating func ipcSend(endpoint: HandleEntry<KernelObject>, msg: UserInBuffer<UInt8>, handles: UserInBuffer<UInt32>) throws(AbiError) {
    guard msg.count <= Abi.ipcMessageMax, handles.count <= Abi.ipcHandlesMax else { throw .invalidArgument }
    var values = InlineArray<4, UInt32>(repeating: 0)
    try withUnsafeMutableBytes(of: &values) { bytes throws(AbiError) in
      try handles.read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Int(handles.byteCount)]))
    }
    // Every sent handle needs `transfer`; all leave the table together or none does.
    var moved = InlineArray<4, (object: KernelObject?, rights: Rights)>(repeating: (nil, Rights()))
    let count = Int(handles.count)
    let problem = withUnsafeBytes(of: &values) { bytes in
      let sent = UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt32.self), count: count)
      return withProcess { $0.removeHandles(sent, needing: .transfer, into: &moved) }
    }
    if let problem { throw problem }
    let sender = UInt64(withProcess { $0.pid })
    try Self.endpoint(endpoint).send(from: msg.address, length: Int(msg.count), handles: &moved, handleCount: count, sender: sender)
  }

  mutating func ipcRecv(endpoint: HandleEntry<KernelObject>, buf: UserOutBuffer<UInt8>, handles: UserOutBuffer<UInt32>, info: UserOut<IpcRecvInfo>) throws(AbiError) -> UInt64 {
    let queue = Self.endpoint(endpoint)
    while true {
      guard let next = queue.waitForMessage() else { throw .peerClosed }
      // Room first: the message stays queued unless all of it can be delivered.
      guard UInt64(next.length) <= buf.count, UInt64(next.handleCount) <= handles.count else {
        try info.write(IpcRecvInfo(handleCount: UInt32(next.handleCount), sender: 0))
        throw .bufferTooSmall
      }
      var reserved = InlineArray<4, UInt32>(repeating: 0)
      var reservedCount = 0
      defer { for index in 0..<reservedCount { cancelHandle(reserved[index]) } }
      while reservedCount < next.handleCount {
        guard let handle = withProcess({ $0.reserveHandle() }) else {
          try info.write(IpcRecvInfo(handleCount: UInt32(next.handleCount), sender: 0))
          throw .bufferTooSmall
        }
        reserved[reservedCount] = handle
        reservedCount += 1
      }
      var received = InlineArray<4, (object: KernelObject?, rights: Rights)>(repeating: (nil, Rights()))
      guard let taken = try queue.take(serial: next.serial, to: buf.address, handles: &received) else { continue }
      for index in 0..<next.handleCount {
        if let object = received[index].object {
          withProcess { $0.fillHandle(reserved[index], with: object, rights: received[index].rights) }
        }
      }
      reservedCount = 0  // filled: nothing to cancel
      try withUnsafeBytes(of: &reserved) { bytes throws(AbiError) in
        try handles.write(UnsafeRawBufferPointer(rebasing: bytes[0..<(next.handleCount * 4)]))
      }
      try info.write(IpcRecvInfo(handleCount: UInt32(next.handleCount), sender: taken.sender))
      return UInt64(taken.length)
    }
  }

  mutating func shmCreate(size: UInt64) throws(AbiError) -> KernelObject {
    guard size > 0, size % Abi.pageSize == 0 else { throw .invalidArgument }
    guard size <= AddressSpace.mappedLimit, let object = MemoryObject.anonymous(pageCount: Int(size / Abi.pageSize)) else {
      throw .noMemory
    }
    object.isPrivate = false
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
