// A split virtqueue (virtio spec 1.1, §2.6) in two pages of DMA memory: the
// descriptor table, the driver's available ring and the device's used ring. The
// driver owns descriptor chains it builds, offers a chain's head in the available
// ring and notifies; the device returns heads in the used ring and interrupts.
// Layout for `size` ≤ 128 entries:
//   0                descriptors, 16 bytes each (2 KiB at most)
//   2048             available ring: flags, idx, ring[size], used_event
//   4096             used ring: flags, idx, ring[size] of (id, len), avail_event

public final class SplitVirtqueue {
  public let size: UInt16
  let memory: DeviceRegisters
  let physical: UInt64
  private let handle: ShmHandle
  var notifyAddress = DeviceRegisters(base: 0, size: 0)
  var queueIndex: UInt16 = 0
  /// The next available-ring slot the driver fills, and the used-ring entries seen.
  private var availableIndex: UInt16 = 0
  private var usedSeen: UInt16 = 0

  public static let maximumSize: UInt16 = 128
  private static let availableOffset: UInt = 2048
  private static let usedOffset: UInt = 4096
  private static let bytes: UInt64 = 8192

  public enum DescriptorFlag {
    public static let next: UInt16 = 1
    /// The device writes this buffer (a read's data, a status byte).
    public static let write: UInt16 = 2
  }

  /// A queue of `size` entries (a power of two, at most maximumSize) in fresh DMA
  /// memory of `device`.
  public init(size: UInt16, device: borrowing DeviceHandle) throws(VirtioError) {
    precondition(size > 0 && size <= Self.maximumSize && size & (size - 1) == 0, "virtqueue size")
    var placed = DmaPlacement()
    let mapped: UInt
    do {
      let handle = try Sys.deviceDmaAlloc(device: device, size: Self.bytes, placed: &placed)
      mapped = try Sys.shmMap(shm: handle, addr: 0, prot: [.read, .write])
      self.handle = handle
    } catch {
      throw .grantRefused(error)
    }
    self.size = size
    memory = DeviceRegisters(base: mapped, size: UInt(Self.bytes))
    physical = placed.physical
  }

  var descriptorsPhysical: UInt64 { physical }
  var availablePhysical: UInt64 { physical + UInt64(Self.availableOffset) }
  var usedPhysical: UInt64 { physical + UInt64(Self.usedOffset) }

  /// Fills descriptor `index`.
  public func setDescriptor(_ index: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16) {
    let at = UInt(index) * 16
    memory.write64(at, address)
    memory.write32(at + 8, length)
    memory.write16(at + 12, flags)
    memory.write16(at + 14, next)
  }

  /// Offers the chain starting at `head` to the device and, unless `notify` is false
  /// (a batch: call notify() after the last), tells it.
  public func submit(_ head: UInt16, notify: Bool = true) {
    let ring = Self.availableOffset
    memory.write16(ring + 4 + UInt(availableIndex % size) * 2, head)
    availableIndex &+= 1
    memory.write16(ring + 2, availableIndex)  // after the entry: x86 keeps stores in order
    if notify { self.notify() }
  }

  /// Tells the device that the available ring has new entries.
  public func notify() {
    notifyAddress.write16(0, queueIndex)
  }

  /// Asks the device not to interrupt when it uses this queue's buffers (the driver
  /// polls the used ring when it needs to, as a NIC's transmit queue does).
  public func suppressInterrupts() {
    memory.write16(Self.availableOffset, 1)  // VIRTQ_AVAIL_F_NO_INTERRUPT
  }

  /// The next chain the device finished: its head and the bytes it wrote; nil when
  /// none is new.
  public func nextUsed() -> (head: UInt16, written: UInt32)? {
    let deviceIndex = memory.read16(Self.usedOffset + 2)
    guard deviceIndex != usedSeen else { return nil }
    let entry = Self.usedOffset + 4 + UInt(usedSeen % size) * 8
    usedSeen &+= 1
    return (UInt16(truncatingIfNeeded: memory.read32(entry)), memory.read32(entry + 4))
  }
}
