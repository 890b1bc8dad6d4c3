// vm_map and vm_unmap: anonymous, zeroed memory in the caller's address space. W^X
// holds in user space too: a mapping may not be both writable and executable.

extension KernelSyscalls {
  mutating func vmMap(addr: UserAddress, len: UInt64, prot: VmProt, flags: VmMapFlags) throws(AbiError) -> UserAddress {
    let page = PageAllocator.pageSize
    guard len > 0, len % page == 0, addr.value % page == 0, !(prot.contains(.write) && prot.contains(.execute)) else {
      throw .invalidArgument
    }
    // More than all free memory can never succeed; answer before probing for room.
    guard len / page <= UInt64(PageAllocator.shared.freePages) else { throw .noMemory }
    let space = record.pointee.space
    let start: UInt64
    if flags.contains(.fixed) {
      guard addr.value >= page, addr.value < UserSpace.end, len <= UserSpace.end - addr.value else { throw .invalidArgument }
      var probe = addr.value
      while probe < addr.value + len {
        if space.isMapped(probe) { throw .addressInUse }
        probe += page
      }
      start = addr.value
    } else {
      start = try findRoom(len, space)
    }
    var mapped: UInt64 = 0
    while mapped < len {
      do {
        _ = try space.mapZeroedPage(at: start + mapped, writable: prot.contains(.write), executable: prot.contains(.execute))
      } catch {
        var undo: UInt64 = 0
        while undo < mapped { space.unmapPage(at: start + undo); undo += page }
        throw error == .addressInUse ? .addressInUse : .noMemory
      }
      mapped += page
    }
    return UserAddress(start)
  }

  mutating func vmUnmap(addr: UserAddress, len: UInt64) throws(AbiError) {
    let page = PageAllocator.pageSize
    guard addr.value % page == 0, len % page == 0, addr.value < UserSpace.end, len <= UserSpace.end - addr.value else {
      throw .invalidArgument
    }
    let space = record.pointee.space
    var offset: UInt64 = 0
    while offset < len {
      space.unmapPage(at: addr.value + offset)
      offset += page
    }
  }

  /// The first free run of `length` bytes at or above the process's map cursor.
  private mutating func findRoom(_ length: UInt64, _ space: AddressSpace) throws(AbiError) -> UInt64 {
    let page = PageAllocator.pageSize
    let limit = ProcessTable.stackTop - ProcessTable.stackPages * page - page  // below the stack's guard
    var candidate = record.pointee.mapCursor
    while candidate < limit, length <= limit - candidate {
      var free = true
      var probe = candidate
      while probe < candidate + length {
        if space.isMapped(probe) {
          free = false
          candidate = probe + page
          break
        }
        probe += page
      }
      if free {
        record.pointee.mapCursor = candidate + length
        return candidate
      }
    }
    throw .noMemory
  }
}
