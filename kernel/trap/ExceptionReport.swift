// What the kernel says when the CPU raises an exception: a #PF line with the faulting
// address and decoded error bits, a register dump, a symbolized backtrace, then the
// panic line. #BP is reported and execution resumes after the int3. A fault in ring 3
// kills only that process (`KERNEL: killed pid=…`), and a page fault inside the
// user-copy routine on a user address becomes that copy's `.fault`.
import X86Shim

enum ExceptionReport {
  static func registerHandlers() {
    TrapTable.register(Vector.divideError) { ExceptionReport.fatal($0, name: "#DE divide error", code: .kernelFault) }
    TrapTable.register(Vector.debug) { ExceptionReport.fatal($0, name: "#DB debug", code: .kernelFault) }
    TrapTable.register(Vector.nmi) { ExceptionReport.nmi($0) }
    TrapTable.register(Vector.breakpoint) { ExceptionReport.breakpoint($0) }
    TrapTable.register(Vector.overflow) { ExceptionReport.fatal($0, name: "#OF overflow", code: .kernelFault) }
    TrapTable.register(Vector.boundRange) { ExceptionReport.fatal($0, name: "#BR bound range", code: .kernelFault) }
    TrapTable.register(Vector.invalidOpcode) { ExceptionReport.fatal($0, name: "#UD invalid opcode", code: .kernelFault) }
    TrapTable.register(Vector.deviceNotAvailable) { ExceptionReport.fatal($0, name: "#NM device not available", code: .kernelFault) }
    TrapTable.register(Vector.doubleFault) { ExceptionReport.doubleFault($0) }
    TrapTable.register(Vector.invalidTSS) { ExceptionReport.fatal($0, name: "#TS invalid TSS", code: .kernelFault) }
    TrapTable.register(Vector.segmentNotPresent) { ExceptionReport.fatal($0, name: "#NP segment not present", code: .kernelFault) }
    TrapTable.register(Vector.stackFault) { ExceptionReport.fatal($0, name: "#SS stack fault", code: .kernelFault) }
    TrapTable.register(Vector.generalProtection) { ExceptionReport.fatal($0, name: "#GP general protection", code: .kernelFault) }
    TrapTable.register(Vector.pageFault) { ExceptionReport.pageFault($0) }
    TrapTable.register(Vector.x87Error) { ExceptionReport.fatal($0, name: "#MF x87 error", code: .kernelFault) }
    TrapTable.register(Vector.alignmentCheck) { ExceptionReport.fatal($0, name: "#AC alignment check", code: .kernelFault) }
    TrapTable.register(Vector.machineCheck) { ExceptionReport.fatal($0, name: "#MC machine check", code: .kernelFault) }
    TrapTable.register(Vector.simdError) { ExceptionReport.fatal($0, name: "#XM SIMD error", code: .kernelFault) }
    TrapTable.register(Vector.virtualization) { ExceptionReport.fatal($0, name: "#VE virtualization", code: .kernelFault) }
    TrapTable.register(Vector.controlProtection) { ExceptionReport.fatal($0, name: "#CP control protection", code: .kernelFault) }
  }

  // Page-fault error code bits (SDM Vol. 3, 4.7).
  private enum PageFaultBit {
    static let present: UInt64 = 1 << 0
    static let write: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let reserved: UInt64 = 1 << 3
    static let fetch: UInt64 = 1 << 4
  }

  static func pageFault(_ frame: UnsafeMutablePointer<TrapFrame>) {
    let address = x86_read_cr2()
    let error = frame.pointee.error_code
    if isFromUser(frame) { killUser(frame, reason: .pageFault, name: "page fault", address: address) }
    let rip = frame.pointee.rip
    if rip >= x86_user_copy_start_address() && rip < x86_user_copy_end_address() && address < UserSpace.end {
      frame.pointee.rip = x86_user_copy_fault_address()  // the copy returns "fault"
      return
    }
    kprint("PF: addr=0x\(hex: address) err=0x\(hex: error) rip=0x\(hex: frame.pointee.rip)")
    kprint("PF: present=\(bit(error, PageFaultBit.present)) write=\(bit(error, PageFaultBit.write)) user=\(bit(error, PageFaultBit.user)) reserved=\(bit(error, PageFaultBit.reserved)) fetch=\(bit(error, PageFaultBit.fetch))")
    if let slot = KernelStack.slot(containing: address), KernelStack.isGuardAddress(address, slot: slot) {
      kprint("PF: 0x\(hex: address) is in the guard gap of kernel stack slot \(slot): stack overflow")
    }
    registers(frame)
    Backtrace.print(rip: frame.pointee.rip, rbp: frame.pointee.rbp)
    kernelPanic(.kernelFault, "kernel page fault at 0x\(hex: address)")
  }

  static func breakpoint(_ frame: UnsafeMutablePointer<TrapFrame>) {
    // rip already points past the int3; returning resumes there.
    kprint("TRAP: #BP breakpoint at rip=0x\(hex: frame.pointee.rip - 1), resuming")
  }

