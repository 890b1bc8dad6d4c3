// Turning the SYSCALL instruction on (STAR, LSTAR, FMASK, EFER.SCE, GS for swapgs),
// SMEP/SMAP where the CPU has them, and the Swift side of the entry: the frame the asm
// saved becomes SyscallRegisters for the generated dispatcher
// (kernel/generated/SyscallDispatch.swift), with the tracer around it.
import X86Shim

enum SyscallEntry {
  private enum MSR {
    static let efer: UInt32 = 0xc000_0080
    static let star: UInt32 = 0xc000_0081
    static let lstar: UInt32 = 0xc000_0082
    static let cstar: UInt32 = 0xc000_0083
    static let fmask: UInt32 = 0xc000_0084
    static let gsBase: UInt32 = 0xc000_0101
    static let kernelGSBase: UInt32 = 0xc000_0102
  }
  /// Flags SYSCALL clears, so no user choice reaches kernel code: IF (interrupts stay
  /// off until the entry enables them), TF (no single-step trap in the kernel), DF
  /// (the C ABI), AC (SMAP's override), NT (a later IRETQ in the kernel with NT set
  /// faults), IOPL, RF and ID; the status flags too, as Linux does.
  /// docs/design.md, "CPU state a user program controls".
  static let maskedFlags: UInt64 =
    (1 << 0) | (1 << 2) | (1 << 4) | (1 << 6) | (1 << 7)  // CF PF AF ZF SF
    | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11)         // TF IF DF OF
    | (3 << 12) | (1 << 14) | (1 << 16) | (1 << 18)       // IOPL NT RF AC
    | (1 << 21)                                           // ID
  nonisolated(unsafe) static var tracing = false

  static func start(trace: Bool) {
    tracing = trace
    guard MemoryLayout<SyscallRegisters>.stride == 7 * 8, MemoryLayout<x86_syscall_frame>.stride >= 7 * 8 else {
      kernelPanic(.selfCheckFailed, "SyscallRegisters does not overlay the saved syscall frame")
    }
    x86_wrmsr(MSR.efer, x86_rdmsr(MSR.efer) | 1)  // SCE
    // SYSCALL loads CS = 0x08, SS = 0x10; SYSRET loads CS = 0x18 + 16, SS = 0x18 + 8.
    x86_wrmsr(MSR.star, (UInt64(0x18 | 3) << 48) | (UInt64(Selector.kernelCode) << 32))
    x86_wrmsr(MSR.lstar, x86_syscall_entry_address())
    // SYSCALL from 32-bit code would enter here. The GDT has no 32-bit user code
    // segment to run such code in, but if one ever did, it dies instead of entering at 0.
    x86_wrmsr(MSR.cstar, x86_syscall_compat_entry_address())
    x86_wrmsr(MSR.fmask, maskedFlags)
    // In the kernel GS addresses the per-CPU block; user code starts with GS base 0.
    x86_wrmsr(MSR.gsBase, UInt64(UInt(bitPattern: x86_percpu_this())))
    x86_wrmsr(MSR.kernelGSBase, 0)

    let features = x86_cpuid(7, 0, 1)
    var protections: StaticString = "none (CPU lacks them; run_qemu.sh asks for +smep,+smap)"
    if features & (1 << 7) != 0 { x86_write_cr4(x86_read_cr4() | (1 << 20)) }  // SMEP
    if features & (1 << 20) != 0 {
      x86_write_cr4(x86_read_cr4() | (1 << 21))  // SMAP
      x86_set_smap_enabled(1)
    }
    if features & (1 << 7) != 0 && features & (1 << 20) != 0 { protections = "SMEP and SMAP" }
    kprint("SYSCALL: entry ready; user memory protection: \(protections)")
  }
}

@_cdecl("x86_syscall_dispatch")
func syscallDispatch(_ frame: UnsafeMutablePointer<x86_syscall_frame>) -> UInt64 {
  // The saved frame starts with the number and the six argument registers, in the
  // order of SyscallRegisters (checked at start), so the dispatcher reads it in place.
  let registers = UnsafeRawPointer(frame).assumingMemoryBound(to: SyscallRegisters.self)
  // Only user threads make system calls, so the process is always set; the thread's
  // record holds it for the whole call.
  let process = UserThreads.currentProcess.unsafelyUnwrapped
  let tracing = SyscallEntry.tracing
  if tracing && !SyscallTrace.returns(registers.pointee.number) {
    SyscallTracer.log(process: process, registers.pointee, result: nil)  // exits: logged on the way in
  }
  var handlers = KernelSyscalls(caller: process)
  let result = dispatchSyscall(registers, to: &handlers)
  if tracing { SyscallTracer.log(process: process, registers.pointee, result: result) }
  // A thread of an exiting process goes no further than its next system call.
  if UserThreads.mustStop { UserThreads.exitCurrent() }
  return result
}

/// SYSCALL from compatibility mode (IA32_CSTAR): no such code can run, but a process
/// that got there dies, like any other fault in ring 3.
@_cdecl("x86_syscall_compat")
func syscallFromCompatibilityMode(_ rip: UInt64) -> Never {
  kprint("KERNEL: killed pid=\(UserThreads.currentProcess.map { $0._withUnsafeGuaranteedRef { $0.pid } } ?? 0) reason=32-bit syscall rip=0x\(hex: rip)")
  UserThreads.currentProcess?._withUnsafeGuaranteedRef {
    $0.end(ProcessStatus(code: 0, reason: .generalProtection, faultAddress: 0, faultIp: rip))
  }
  UserThreads.exitCurrent()
}
