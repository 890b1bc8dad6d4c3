// handle_close.

extension KernelSyscalls {
  mutating func handleClose(handle: HandleEntry<KernelObject>) throws(AbiError) {
    // The object is released when the last reference (this call's included) goes.
    guard withProcess({ $0.removeHandle(handle.value) }) != nil else { throw .badHandle }
  }
}
