// A virtio-net device (virtio spec 1.1, §5.1) on the modern PCI transport: receive
// queue 0 and transmit queue 1, no offloads, no mergeable buffers. Every buffer is
// 2 KiB of DMA memory holding the 12-byte virtio-net header and one Ethernet frame
// (at most 1,514 bytes without the FCS), so a frame is one descriptor either way.
// Descriptor i of a queue is always buffer i: receive buffers go back to the device
// as soon as netd has read them; transmit buffers are free again once the device has
// used them (found by polling: the transmit queue does not interrupt).
//
// DMA memory: the two queues (SplitVirtqueue) and one block of buffers, receive
// buffers first.

final class VirtioNet {
  enum Feature {
    static let mac: UInt64 = 1 << 5
  }
  static let headerBytes = 12
  static let bufferBytes = 2048
  /// The largest frame: 1,500 bytes of IP, 14 of Ethernet header.
  static let maximumFrame = 1514

  let transport: VirtioPCI
  let receiveQueue: SplitVirtqueue
  let transmitQueue: SplitVirtqueue
  let mac: MacAddress
  private let buffers: DeviceRegisters
  private let buffersPhysical: UInt64
  fileprivate var transmitFree: [UInt16]

  init(_ transport: VirtioPCI) throws(VirtioError) {
    self.transport = transport
    transport.reset()
    let features = try transport.negotiate(Feature.mac)
    let receiveOffered = transport.maximumQueueSize(0)
    let transmitOffered = transport.maximumQueueSize(1)
    guard receiveOffered >= 8, transmitOffered >= 8 else {
      transport.fail()
      throw .queueUnavailable
    }
    var receiveSize = SplitVirtqueue.maximumSize
    while receiveSize > receiveOffered { receiveSize /= 2 }
    var transmitSize: UInt16 = 64
    while transmitSize > transmitOffered { transmitSize /= 2 }
    receiveQueue = try SplitVirtqueue(size: receiveSize, device: transport.device)
    transmitQueue = try SplitVirtqueue(size: transmitSize, device: transport.device)
    transmitQueue.suppressInterrupts()

    let count = UInt(receiveSize) + UInt(transmitSize)
    var placed = DmaPlacement()
    do {
      let handle = try Sys.deviceDmaAlloc(device: transport.device, size: UInt64(count) * UInt64(Self.bufferBytes), placed: &placed)
      buffers = DeviceRegisters(base: try Sys.shmMap(shm: handle, addr: 0, prot: [.read, .write]), size: count * UInt(Self.bufferBytes))
    } catch {
      transport.fail()
      throw .grantRefused(error)
    }
    buffersPhysical = placed.physical
    transmitFree = (0..<transmitSize).reversed().map { $0 }
    try transport.enableQueue(0, receiveQueue)
    try transport.enableQueue(1, transmitQueue)
    transport.disableConfigInterrupt()

    var address = MacAddress()
    if features & Feature.mac != 0 {
      for index in 0..<6 { address.bytes[index] = transport.deviceConfig.read8(UInt(index)) }
    } else {  // no MAC from the device: a locally administered one
      address.bytes[0] = 0x02
      address.bytes[5] = 0x01
    }
    mac = address
    transport.driverReady()
    for index in 0..<receiveSize { offerReceive(index, notify: false) }
    receiveQueue.notify()
  }

  private func buffer(_ index: Int) -> UnsafeMutableRawPointer { buffers.pointer(UInt(index) * UInt(Self.bufferBytes)) }
  private func physical(_ index: Int) -> UInt64 { buffersPhysical + UInt64(index) * UInt64(Self.bufferBytes) }
  private func transmitIndex(_ slot: UInt16) -> Int { Int(receiveQueue.size) + Int(slot) }

  private func offerReceive(_ index: UInt16, notify: Bool) {
    receiveQueue.setDescriptor(index, address: physical(Int(index)), length: UInt32(Self.bufferBytes),
                               flags: SplitVirtqueue.DescriptorFlag.write, next: 0)
    receiveQueue.submit(index, notify: notify)
  }

  // MARK: - receiving

  /// The next frame the device delivered: its receive buffer (give it back with
  /// `recycle`) and its bytes, without the virtio-net header.
  func nextReceived() -> (buffer: UInt16, frame: PacketBytes)? {
    while let used = receiveQueue.nextUsed() {
      guard used.head < receiveQueue.size else { continue }  // a device bug: not ours
      let length = Int(used.written) - Self.headerBytes
      guard length > 0, length <= Self.bufferBytes - Self.headerBytes else {
        recycle(used.head)  // nothing usable: straight back
        continue
      }
      return (used.head, PacketBytes(buffer(Int(used.head)) + Self.headerBytes, count: length))
    }
    return nil
  }

  /// Gives a receive buffer back; the device hears of it at the next `notifyRecycled`
  /// (one notification for a whole batch of frames).
  func recycle(_ buffer: UInt16) { offerReceive(buffer, notify: false) }

  func notifyRecycled() { receiveQueue.notify() }

  // MARK: - transmitting

  /// A free transmit buffer's frame area (maximumFrame bytes), or nil when every
  /// buffer is still with the device.
  func transmitBuffer() -> (slot: UInt16, frame: PacketBytes)? {
    reclaimTransmitted()
    guard let slot = transmitFree.popLast() else { return nil }
    let base = buffer(transmitIndex(slot))
    base.initializeMemory(as: UInt8.self, repeating: 0, count: Self.headerBytes)  // no offloads asked
    return (slot, PacketBytes(base + Self.headerBytes, count: Self.maximumFrame))
  }

  /// Sends the first `length` bytes of `slot`'s frame area.
  func transmit(_ slot: UInt16, length: Int) {
    precondition(length >= 14 && length <= Self.maximumFrame, "frame length")
    transmitQueue.setDescriptor(slot, address: physical(transmitIndex(slot)), length: UInt32(Self.headerBytes + length),
                                flags: 0, next: 0)
    transmitQueue.submit(slot)
  }

  private func reclaimTransmitted() {
    while let used = transmitQueue.nextUsed() {
      if used.head < transmitQueue.size { transmitFree.append(used.head) }
    }
  }

  func acknowledgeInterrupt() {
    _ = try? Sys.deviceIrqAck(device: transport.device)
  }
}

extension VirtioNet {
  /// Gives back a transmit buffer that was not sent after all.
  func abandon(_ slot: UInt16) { transmitFree.append(slot) }
}
