// kmain: the first Swift code. arch/x86_64/entry/boot32.S calls it on the boot stack,
// running on the boot page tables, with the Multiboot2 magic and the physical address
// of the boot information. It brings the kernel up in order and halts.
import X86Shim

@_cdecl("kmain")
func kmain(_ magic: UInt32, _ bootInfoPhysical: UInt64) -> Never {
  _ = KernelLog.start()
  KernelHeap.start()
  kprint("KERNEL: Apus starting")

  let bootInfo = loadBootInfo(magic: magic, physical: bootInfoPhysical)
  bootInfo.logSummary()
  let options = KernelCommandLine.assemble(multiboot: bootInfo.commandLine)
  kprint("KERNEL: boot ok")

  // Exceptions are reported from here on.
  Traps.install()
  // Memory: pages, the kernel's own page tables, then a heap on pages and stacks with
  // guard gaps for the exceptions that must not run on a broken stack.
  PageAllocator.start(bootInfo)
  KernelAddressSpace.start(bootInfo)
  KernelHeap.startPaged()
  DescriptorTables.installInterruptStacks()
  KernelSymbols.load(bootInfo)

  // Threads: kmain becomes thread 0; the timer starts preempting once interrupts are on.
  Scheduler.start()
  Timer.start(bootInfo)
  // Devices: what is on the PCI buses (drivers come in user space, M5).
  PCI.start(bootInfo)
  DeviceObject.makeAll()
  MessageInterrupts.start()
  ConsoleInput.start(ACPI.findMADT(bootInfo.rsdp))
  // User space: the system call entry, the programs in the initrd.
  SyscallEntry.start(trace: options.traceSyscalls)
  IpcTrace.enabled = options.traceIpc
  Initrd.load(bootInfo)
  x86_sti()

  SwiftSelfCheck.run()
  if let hook = options.test { TestHooks.run(hook) }
  if options.bench {
    LocalAPIC.setTimerMasked(true)  // benchmark ticks are the operations' own
    Benchmarks.run()
  }
  UserLand.runInit(options.run, options: options.initOptions, bench: options.bench)
  haltCleanly()
}

/// Reads the loader's boot information or panics with the parser's reason. Shared
/// with the bootinfo-panic test hook, so the test exercises this exact path.
func loadBootInfo(magic: UInt32, physical: UInt64) -> BootInfo {
  do {
    return try Multiboot2.read(magic: magic, physical: physical)
  } catch {
    kernelPanic(.malformedBootInfo, error.reason)
  }
}

/// The clean halt: the heap's invariants must still hold, then QEMU exits 33.
func haltCleanly() -> Never {
  guard KernelHeap.early.verify() else {
    kernelPanic(.heapCorruption, "heap invariants broken at halt")
  }
  kprint("KERNEL: halt ok")
  Machine.exit(.cleanHalt)
}
