// The device grants (kernel/dev/DeviceObject.swift): device_open from the resource
// init holds, then, each needing its right on the device handle, configuration reads,
// a BAR's registers mapped uncached, the interrupt bound to an endpoint and
// acknowledged, and DMA memory. Nothing here knows any device: drivers do.

/// The authority to open devices: init's handle 1, and nobody else's unless init
/// gives it away.
final class ResourceObject: KernelObject {
  init() { super.init(kind: .resource) }
}

extension KernelSyscalls {
  mutating func deviceOpen(resource: HandleEntry<KernelObject>, index: UInt32, info: UserOut<DeviceInfo>) throws(AbiError) -> KernelObject {
    guard Int(index) < DeviceObject.all.count else { throw .notFound }
    let device = DeviceObject.all[Int(index)]
    try info.write(device.info)
    return device
  }

  mutating func deviceConfigRead(device: HandleEntry<KernelObject>, offset: UInt64, buf: UserOutBuffer<UInt8>) throws(AbiError) {
    guard offset <= Abi.deviceConfigSize, buf.count <= Abi.deviceConfigSize - offset else { throw .invalidArgument }
    let function = Self.device(device).function
    // Byte by byte from whole dwords, through a small kernel buffer.
    var chunk = InlineArray<256, UInt8>(repeating: 0)
    var done: UInt64 = 0
    while done < buf.count {
      let length = Int(min(256, buf.count - done))
      for index in 0..<length {
        let at = offset + done + UInt64(index)
        chunk[index] = UInt8(truncatingIfNeeded: PCI.configRead32(function, UInt16(at & ~3)) >> UInt32((at & 3) * 8))
      }
      try withUnsafeBytes(of: &chunk) { bytes throws(AbiError) in
        try buf.write(UnsafeRawBufferPointer(rebasing: bytes[0..<length]), offset: done)
      }
      done += UInt64(length)
    }
  }

  mutating func deviceMapBar(device: HandleEntry<KernelObject>, bar: UInt32, addr: UserAddress) throws(AbiError) -> UserAddress {
    let object = Self.device(device)
    guard bar < 6, addr.value % Abi.pageSize == 0 else { throw .invalidArgument }
    let found = object.function.bars[Int(bar)]
    guard found.size >= Abi.pageSize, !found.isIO, found.base % Abi.pageSize == 0 else { throw .invalidArgument }
    if let msix = object.msixBars, msix.table == Int(bar) || msix.pending == Int(bar) { throw .accessDenied }
    guard let registers = MemoryObject.device(physical: found.base, byteCount: found.size) else { throw .noMemory }
    let placement: AddressSpace.Placement
    if addr.value == 0 {
      placement = .hint(0)
    } else {
      guard addr.value < UserSpace.end, found.size <= UserSpace.end - addr.value else { throw .invalidArgument }
      placement = .fixed(addr.value)
    }
    let space = withProcess { $0.space }
    let mapped = try space.map(registers, placement, prot: [.read, .write])
    object.setCommand(memory: true)
    return UserAddress(mapped)
  }

  mutating func deviceIrqBind(device: HandleEntry<KernelObject>, endpoint: HandleEntry<KernelObject>, key: UInt32) throws(AbiError) {
    guard key < Abi.interruptKeys else { throw .invalidArgument }
    try MessageInterrupts.bind(Self.device(device), to: unsafeDowncast(endpoint.object, to: Endpoint.self), key: key)
  }

  mutating func deviceIrqAck(device: HandleEntry<KernelObject>) throws(AbiError) {
    try MessageInterrupts.acknowledge(Self.device(device))
  }

  mutating func deviceDmaAlloc(device: HandleEntry<KernelObject>, size: UInt64, placed: UserOut<DmaPlacement>) throws(AbiError) -> KernelObject {
    guard size > 0, size % Abi.pageSize == 0, size <= Abi.dmaAllocMax else { throw .invalidArgument }
    guard let memory = MemoryObject.contiguous(pageCount: Int(size / Abi.pageSize)) else { throw .noMemory }
    try placed.write(DmaPlacement(physical: memory.physicalPage(0)!, size: size))
    Self.device(device).grantDMA(memory)
    return memory
  }

  /// The dispatcher checked the handle's kind.
  private static func device(_ entry: HandleEntry<KernelObject>) -> DeviceObject {
    unsafeDowncast(entry.object, to: DeviceObject.self)
  }
}

extension KernelSyscalls {
  mutating func deviceInfo(device: HandleEntry<KernelObject>, info: UserOut<DeviceInfo>) throws(AbiError) {
    try info.write(unsafeDowncast(device.object, to: DeviceObject.self).info)
  }
}