  static func doubleFault(_ frame: UnsafeMutablePointer<TrapFrame>) {
    let rsp = frame.pointee.rsp
    var marker: UInt8 = 0
    let onStack = withUnsafePointer(to: &marker) { UInt64(UInt(bitPattern: $0)) }
    kprint("TRAP: #DF double fault rip=0x\(hex: frame.pointee.rip) rsp=0x\(hex: rsp), reported on IST stack 0x\(hex: DescriptorTables.interruptStackTop(.doubleFault)) (rsp now 0x\(hex: onStack))")
    let guardPage = UInt64(layout_boot_stack_guard())
    if rsp >= guardPage && rsp < guardPage + PageAllocator.pageSize + 64 {
      kprint("TRAP: #DF cause: kernel stack overflow into the boot stack's guard page 0x\(hex: guardPage)")
    } else if let slot = KernelStack.slot(containing: rsp), KernelStack.isGuardAddress(rsp, slot: slot) {
      kprint("TRAP: #DF cause: kernel stack overflow in stack slot \(slot)")
    }
    registers(frame)
    kernelPanic(.doubleFault, "double fault")
  }

  /// An NMI is the machine's (a watchdog, a host's `nmi`, a hardware alarm), not the
  /// program that happened to be running: report it and carry on, whatever the ring.
  static func nmi(_ frame: UnsafeMutablePointer<TrapFrame>) {
    let ring = frame.pointee.cs & 3
    kprint("TRAP: NMI in ring \(ring) at rip=0x\(hex: frame.pointee.rip): the machine's, reported and resumed")
  }

  static func fatal(_ frame: UnsafeMutablePointer<TrapFrame>, name: StaticString, code: PanicCode) {
    // A machine check is the machine failing, never the program's doing: it always
    // stops the kernel, whichever ring it interrupted.
    if isFromUser(frame) && frame.pointee.vector != Vector.machineCheck {
      switch frame.pointee.vector {
      case Vector.divideError: killUser(frame, reason: .divideError, name: "divide error", address: 0)
      case Vector.invalidOpcode: killUser(frame, reason: .invalidOpcode, name: "invalid opcode", address: 0)
      case Vector.generalProtection, Vector.stackFault, Vector.segmentNotPresent, Vector.alignmentCheck, Vector.x87Error, Vector.simdError:
        killUser(frame, reason: .generalProtection, name: name, address: 0)
      default:
        killUser(frame, reason: .killed, name: name, address: 0)
      }
    }
    kprint("TRAP: \(name) vector=\(frame.pointee.vector) err=0x\(hex: frame.pointee.error_code) rip=0x\(hex: frame.pointee.rip)")
    registers(frame)
    Backtrace.print(rip: frame.pointee.rip, rbp: frame.pointee.rbp)
    kernelPanic(code, "\(name) in kernel mode at rip=0x\(hex: frame.pointee.rip)")
  }

  static func isFromUser(_ frame: UnsafeMutablePointer<TrapFrame>) -> Bool { frame.pointee.cs & 3 == 3 }

  /// A fault in ring 3 ends that process and nothing else. (Not inlined: it is a root
  /// of tests/tooling/test_hot_paths.py.)
  @inline(never)
  static func killUser(_ frame: UnsafeMutablePointer<TrapFrame>, reason: ExitReason, name: StaticString, address: UInt64) -> Never {
    guard let process = UserThreads.currentProcess else { kernelPanic(.kernelFault, "ring 3 fault on a kernel thread") }
    process._withUnsafeGuaranteedRef { process in
      kprint("KERNEL: killed pid=\(process.pid) reason=\(name) addr=0x\(hex: address) rip=0x\(hex: frame.pointee.rip)")
      process.end(ProcessStatus(code: 0, reason: reason, faultAddress: address, faultIp: frame.pointee.rip))
    }
    UserThreads.exitCurrent()
  }

  static func registers(_ frame: UnsafeMutablePointer<TrapFrame>) {
    let f = frame.pointee
    kprint("REGS: rax=0x\(hex: f.rax, digits: 16) rbx=0x\(hex: f.rbx, digits: 16) rcx=0x\(hex: f.rcx, digits: 16) rdx=0x\(hex: f.rdx, digits: 16)")
    kprint("REGS: rsi=0x\(hex: f.rsi, digits: 16) rdi=0x\(hex: f.rdi, digits: 16) rbp=0x\(hex: f.rbp, digits: 16) rsp=0x\(hex: f.rsp, digits: 16)")
    kprint("REGS: r8=0x\(hex: f.r8, digits: 16) r9=0x\(hex: f.r9, digits: 16) r10=0x\(hex: f.r10, digits: 16) r11=0x\(hex: f.r11, digits: 16)")
    kprint("REGS: r12=0x\(hex: f.r12, digits: 16) r13=0x\(hex: f.r13, digits: 16) r14=0x\(hex: f.r14, digits: 16) r15=0x\(hex: f.r15, digits: 16)")
    kprint("REGS: rip=0x\(hex: f.rip, digits: 16) cs=0x\(hex: f.cs) rflags=0x\(hex: f.rflags) ss=0x\(hex: f.ss) cr3=0x\(hex: x86_read_cr3())")
  }

  private static func bit(_ value: UInt64, _ mask: UInt64) -> Int { value & mask != 0 ? 1 : 0 }
}
