// handle_close, handle_duplicate and handle_info.

extension KernelSyscalls {
  mutating func handleClose(handle: HandleEntry<KernelObject>) throws(AbiError) {
    // The object is released when the last reference (this call's included) goes.
    guard withProcess({ $0.removeHandle(handle.value) }) != nil else { throw .badHandle }
  }

  mutating func handleDuplicate(handle: HandleEntry<KernelObject>, rights: UInt32) throws(AbiError) -> (object: KernelObject, rights: Rights) {
    let wanted = Rights(rawValue: rights)
    guard handle.rights.contains(wanted) else { throw .invalidArgument }  // never more than the original
    return (handle.object, wanted)
  }
}

extension KernelSyscalls {
  mutating func handleInfo(handle: HandleEntry<KernelObject>, info: UserOut<HandleInfo>) throws(AbiError) {
    var size: UInt64 = 0
    if handle.object.kind == .shm { size = unsafeDowncast(handle.object, to: MemoryObject.self).byteCount }
    try info.write(HandleInfo(kind: UInt32(handle.object.kind.rawValue), rights: handle.rights.rawValue, size: size))
  }
}
