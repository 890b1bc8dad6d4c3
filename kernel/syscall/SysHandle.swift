// handle_close.

extension KernelSyscalls {
  mutating func handleClose(handle: HandleEntry<KernelObject>) throws(AbiError) {
    guard let slot = Interrupts.withDisabled({ record.pointee.handles.remove(handle.value) }) else { throw .badHandle }
    if case .process(let index) = slot.object { ProcessTable.dropReference(index) }
  }
}
