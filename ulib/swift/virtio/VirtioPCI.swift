// The virtio 1.x PCI transport (virtio spec 1.1, §4.1), "modern" only: the device's
// vendor capabilities in configuration space say which BAR holds the common
// configuration, the notification area and the device-specific configuration, and
// the driver maps those BARs (device_map_bar) and talks to them. Legacy-only devices
// (no such capabilities) are refused: they speak the pre-1.0 I/O-port interface,
// which Apus never grants. Shared by every virtio driver (blkdevd, netd).

public enum VirtioStatus {
  public static let acknowledge: UInt8 = 1
  public static let driver: UInt8 = 2
  public static let driverOK: UInt8 = 4
  public static let featuresOK: UInt8 = 8
  public static let failed: UInt8 = 128
}

public enum VirtioFeature {
  /// The device is virtio 1.0 or later (bit 32): required.
  public static let version1: UInt64 = 1 << 32
}

/// Why a device could not be driven.
public enum VirtioError: Error {
  case legacyOnly
  case missingCapability
  case grantRefused(AbiError)
  case featuresRejected
  case queueUnavailable
  case noInterruptVector
}

extension VirtioError {
  /// For a driver's log line: "BLK: 00:04.0 <explanation>: refused".
  public var explanation: String {
    switch self {
    case .legacyOnly: "offers only the legacy virtio interface"
    case .missingCapability: "lacks a virtio 1.0 capability"
    case .featuresRejected: "rejected the features"
    case .queueUnavailable: "has no usable queues"
    case .noInterruptVector: "cannot interrupt through MSI-X"
    case .grantRefused(let abi): "a device grant was refused (error \(abi.rawValue))"
    }
  }
}

public final class VirtioPCI {
  public let device: DeviceHandle
  public let info: DeviceInfo
  /// Common configuration (§4.1.4.3).
  let common: DeviceRegisters
  /// The notification area and its multiplier (§4.1.4.4).
  let notifyArea: DeviceRegisters
  let notifyMultiplier: UInt32
  /// The device-specific configuration (a block device's capacity, a NIC's MAC).
  public let deviceConfig: DeviceRegisters

  private enum Common {
    static let deviceFeatureSelect: UInt = 0x00
    static let deviceFeature: UInt = 0x04
    static let driverFeatureSelect: UInt = 0x08
    static let driverFeature: UInt = 0x0c
    static let configVector: UInt = 0x10
    static let deviceStatus: UInt = 0x14
    static let queueSelect: UInt = 0x16
    static let queueSize: UInt = 0x18
    static let queueVector: UInt = 0x1a
    static let queueEnable: UInt = 0x1c
    static let queueNotifyOffset: UInt = 0x1e
    static let queueDescriptors: UInt = 0x20
    static let queueDriver: UInt = 0x28
    static let queueDevice: UInt = 0x30
  }
  private static let noVector: UInt16 = 0xffff

  private enum CapabilityType {
    static let common: UInt8 = 1
    static let notify: UInt8 = 2
    static let device: UInt8 = 4
  }

  /// Finds the transport's structures in `device`'s capabilities and maps their BARs.
  public init(device: consuming DeviceHandle, info: DeviceInfo) throws(VirtioError) {
    var config = InlineArray<256, UInt8>(repeating: 0)
    let read: Result<Void, AbiError> = withUnsafeMutableBytes(of: &config) { bytes in
      Result { () throws(AbiError) in
        try Sys.deviceConfigRead(device: device, offset: 0,
                                 buf: UnsafeMutableBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 256))
      }
    }
    if case .failure(let error) = read { throw .grantRefused(error) }
    func byte(_ at: Int) -> UInt8 { config[at & 0xff] }
    func dword(_ at: Int) -> UInt32 {
      UInt32(byte(at)) | UInt32(byte(at + 1)) << 8 | UInt32(byte(at + 2)) << 16 | UInt32(byte(at + 3)) << 24
    }

    // (bar, offset, length) of each structure; the notify multiplier.
    var found = InlineArray<5, (bar: Int, offset: UInt, length: UInt)?>(repeating: nil)
    var multiplier: UInt32 = 0
    if byte(0x06) & 0x10 != 0 {
      var pointer = Int(byte(0x34) & 0xfc)
      var steps = 0
      while pointer >= 0x40 && steps < 48 {
        if byte(pointer) == 0x09 {  // vendor-specific: a virtio structure
          let type = byte(pointer + 3)
          if type >= 1 && type <= 4 && found[Int(type)] == nil {
            found[Int(type)] = (Int(byte(pointer + 4)), UInt(dword(pointer + 8)), UInt(dword(pointer + 12)))
            if type == CapabilityType.notify { multiplier = dword(pointer + 16) }
          }
        }
        pointer = Int(byte(pointer + 1) & 0xfc)
        steps += 1
      }
    }
    guard found[Int(CapabilityType.common)] != nil || found[Int(CapabilityType.notify)] != nil else { throw .legacyOnly }
    guard let commonAt = found[Int(CapabilityType.common)], let notifyAt = found[Int(CapabilityType.notify)],
      let deviceAt = found[Int(CapabilityType.device)]
    else { throw .missingCapability }

