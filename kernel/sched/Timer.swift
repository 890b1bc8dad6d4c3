// The tick: the local APIC timer, periodic at `hz`, calibrated once against the PIT.
// 100 Hz: a 10 ms time slice is short enough for interactive feel and long enough
// that switching (hundreds of cycles) is noise; all the kernel's timeouts are whole
// ticks. The legacy PIC is remapped and masked, the I/O APIC's inputs masked until a
// driver routes one.
import X86Shim

enum Timer {
  static let hz: UInt64 = 100
  static let vector: UInt64 = 0x30

  static func start(_ boot: BootInfo) {
    LegacyPIC.remapAndMask()
    // Spurious interrupts need no EOI and no action.
    TrapTable.register(LegacyPIC.spuriousMaster) { _ in }
    TrapTable.register(LegacyPIC.spuriousSlave) { _ in }
    TrapTable.register(LocalAPIC.spuriousVector) { _ in }
    LocalAPIC.start()
    let madt = ACPI.findMADT(boot.rsdp)
    IOAPIC.start(madt)

    LocalAPIC.startFreeRunningTimer()
    let tscBefore = x86_rdtsc()
    PIT.wait(milliseconds: 10)
    let perTick = 0xffff_ffff - LocalAPIC.timerCount  // counts in 10 ms = one tick
    let tscAfter = x86_rdtsc()
    Clock.calibrate(tscPer10Milliseconds: tscAfter - tscBefore, at: tscAfter)
    guard perTick > 0 else { kernelPanic(.selfCheckFailed, "the local APIC timer does not count") }
    TrapTable.register(vector) { _ in Timer.interrupt() }
    LocalAPIC.startPeriodicTimer(vector: vector, count: perTick)
    let source: StaticString = madt.fromFirmware ? "ACPI MADT" : "PC default, no MADT"
    kprint("TIMER: local APIC timer at \(hz) Hz (\(perTick) counts per tick, calibrated against the PIT); IOAPIC at 0x\(hex: madt.ioapicAddress) with \(IOAPIC.inputCount) inputs (\(source))")
  }

  static var ticks: UInt64 { CPU.this.ticks }

  static func interrupt() {
    LocalAPIC.endOfInterrupt()
    if CPU.this.ticks + 1 == hz { kprint("TICK: \(hz)") }
    EndpointTimers.expire()
    Scheduler.tick()
  }
}
