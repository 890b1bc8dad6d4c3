// Kernel stacks for threads and the IST: each lives in its own KERNEL_STACK_SLOT_SIZE
// slot above KERNEL_STACKS_BASE with only its top KERNEL_STACK_SIZE bytes mapped, so a
// stack that overflows runs into unmapped guard space and faults instead of
// corrupting its neighbour. A KernelStack owns its slot and pages: dropping it unmaps
// them and returns the pages.
import X86Shim

@frozen @usableFromInline
struct KernelStack: ~Copyable {
  let slot: Int

  /// The highest address of the stack; rsp starts here.
  var top: UInt64 { Self.slotBase(slot) + UInt64(KERNEL_STACK_SLOT_SIZE) }
  /// The lowest mapped address; everything below it in the slot is a guard.
  var bottom: UInt64 { top - UInt64(KERNEL_STACK_SIZE) }

  /// Takes back ownership of a stack handed out with `intoSlot()`.
  init(adoptingSlot slot: Int) { self.slot = slot }

  /// Gives up ownership; the caller keeps the slot number and must adopt it again to
  /// free the stack.
  consuming func intoSlot() -> Int {
    let slot = self.slot
    discard self
    return slot
  }

  /// A fresh, mapped stack, or nil when slots or pages run out.
  /// `chargedToUser`: for a user thread, so it stops at the page reserve.
  static func allocate(chargedToUser: Bool = false) -> KernelStack? {
    guard let slot = Interrupts.withDisabled({ StackSlots.claim() }) else { return nil }
    let stack = KernelStack(adoptingSlot: slot)
    var address = stack.bottom
    while address < stack.top {
      let fresh = chargedToUser ? PageAllocator.shared.allocateZeroedForUser() : PageAllocator.shared.allocateZeroed()
      guard let page = fresh else { return nil }  // deinit unwinds
      do {
        try KernelAddressSpace.tables.map(address, to: page.intoAddress(), flags: [.global, .writable, .noExecute])
      } catch {
        return nil
      }
      address += PageAllocator.pageSize
    }
    return stack
  }

  /// True when `address` is in slot `slot` but below its mapped stack: its guard gap.
  static func isGuardAddress(_ address: UInt64, slot: Int) -> Bool {
    address >= slotBase(slot) && address < slotBase(slot) + UInt64(KERNEL_STACK_SLOT_SIZE) - UInt64(KERNEL_STACK_SIZE)
  }

  static func slotBase(_ slot: Int) -> UInt64 {
    UInt64(KERNEL_STACKS_BASE) + UInt64(slot) * UInt64(KERNEL_STACK_SLOT_SIZE)
  }

  /// The slot `address` falls in, if it is in the stack region.
  static func slot(containing address: UInt64) -> Int? {
    let base = UInt64(KERNEL_STACKS_BASE)
    guard address >= base else { return nil }
    let slot = Int((address - base) / UInt64(KERNEL_STACK_SLOT_SIZE))
    return slot < Int(KERNEL_STACK_SLOTS) ? slot : nil
  }

  deinit {
    var address = bottom
    while address < top {
      if let physical = KernelAddressSpace.tables.unmap(address) { PageAllocator.shared.release(physical) }
      address += PageAllocator.pageSize
    }
    Interrupts.withDisabled { StackSlots.release(slot) }
  }
}

/// Which stack slots are taken: KERNEL_STACK_SLOTS bits.
enum StackSlots {
  nonisolated(unsafe) private static var taken = InlineArray<64, UInt64>(repeating: 0)

  static func claim() -> Int? {
    for word in 0..<64 where taken[word] != ~0 {
      let bit = (~taken[word]).trailingZeroBitCount
      taken[word] |= 1 << UInt64(bit)
      return word * 64 + bit
    }
    return nil
  }

  static func release(_ slot: Int) {
    taken[slot / 64] &= ~(1 << UInt64(slot % 64))
  }
}
