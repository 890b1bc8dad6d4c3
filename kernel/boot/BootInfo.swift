// What the kernel learned from its boot loader, copied out of the loader's memory
// into plain values. kernel/boot/ is the only place that knows the boot protocol, so
// another front end (Limine) would produce this same type.

struct MemoryRegion {
  enum Kind: UInt32 {
    case available = 1, reserved = 2, acpiReclaimable = 3, acpiNonVolatile = 4, defective = 5
  }
  let base: UInt64
  let length: UInt64
  let kind: Kind
}

struct BootModule {
  let start: UInt64  // physical, inclusive
  let end: UInt64    // physical, exclusive
  let name: [UInt8]
}

struct BootInfo {
  var commandLine: [UInt8] = []
  var bootloaderName: [UInt8] = []
  var memoryMap: [MemoryRegion] = []
  var modules: [BootModule] = []
  /// A copy of ACPI's RSDP, as the loader found it (empty without ACPI).
  var rsdp: [UInt8] = []
  /// Physical range of the boot information itself, so M1 can keep it reserved.
  var infoStart: UInt64 = 0
  var infoEnd: UInt64 = 0

  /// The module the loader was told to call `name` (grub.cfg), if it loaded one.
  func module(named name: StaticString) -> BootModule? {
    name.withUTF8Buffer { wanted in modules.first { $0.name.elementsEqual(wanted) } }
  }

  /// The end of the highest module, so allocators can stay clear of all of them.
  var modulesEnd: UInt64 {
    var end: UInt64 = 0
    for module in modules { end = max(end, module.end) }
    return end
  }

  var usableBytes: UInt64 {
    var total: UInt64 = 0
    for region in memoryMap where region.kind == .available { total &+= region.length }
    return total
  }

  func logSummary() {
    kprint("BOOT: loader=\"\(escaping: bootloaderName)\" usable=\(usableBytes >> 20) MiB regions=\(memoryMap.count) modules=\(modules.count)")
    for module in modules {
      kprint("BOOT: module 0x\(hex: module.start)-0x\(hex: module.end) \"\(escaping: module.name)\"")
    }
  }
}
