// The kernel's side of the ABI: the one type that conforms to the generated
// SyscallHandlers protocol, so a call the spec adds and the kernel lacks is a compile
// error. Handlers are grouped by subject in Sys*.swift beside this file. By the time
// a handler runs, the generated prologue has checked pointer ranges, enum and flag
// values, and each handle's kind and rights; handlers check the rest. Handlers that
// make an object return it: the dispatcher installs it with the rights the spec
// declares, in a slot reserved before the handler ran.

struct KernelSyscalls: SyscallHandlers {
  typealias Object = KernelObject
  /// The calling process, borrowed: the calling thread's record holds a reference for
  /// the whole call, so the hot path pays no reference counting for it.
  let caller: Unmanaged<Process>

  /// Runs `body` with the calling process.
  @inline(__always)
  func withProcess<R, E: Error>(_ body: (Process) throws(E) -> R) throws(E) -> R {
    let result = caller._withUnsafeGuaranteedRef { process in Result { () throws(E) -> R in try body(process) } }
    return try result.get()
  }

  mutating func handleEntry(_ handle: UInt32) -> HandleEntry<KernelObject>? {
    guard let (object, rights) = withProcess({ $0.lookupHandle(handle) }) else { return nil }
    return HandleEntry(value: handle, kind: object.kind, rights: rights, object: object)
  }

  mutating func reserveHandle() throws(AbiError) -> UInt32 {
    guard let handle = withProcess({ $0.reserveHandle() }) else { throw .limitReached }
    return handle
  }

  mutating func installHandle(_ object: KernelObject, at handle: UInt32, kind: HandleKind?, rights: Rights) {
    if let kind, object.kind != kind {
      kernelPanic(.selfCheckFailed, "a handler returned an object of kind \(object.kind.rawValue) for a kind \(kind.rawValue) handle")
    }
    withProcess { $0.fillHandle(handle, with: object, rights: rights) }
  }

  mutating func cancelHandle(_ handle: UInt32) {
    _ = withProcess { $0.removeHandle(handle) }
  }

  mutating func undeclaredError(_ error: AbiError, from call: SyscallNumber) {
    // A wait cut short because the caller's process is ending returns whatever error
    // is at hand: the thread stops before user code could see it.
    if UserThreads.mustStop { return }
    // A kernel bug or a spec gap: say so loudly, but do not punish the caller.
    kprint("SYSCALL: BUG: call \(call.rawValue) returned error \(error.rawValue), which spec/syscall_v0.xml does not declare for it")
  }
}
