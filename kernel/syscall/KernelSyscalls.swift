// The kernel's side of ABI v0: the one type that conforms to the generated
// SyscallHandlers protocol, so a call the spec adds and the kernel lacks is a compile
// error. Handlers are grouped by subject in Sys*.swift beside this file. By the time
// a handler runs, the generated prologue has checked pointer ranges, enum and flag
// values, and each handle's kind and rights; handlers check the rest.

struct KernelSyscalls: SyscallHandlers {
  typealias Object = KernelObject
  /// The calling process.
  let process: Int32

  var record: UnsafeMutablePointer<ProcessRecord> { ProcessTable.pointer(process) }

  mutating func handleEntry(_ handle: UInt32) -> HandleEntry<KernelObject>? {
    Interrupts.withDisabled {
      guard let slot = record.pointee.handles.lookup(handle) else { return nil }
      return HandleEntry(value: handle, kind: slot.kind, rights: slot.rights, object: slot.object)
    }
  }

  mutating func undeclaredError(_ error: AbiError, from call: SyscallNumber) {
    // A kernel bug or a spec gap: say so loudly, but do not punish the caller.
    kprint("SYSCALL: BUG: call \(call.rawValue) returned error \(error.rawValue), which spec/syscall_v0.xml does not declare for it")
  }

  /// Installs a new handle in the caller's table.
  func install(_ object: KernelObject, kind: HandleKind, rights: Rights) throws(AbiError) -> UInt32 {
    guard let handle = Interrupts.withDisabled({ record.pointee.handles.install(object, kind: kind, rights: rights) }) else {
      throw .limitReached
    }
    return handle
  }
}
