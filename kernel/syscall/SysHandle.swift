// handle_close and handle_duplicate.

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
