// handle_close.

extension KernelSyscalls {
  mutating func handleClose(handle: HandleEntry<KernelObject>) throws(AbiError) {
    // The object is released when the last reference (this call's included) goes.
    guard process.removeHandle(handle.value) != nil else { throw .badHandle }
  }
}
