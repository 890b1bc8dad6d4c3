// PCI enumeration through ECAM (PCI Express memory-mapped configuration, found in
// ACPI's MCFG; q35 has it): segment 0's first bus is walked, and every bus behind a
// PCI-to-PCI bridge (its secondary bus) in turn; each function found
// is recorded with its ids, class, BARs (sized by the usual write-ones-and-read-back,
// with decoding off meanwhile) and interrupt capabilities (MSI, MSI-X), and gets one
// boot line. This is M5's first step: device objects and grants build on `functions`.
// Configuration space is read through one probe page of the MMIO window, remapped to
// each function's 4 KiB. Drivers reach configuration space only through the kernel
// (DeviceObject): they read it; the kernel alone writes the command register and the
// interrupt capabilities.
import X86Shim

struct PCIBar {
  var base: UInt64 = 0
  var size: UInt64 = 0
  var isIO = false
  var is64 = false
}

struct PCIFunction {
  var bus: UInt8 = 0
  var device: UInt8 = 0
  var function: UInt8 = 0
  var vendor: UInt16 = 0
  var deviceID: UInt16 = 0
  var classCode: UInt8 = 0
  var subclass: UInt8 = 0
  var programmingInterface: UInt8 = 0
  var interruptPin: UInt8 = 0
  /// Configuration-space offsets of the MSI and MSI-X capabilities; 0: absent.
  var msiCapability: UInt16 = 0
  var msixCapability: UInt16 = 0
  var bars = InlineArray<6, PCIBar>(repeating: PCIBar())

  var hasMSI: Bool { msiCapability != 0 }
  var hasMSIX: Bool { msixCapability != 0 }
}

enum PCI {
  nonisolated(unsafe) private(set) static var functions: [PCIFunction] = []
  nonisolated(unsafe) private static var probe: UInt64 = 0
  nonisolated(unsafe) private static var probed: UInt64 = 0  // physical page the probe shows
  nonisolated(unsafe) private static var ecamBase: UInt64 = 0

  private enum Capability {
    static let msi: UInt8 = 0x05
    static let msix: UInt8 = 0x11
  }

  static func start(_ boot: BootInfo) {
    guard let range = ACPI.findMCFG(boot.rsdp).first(where: { $0.segment == 0 }) else {
      kprint("PCI: no MCFG table; no PCI Express configuration space")
      return
    }
    ecamBase = range.base
    probe = DeviceMemory.reserveProbePage()
    lastBus = range.lastBus
    scan(bus: range.firstBus, depth: 0)
    kprint("PCI: \(functions.count) functions on buses \(range.firstBus)-\(range.lastBus) (ECAM at 0x\(hex: range.base))")
  }

  nonisolated(unsafe) private static var lastBus: UInt8 = 0

  /// Every function on `bus`, then the buses behind its bridges (a bridge's secondary
  /// bus must lie past this one and inside the MCFG range: a malformed topology
  /// cannot loop).
  private static func scan(bus: UInt8, depth: Int) {
    for device in UInt8(0)..<32 where read16(bus, device, 0, 0x00) != 0xffff {
      let multifunction = read8(bus, device, 0, 0x0e) & 0x80 != 0
      for function in 0..<UInt8(multifunction ? 8 : 1) where read16(bus, device, function, 0x00) != 0xffff {
        record(bus, device, function)
        if read8(bus, device, function, 0x0e) & 0x7f == 1 {  // PCI-to-PCI bridge
          let secondary = read8(bus, device, function, 0x19)
          if secondary > bus, secondary <= lastBus, depth < 16 { scan(bus: secondary, depth: depth + 1) }
        }
      }
    }
  }

  private static func record(_ bus: UInt8, _ device: UInt8, _ function: UInt8) {
    var found = PCIFunction(bus: bus, device: device, function: function)
    found.vendor = read16(bus, device, function, 0x00)
    found.deviceID = read16(bus, device, function, 0x02)
    found.programmingInterface = read8(bus, device, function, 0x09)
    found.subclass = read8(bus, device, function, 0x0a)
    found.classCode = read8(bus, device, function, 0x0b)
    found.interruptPin = read8(bus, device, function, 0x3d)
    if read8(bus, device, function, 0x0e) & 0x7f == 0 { sizeBars(&found) }  // type 0 header only
    if read16(bus, device, function, 0x06) & 0x10 != 0 {  // status: capability list
      var pointer = read8(bus, device, function, 0x34) & 0xfc
      var steps = 0
      while pointer >= 0x40 && steps < 48 {
        switch read8(bus, device, function, UInt16(pointer)) {
        case Capability.msi: found.msiCapability = UInt16(pointer)
        case Capability.msix: found.msixCapability = UInt16(pointer)
        default: break
        }
        pointer = read8(bus, device, function, UInt16(pointer) + 1) & 0xfc
        steps += 1
      }
    }
    functions.append(found)
    var line: LogLine = "PCI: \(hex: bus, digits: 2):\(hex: device, digits: 2).\(function) \(hex: found.vendor, digits: 4):\(hex: found.deviceID, digits: 4) class=\(hex: found.classCode, digits: 2).\(hex: found.subclass, digits: 2).\(hex: found.programmingInterface, digits: 2)"
    if found.interruptPin != 0 { line.appendLiteral(" pin=INT"); line.appendInterpolation(found.interruptPin) }
    if found.hasMSI { line.appendLiteral(" msi") }
    if found.hasMSIX { line.appendLiteral(" msix") }
    for index in 0..<6 where found.bars[index].size != 0 {
      let bar = found.bars[index]
      line.appendLiteral(bar.isIO ? " io" : " mem")
      line.appendInterpolation(index)
      line.appendLiteral("=0x")
      line.appendInterpolation(hex: bar.base)
      line.appendLiteral("/")
      line.appendInterpolation(bar.size)
    }
    kprint(line)
  }

