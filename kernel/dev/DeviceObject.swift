// A PCI function as a kernel object: what a driver's device handle names (device_open,
// kernel/syscall/SysDevice.swift). One per function, made at enumeration and kept for
// the kernel's life; what it grants lives only while some handle table holds a handle
// to it. When the last handle goes (its driver closed it or died), the device is
// quiesced: bus mastering and memory decoding off, its interrupt unbound, and only
// then its DMA memory let go, so a device can never write into pages that were freed
// and reused. A handle moved into a message is not held: sending a device handle
// quiesces it until it is received.
//
// Lock rule: the grant state changes in thread context with interrupts masked (one
// CPU); the interrupt path reads only MessageInterrupts' table.

final class DeviceObject: KernelObject {
  nonisolated(unsafe) private(set) static var all: [DeviceObject] = []

  let function: PCIFunction
  private var handles = 0
  /// DMA memory handed out while the device could master the bus.
  private var dma: [MemoryObject] = []
  /// The CPU vector its interrupt is bound to (MessageInterrupts), 0 when unbound.
  private(set) var vector: UInt64 = 0

  /// Kernel address of its MSI-X table entry 0; 0 without MSI-X.
  let msixEntry: UInt64

  private init(_ function: PCIFunction) {
    self.function = function
    msixEntry = function.hasMSIX ? MessageInterrupts.mapMSIXEntry(function) : 0
    super.init(kind: .device)
  }

  /// One object per enumerated function, in boot-line order.
  static func makeAll() {
    all.reserveCapacity(PCI.functions.count)
    for function in PCI.functions { all.append(DeviceObject(function)) }
  }

  override func handleOpened(_ rights: Rights) {
    Interrupts.withDisabled { handles += 1 }
  }

  override func handleClosed(_ rights: Rights) {
    let last = Interrupts.withDisabled { () -> Bool in
      handles -= 1
      return handles == 0
    }
    if last { quiesce() }
  }

  /// No driver holds it: stop its DMA and interrupts, then free its DMA memory.
  private func quiesce() {
    setCommand(busMaster: false, memory: false)
    if vector != 0 {
      MessageInterrupts.unbind(self)
      vector = 0
    }
    let released = Interrupts.withDisabled { () -> [MemoryObject] in
      defer { dma = [] }
      return dma
    }
    withExtendedLifetime(released) {}  // freed here, after bus mastering went off
  }

  // MARK: - grants

  private enum Command {
    static let offset: UInt16 = 0x04
    static let memory: UInt16 = 1 << 1
    static let busMaster: UInt16 = 1 << 2
    static let interruptDisable: UInt16 = 1 << 10
  }

  /// Turns the given decodings on (true) or off (false); nil leaves one as it is.
  func setCommand(busMaster: Bool? = nil, memory: Bool? = nil) {
    var command = PCI.configRead16(function, Command.offset)
    if let busMaster { command = busMaster ? command | Command.busMaster : command & ~Command.busMaster }
    if let memory { command = memory ? command | Command.memory : command & ~Command.memory }
    PCI.configWrite16(function, Command.offset, command)
  }

  /// Keeps DMA memory alive while the device may reach it, and lets the device master
  /// the bus.
  func grantDMA(_ memory: MemoryObject) {
    Interrupts.withDisabled { dma.append(memory) }
    setCommand(busMaster: true)
  }

  /// Records the vector MessageInterrupts bound; masks legacy INTx, which MSI replaces.
  func bound(to vector: UInt64) {
    self.vector = vector
    let command = PCI.configRead16(function, Command.offset)
    PCI.configWrite16(function, Command.offset, command | Command.interruptDisable)
  }

  /// The BAR indexes that hold the MSI-X table or its pending-bit array: never mapped
  /// for a driver, which could otherwise aim interrupts anywhere.
  var msixBars: (table: Int, pending: Int)? {
    guard function.hasMSIX else { return nil }
    let table = PCI.configRead32(function, function.msixCapability + 4)
    let pending = PCI.configRead32(function, function.msixCapability + 8)
    return (Int(table & 7), Int(pending & 7))
  }

  /// device_info for device_open.
  var info: DeviceInfo {
    var info = DeviceInfo()
    info.vendor = function.vendor
    info.deviceId = function.deviceID
    info.classCode = function.classCode
    info.subclass = function.subclass
    info.progIf = function.programmingInterface
    info.bus = function.bus
    info.slot = function.device
    info.function = function.function
    var interrupts = DeviceInterrupts()
    if function.hasMSI { interrupts.insert(.msi) }
    if function.hasMSIX { interrupts.insert(.msix) }
    info.interrupts = interrupts
    for index in 0..<6 {
      info.barSize[index] = function.bars[index].size
      if function.bars[index].isIO { info.ioBars |= 1 << UInt32(index) }
    }
    return info
  }
}
