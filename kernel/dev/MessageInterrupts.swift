// Device interrupts for user-space drivers, by MSI-X (or MSI): the kernel writes the
// device's MSI-X table entry 0 (or its MSI capability) with a CPU vector of its own,
// so the device's interrupt is an edge message straight to the local APIC; no I/O
// APIC routing and no shared lines. MSI-X is preferred because the table entry has a
// mask bit the kernel keeps, and QEMU's virtio devices all have it.
//
// An interrupt becomes a bit (the driver's key) posted on the endpoint the driver
// bound (Endpoint.signal), and the binding is disarmed until device_irq_ack: an
// interrupt arriving meanwhile is remembered and posted at the ack, so the driver
// sees each burst once, never loses one, and never takes an interrupt storm. EOI is
// sent at once: edge messages need no line held.
//
// Lock rule: `bindings` changes with interrupts masked (one CPU); the interrupt
// handler reads it with interrupts masked by the CPU. Endpoints are retained in
// `endpoints` so the handler touches no reference count.
import X86Shim

enum MessageInterrupts {
  static let firstVector: UInt64 = 0x40
  static let vectorCount = 16

  private struct Binding {
    var endpoint: Unmanaged<Endpoint>? = nil
    var bit: UInt64 = 0
    var armed = false
    var pending = false
  }

  nonisolated(unsafe) private static var bindings = InlineArray<16, Binding>(repeating: Binding())
  nonisolated(unsafe) private static var endpoints = InlineArray<16, Endpoint?>(repeating: nil)
  nonisolated(unsafe) private static var taken = InlineArray<16, Bool>(repeating: false)

  private static let messageAddress: UInt32 = 0xfee0_0000

  static func start() {
    for index in 0..<vectorCount {
      TrapTable.register(firstVector + UInt64(index)) { frame in MessageInterrupts.interrupt(frame.pointee.vector) }
    }
  }

  /// device_irq_bind: posts `key` on `endpoint` whenever `device` interrupts.
  static func bind(_ device: DeviceObject, to endpoint: Endpoint, key: UInt32) throws(AbiError) {
    guard device.function.hasMSIX || device.function.hasMSI else { throw .notFound }
    var vector = device.vector
    if vector == 0 {
      guard let free = (0..<vectorCount).first(where: { !taken[$0] }) else { throw .noMemory }
      taken[free] = true
      vector = firstVector + UInt64(free)
    }
    let index = Int(vector - firstVector)
    let old = endpoints[index]
    endpoints[index] = endpoint
    Interrupts.withDisabled {
      bindings[index] = Binding(endpoint: Unmanaged.passUnretained(endpoint), bit: 1 << UInt64(key), armed: true, pending: false)
    }
    withExtendedLifetime(old) {}
    if device.vector == 0 {
      program(device, vector: vector)
      device.bound(to: vector)
    }
  }

  /// device_irq_ack: delivers an interrupt that came while disarmed, else re-arms.
  static func acknowledge(_ device: DeviceObject) throws(AbiError) {
    guard device.vector != 0 else { throw .notFound }
    let index = Int(device.vector - firstVector)
    Interrupts.withDisabled {
      if bindings[index].pending {
        bindings[index].pending = false
        post(index)
      } else {
        bindings[index].armed = true
      }
    }
  }

  /// Stops the device's interrupt and frees its vector (its last handle closed).
  static func unbind(_ device: DeviceObject) {
    let index = Int(device.vector - firstVector)
    mask(device)
    Interrupts.withDisabled { bindings[index] = Binding() }
    let old = endpoints[index]
    endpoints[index] = nil
    taken[index] = false
    withExtendedLifetime(old) {}
  }

  // MARK: - the interrupt

  private static func interrupt(_ vector: UInt64) {
    LocalAPIC.endOfInterrupt()
    let index = Int(vector - firstVector)
    guard bindings[index].endpoint != nil else { return }  // unbound meanwhile
    if bindings[index].armed {
      post(index)
    } else {
      bindings[index].pending = true
    }
    Scheduler.preemptIdle()
  }

  /// Interrupts masked: posts the binding's bit and disarms it.
  private static func post(_ index: Int) {
    bindings[index].armed = false
    bindings[index].endpoint?._withUnsafeGuaranteedRef { $0.signal(bindings[index].bit) }
  }

  // MARK: - programming the device

  private enum MSIX {
    static let enable: UInt32 = 1 << 31  // of the capability's first dword (control in bits 16-31)
    static let functionMask: UInt32 = 1 << 30
    static let entryMasked: UInt32 = 1
  }

  /// Kernel address of `function`'s MSI-X table entry 0, mapped uncached (at
  /// enumeration: binding allocates nothing).
  static func mapMSIXEntry(_ function: PCIFunction) -> UInt64 {
    let table = PCI.configRead32(function, function.msixCapability + 4)
    return DeviceMemory.map(physical: function.bars[Int(table & 7)].base + UInt64(table & ~7), size: 16)
  }

  private static func program(_ device: DeviceObject, vector: UInt64) {
    let function = device.function
    let address = messageAddress | (LocalAPIC.id << 12)
    if function.hasMSIX {
      let entry = device.msixEntry
      x86_mmio_write32(entry + 0, address)
      x86_mmio_write32(entry + 4, 0)
      x86_mmio_write32(entry + 8, UInt32(vector))
      x86_mmio_write32(entry + 12, 0)  // unmasked
      let control = PCI.configRead32(function, function.msixCapability)
      PCI.configWrite32(function, function.msixCapability, (control | MSIX.enable) & ~MSIX.functionMask)
    } else {
      let cap = function.msiCapability
      let control = PCI.configRead32(function, cap)
      let is64 = control & (1 << 23) != 0
      PCI.configWrite32(function, cap + 4, address)
      if is64 { PCI.configWrite32(function, cap + 8, 0) }
      let dataOffset: UInt16 = is64 ? 12 : 8
      let data = PCI.configRead32(function, cap + dataOffset)
      PCI.configWrite32(function, cap + dataOffset, (data & 0xffff_0000) | UInt32(vector))
      // Enable, one message (multiple message enable = 0).
      PCI.configWrite32(function, cap, (control & ~(0x7 << 20)) | (1 << 16))
    }
  }

  private static func mask(_ device: DeviceObject) {
    let function = device.function
    if function.hasMSIX {
      x86_mmio_write32(device.msixEntry + 12, MSIX.entryMasked)
      let control = PCI.configRead32(function, function.msixCapability)
      PCI.configWrite32(function, function.msixCapability, control & ~MSIX.enable)
    } else {
      let control = PCI.configRead32(function, function.msiCapability)
      PCI.configWrite32(function, function.msiCapability, control & ~(1 << 16))
    }
  }
}
