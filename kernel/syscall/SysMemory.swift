// vm_map and vm_unmap: anonymous, zeroed memory in the caller's address space, each
// mapping a region over a memory object of its own (kernel/mm/AddressSpace.swift).
// W^X holds in user space too: a mapping may not be both writable and executable.

extension KernelSyscalls {
  mutating func vmMap(addr: UserAddress, len: UInt64, prot: VmProt, flags: VmMapFlags) throws(AbiError) -> UserAddress {
    let page = PageAllocator.pageSize
    guard len > 0, len % page == 0, addr.value % page == 0, !(prot.contains(.write) && prot.contains(.execute)) else {
      throw .invalidArgument
    }
    let space = withProcess { $0.space }
    let placement: AddressSpace.Placement
    if flags.contains(.fixed) {
      guard addr.value >= page, addr.value < UserSpace.end, len <= UserSpace.end - addr.value else { throw .invalidArgument }
      guard space.isFree(addr.value, len) else { throw .addressInUse }
      placement = .fixed(addr.value)
    } else {
      placement = .hint(addr.value)
    }
    // Over the process's limit, or more than all free memory: answer before allocating.
    guard len <= space.account.available,
      let object = MemoryObject.anonymous(pageCount: Int(len / page))
    else { throw .noMemory }
    return UserAddress(try space.map(object, placement, prot: prot))
  }

  mutating func vmUnmap(addr: UserAddress, len: UInt64) throws(AbiError) {
    let page = PageAllocator.pageSize
    guard addr.value % page == 0, len % page == 0, addr.value < UserSpace.end, len <= UserSpace.end - addr.value else {
      throw .invalidArgument
    }
    guard len > 0 else { return }
    withProcess { $0.space.unmap(addr.value, len) }
  }
}
