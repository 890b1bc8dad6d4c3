// A virtio-blk device (virtio spec 1.1, §5.2) on the modern PCI transport: one request
// queue, up to `slotCount` requests in flight. Each slot owns a fixed chain of three
// descriptors (header, data, status) and a 128 KiB bounce buffer in DMA memory: a
// client's shared buffer is not physically contiguous, and the driver knows no
// physical address but its own DMA memory's, so data is copied once between them.
//
// DMA memory: the queue's page (SplitVirtqueue), a page of request headers (16 bytes
// per slot at slot * 16) and status bytes (at 2048 + slot), and the bounce buffers.
// Their handles close once mapped: the mapping and the device's grant keep them.

final class VirtioBlock {
  enum Feature {
    static let readOnly: UInt64 = 1 << 5
    static let flush: UInt64 = 1 << 9
  }
  enum RequestType {
    static let read: UInt32 = 0
    static let write: UInt32 = 1
    static let flush: UInt32 = 4
  }
  static let sectorSize: UInt64 = 512
  static let slotBytes = UInt(BlockProtocol.maxBlocksPerRequest) * 512

  let transport: VirtioPCI
  let queue: SplitVirtqueue
  let slotCount: Int
  /// In 512-byte sectors.
  let capacity: UInt64
  let readOnly: Bool
  let canFlush: Bool
  private let control: DeviceRegisters
  private let controlPhysical: UInt64
  private let bounce: DeviceRegisters
  private let bouncePhysical: UInt64

  init(_ transport: VirtioPCI) throws(VirtioError) {
    self.transport = transport
    transport.reset()
    let features = try transport.negotiate(Feature.readOnly | Feature.flush)
    readOnly = features & Feature.readOnly != 0
    canFlush = features & Feature.flush != 0
    let offered = transport.maximumQueueSize(0)
    guard offered >= 4 else {
      transport.fail()
      throw .queueUnavailable
    }
    var size = SplitVirtqueue.maximumSize
    while size > offered { size /= 2 }
    queue = try SplitVirtqueue(size: size, device: transport.device)
    slotCount = min(16, Int(size) / 3)

    var controlPlace = DmaPlacement()
    var bouncePlace = DmaPlacement()
    do {
      let controlHandle = try Sys.deviceDmaAlloc(device: transport.device, size: 4096, placed: &controlPlace)
      let bounceHandle = try Sys.deviceDmaAlloc(device: transport.device, size: UInt64(slotCount) * UInt64(Self.slotBytes), placed: &bouncePlace)
      control = DeviceRegisters(base: try Sys.shmMap(shm: controlHandle, addr: 0, prot: [.read, .write]), size: 4096)
      bounce = DeviceRegisters(base: try Sys.shmMap(shm: bounceHandle, addr: 0, prot: [.read, .write]),
                               size: UInt(slotCount) * Self.slotBytes)
    } catch {
      transport.fail()
      throw .grantRefused(error)
    }
    controlPhysical = controlPlace.physical
    bouncePhysical = bouncePlace.physical
    try transport.enableQueue(0, queue)
    transport.disableConfigInterrupt()
    capacity = transport.deviceConfig.read64(0)
    transport.driverReady()
  }

  /// Slot `slot`'s bounce buffer.
  func buffer(_ slot: Int) -> UnsafeMutableRawPointer { bounce.pointer(UInt(slot) * Self.slotBytes) }

  /// Starts a request in `slot`: read or write `sectors` from `sector` through the
  /// slot's bounce buffer, or flush.
  func start(_ slot: Int, type: UInt32, sector: UInt64, sectors: UInt32) {
    let header = UInt(slot) * 16
    control.write32(header, type)
    control.write32(header + 4, 0)
    control.write64(header + 8, sector)
    control.write8(2048 + UInt(slot), 0xff)  // the device overwrites it
    let first = UInt16(slot * 3)
    queue.setDescriptor(first, address: controlPhysical + UInt64(header), length: 16, flags: SplitVirtqueue.DescriptorFlag.next,
                        next: type == RequestType.flush ? first + 2 : first + 1)
    if type != RequestType.flush {
      let deviceWrites = type == RequestType.read ? SplitVirtqueue.DescriptorFlag.write : 0
      queue.setDescriptor(first + 1, address: bouncePhysical + UInt64(slot) * UInt64(Self.slotBytes),
                          length: sectors * UInt32(Self.sectorSize), flags: SplitVirtqueue.DescriptorFlag.next | deviceWrites,
                          next: first + 2)
    }
    queue.setDescriptor(first + 2, address: controlPhysical + 2048 + UInt64(slot), length: 1,
                        flags: SplitVirtqueue.DescriptorFlag.write, next: 0)
    queue.submit(first)
  }

  /// The next finished request: its slot and whether the device said OK.
  func nextCompleted() -> (slot: Int, ok: Bool)? {
    while let used = queue.nextUsed() {
      let slot = Int(used.head) / 3
      guard Int(used.head) % 3 == 0, slot < slotCount else { continue }  // a device bug: not ours
      return (slot, control.read8(2048 + UInt(slot)) == 0)
    }
    return nil
  }
}