  /// Sizes the six BARs of a type 0 header, with memory and I/O decoding off while
  /// their registers hold all ones.
  private static func sizeBars(_ found: inout PCIFunction) {
    let (bus, device, function) = (found.bus, found.device, found.function)
    let command = read16(bus, device, function, 0x04)
    write16(bus, device, function, 0x04, command & ~0x3)
    var index = 0
    while index < 6 {
      let offset = UInt16(0x10 + index * 4)
      let original = read32(bus, device, function, offset)
      write32(bus, device, function, offset, 0xffff_ffff)
      let sized = read32(bus, device, function, offset)
      write32(bus, device, function, offset, original)
      if original & 1 == 1 {  // I/O
        let mask = sized & 0xffff_fffc
        if mask != 0 { found.bars[index] = PCIBar(base: UInt64(original & 0xffff_fffc), size: UInt64((~mask &+ 1) & 0xffff), isIO: true) }
        index += 1
        continue
      }
      let is64 = (original >> 1) & 3 == 2 && index < 5
      var base = UInt64(original & 0xffff_fff0)
      var mask = UInt64(sized & 0xffff_fff0)
      if is64 {
        let high = UInt16(0x10 + (index + 1) * 4)
        let originalHigh = read32(bus, device, function, high)
        write32(bus, device, function, high, 0xffff_ffff)
        let sizedHigh = read32(bus, device, function, high)
        write32(bus, device, function, high, originalHigh)
        base |= UInt64(originalHigh) << 32
        mask |= UInt64(sizedHigh) << 32
      } else if mask != 0 {
        mask |= 0xffff_ffff_0000_0000
      }
      if mask != 0 { found.bars[index] = PCIBar(base: base, size: ~mask &+ 1, isIO: false, is64: is64) }
      index += is64 ? 2 : 1
    }
    write16(bus, device, function, 0x04, command)
  }

  // MARK: - configuration space

  /// The configuration dword of `function` at `offset` (dword-aligned).
  static func configRead32(_ function: PCIFunction, _ offset: UInt16) -> UInt32 {
    Interrupts.withDisabled { read32(function.bus, function.device, function.function, offset) }
  }

  static func configWrite32(_ function: PCIFunction, _ offset: UInt16, _ value: UInt32) {
    Interrupts.withDisabled { write32(function.bus, function.device, function.function, offset, value) }
  }

  static func configWrite16(_ function: PCIFunction, _ offset: UInt16, _ value: UInt16) {
    Interrupts.withDisabled { write16(function.bus, function.device, function.function, offset, value) }
  }

  static func configRead16(_ function: PCIFunction, _ offset: UInt16) -> UInt16 {
    Interrupts.withDisabled { read16(function.bus, function.device, function.function, offset) }
  }

  /// The probe page's address for a function's configuration register `offset`.
  private static func at(_ bus: UInt8, _ device: UInt8, _ function: UInt8, _ offset: UInt16) -> UInt64 {
    let page = ecamBase + (UInt64(bus) << 20) + (UInt64(device) << 15) + (UInt64(function) << 12)
    if page != probed {
      DeviceMemory.remap(probe, to: page)
      probed = page
    }
    return probe + UInt64(offset & 0xffc)
  }

  private static func read32(_ bus: UInt8, _ device: UInt8, _ function: UInt8, _ offset: UInt16) -> UInt32 {
    x86_mmio_read32(at(bus, device, function, offset))
  }

  private static func read16(_ bus: UInt8, _ device: UInt8, _ function: UInt8, _ offset: UInt16) -> UInt16 {
    UInt16(truncatingIfNeeded: read32(bus, device, function, offset) >> (UInt32(offset & 2) * 8))
  }

  private static func read8(_ bus: UInt8, _ device: UInt8, _ function: UInt8, _ offset: UInt16) -> UInt8 {
    UInt8(truncatingIfNeeded: read32(bus, device, function, offset) >> (UInt32(offset & 3) * 8))
  }

  private static func write32(_ bus: UInt8, _ device: UInt8, _ function: UInt8, _ offset: UInt16, _ value: UInt32) {
    x86_mmio_write32(at(bus, device, function, offset), value)
  }

  private static func write16(_ bus: UInt8, _ device: UInt8, _ function: UInt8, _ offset: UInt16, _ value: UInt16) {
    let shift = UInt32(offset & 2) * 8
    let old = read32(bus, device, function, offset)
    write32(bus, device, function, offset, (old & ~(0xffff << shift)) | (UInt32(value) << shift))
  }
}
