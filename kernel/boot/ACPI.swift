// Just enough ACPI to find the hardware: from the RSDP copy the loader passed, to the
// RSDT or XSDT, to the MADT (the I/O APIC and how ISA IRQs map to its inputs) and the
// MCFG (where PCI Express configuration space is). Every table is length- and checksum-checked before it is read;
// without a usable MADT the kernel falls back to the PC defaults.

struct MADTInfo {
  var ioapicAddress: UInt64 = 0xfec0_0000
  var ioapicGSIBase: UInt32 = 0
  /// ISA IRQ → GSI, where an override says so (QEMU routes IRQ 0 to GSI 2).
  var isaOverrides = InlineArray<16, UInt32>(repeating: UInt32.max)
  var fromFirmware = false

  func gsi(forISA irq: Int) -> UInt32 {
    isaOverrides[irq] == UInt32.max ? UInt32(irq) : isaOverrides[irq]
  }
}

enum ACPI {
  private static let maximumTableLength = 1 << 20

  static func findMADT(_ rsdp: [UInt8]) -> MADTInfo {
    var info = MADTInfo()
    guard let madt = findTable(rsdp, signature: "APIC") else { return info }
    var offset = 44  // header (36), local APIC address (4), flags (4)
    while offset + 2 <= madt.count {
      let type = madt[offset]
      let length = Int(madt[offset + 1])
      guard length >= 2, offset + length <= madt.count else { break }
      if type == 1, length >= 12, !info.fromFirmware {  // I/O APIC
        info.ioapicAddress = UInt64(madt.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        info.ioapicGSIBase = madt.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
        info.fromFirmware = true
      } else if type == 2, length >= 10 {  // interrupt source override
        let source = Int(madt[offset + 3])
        if source < 16 { info.isaOverrides[source] = madt.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
      }
      offset += length
    }
    return info
  }

  /// PCI Express memory-mapped configuration (the MCFG table): for each segment's bus
  /// range, where its configuration space starts. Empty without an MCFG.
  static func findMCFG(_ rsdp: [UInt8]) -> [(base: UInt64, segment: UInt16, firstBus: UInt8, lastBus: UInt8)] {
    guard let mcfg = findTable(rsdp, signature: "MCFG") else { return [] }
    var ranges: [(base: UInt64, segment: UInt16, firstBus: UInt8, lastBus: UInt8)] = []
    var offset = 44  // header (36), reserved (8); then 16-byte entries
    while offset + 16 <= mcfg.count {
      let base = mcfg.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      let segment = mcfg.loadUnaligned(fromByteOffset: offset + 8, as: UInt16.self)
      if mcfg[offset + 10] <= mcfg[offset + 11] { ranges.append((base, segment, mcfg[offset + 10], mcfg[offset + 11])) }
      offset += 16
    }
    return ranges
  }

  /// The first table with `signature` the RSDT or XSDT lists, checked.
  private static func findTable(_ rsdp: [UInt8], signature: StaticString) -> UnsafeRawBufferPointer? {
    guard rsdp.count >= 20, rsdp.prefix(8).elementsEqual("RSD PTR ".utf8), checksum(rsdp[0..<20]) else { return nil }
    let revision = rsdp[15]
    var entries: [UInt64] = []
    if revision >= 2, rsdp.count >= 36, checksum(rsdp[0..<36]) {
      let xsdt = load(rsdp, 24, as: UInt64.self)
      if let table = table(at: xsdt, signature: "XSDT") {
        for offset in stride(from: 36, to: table.count - 7, by: 8) { entries.append(table.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
      }
    }
    if entries.isEmpty {
      let rsdt = UInt64(load(rsdp, 16, as: UInt32.self))
      if let table = table(at: rsdt, signature: "RSDT") {
        for offset in stride(from: 36, to: table.count - 3, by: 4) { entries.append(UInt64(table.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
      }
    }
    for address in entries {
      if let found = table(at: address, signature: signature) { return found }
    }
    return nil
  }

  /// The table at `physical`, if its signature, length and checksum are right.
  private static func table(at physical: UInt64, signature: StaticString) -> UnsafeRawBufferPointer? {
    guard physical != 0, physical + 36 <= KernelAddressSpace.directMapSize else { return nil }
    let header = UnsafeRawBufferPointer(start: DirectMap.pointer(physical: physical), count: 36)
    let matches = signature.withUTF8Buffer { header.prefix(4).elementsEqual($0) }
    let length = Int(header.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    guard matches, length >= 36, length <= maximumTableLength, physical + UInt64(length) <= KernelAddressSpace.directMapSize else { return nil }
    let table = UnsafeRawBufferPointer(start: DirectMap.pointer(physical: physical), count: length)
    return checksum(table) ? table : nil
  }

  private static func checksum<C: Collection<UInt8>>(_ bytes: C) -> Bool {
    var sum: UInt8 = 0
    for byte in bytes { sum &+= byte }
    return sum == 0
  }

  private static func load<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type) -> T {
    bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
  }
}