    // Each BAR is mapped once, whole (device_map_bar grants exactly one BAR).
    var mapped = InlineArray<6, UInt>(repeating: 0)
    func window(_ at: (bar: Int, offset: UInt, length: UInt)) throws(VirtioError) -> DeviceRegisters {
      guard at.bar < 6 else { throw .missingCapability }
      let barSize = UInt(info.barSize[at.bar])
      guard at.offset <= barSize, at.length <= barSize - at.offset else { throw .missingCapability }
      if mapped[at.bar] == 0 {
        do {
          mapped[at.bar] = try Sys.deviceMapBar(device: device, bar: UInt32(at.bar), addr: 0)
        } catch {
          throw .grantRefused(error)
        }
      }
      return DeviceRegisters(base: mapped[at.bar] + at.offset, size: at.length)
    }
    common = try window(commonAt)
    notifyArea = try window(notifyAt)
    deviceConfig = try window(deviceAt)
    notifyMultiplier = multiplier
    self.info = info
    self.device = device
  }

  // MARK: - initialisation (§3.1.1)

  /// Resets the device, then acknowledges it and says a driver is here.
  public func reset() {
    common.write8(Common.deviceStatus, 0)
    while common.read8(Common.deviceStatus) != 0 { Sys.yield() }
    common.write8(Common.deviceStatus, VirtioStatus.acknowledge)
    common.write8(Common.deviceStatus, VirtioStatus.acknowledge | VirtioStatus.driver)
  }

  /// The features the device offers.
  public var offeredFeatures: UInt64 {
    common.write32(Common.deviceFeatureSelect, 0)
    let low = common.read32(Common.deviceFeature)
    common.write32(Common.deviceFeatureSelect, 1)
    return UInt64(low) | UInt64(common.read32(Common.deviceFeature)) << 32
  }

  /// Accepts `wanted` ∩ offered (VERSION_1 is required) and checks that the device
  /// agrees (FEATURES_OK stays set). Returns what was negotiated.
  public func negotiate(_ wanted: UInt64) throws(VirtioError) -> UInt64 {
    let offered = offeredFeatures
    guard offered & VirtioFeature.version1 != 0 else { throw .legacyOnly }
    let accepted = offered & (wanted | VirtioFeature.version1)
    common.write32(Common.driverFeatureSelect, 0)
    common.write32(Common.driverFeature, UInt32(truncatingIfNeeded: accepted))
    common.write32(Common.driverFeatureSelect, 1)
    common.write32(Common.driverFeature, UInt32(truncatingIfNeeded: accepted >> 32))
    let status = common.read8(Common.deviceStatus)
    common.write8(Common.deviceStatus, status | VirtioStatus.featuresOK)
    guard common.read8(Common.deviceStatus) & VirtioStatus.featuresOK != 0 else {
      fail()
      throw .featuresRejected
    }
    return accepted
  }

  /// The most entries queue `index` may have; 0 when it does not exist.
  public func maximumQueueSize(_ index: UInt16) -> UInt16 {
    common.write16(Common.queueSelect, index)
    return common.read16(Common.queueSize)
  }

  /// Gives queue `index` its rings and MSI-X vector 0, and enables it.
  public func enableQueue(_ index: UInt16, _ queue: SplitVirtqueue) throws(VirtioError) {
    common.write16(Common.queueSelect, index)
    guard common.read16(Common.queueSize) >= queue.size else { throw .queueUnavailable }
    common.write16(Common.queueSize, queue.size)
    common.write64(Common.queueDescriptors, queue.descriptorsPhysical)
    common.write64(Common.queueDriver, queue.availablePhysical)
    common.write64(Common.queueDevice, queue.usedPhysical)
    common.write16(Common.queueVector, 0)
    guard common.read16(Common.queueVector) == 0 else { throw .noInterruptVector }
    queue.notifyAddress = notifyArea.slice(UInt(common.read16(Common.queueNotifyOffset)) * UInt(notifyMultiplier), size: 2)
    queue.queueIndex = index
    common.write16(Common.queueEnable, 1)
  }

  /// Configuration changes need no interrupt: drivers here do not act on them.
  public func disableConfigInterrupt() {
    common.write16(Common.configVector, Self.noVector)
  }

  public func driverReady() {
    common.write8(Common.deviceStatus, common.read8(Common.deviceStatus) | VirtioStatus.driverOK)
  }

  public func fail() {
    common.write8(Common.deviceStatus, common.read8(Common.deviceStatus) | VirtioStatus.failed)
  }

  public var status: UInt8 { common.read8(Common.deviceStatus) }
}

extension VirtioPCI {
  /// The endpoint a driver serves on: labelled with its protocol (`name`, for the IPC
  /// tracer), with the device's interrupt posted on it as key `key`.
  public func serverEndpoint(serving name: StaticString, interruptKey key: UInt32) throws(AbiError) -> EndpointHandle {
    let endpoint = try Sys.endpointCreate()
    Protocols.label(endpoint, name)
    try Sys.deviceIrqBind(device: device, endpoint: endpoint, key: key)
    return endpoint
  }
}
