// A process's handle table: small integers naming kernel objects, each with the
// rights this process holds on it. Handle values are slot + 1, so 0 is never valid
// (the ABI's handle_invalid). Lookups and changes happen with interrupts masked.

enum KernelObject: Equatable {
  case process(Int32)
  case thread(Int32)
}

struct HandleSlot {
  var kind = HandleKind(rawValue: 0)  // 0: free
  var rights = Rights()
  var object = KernelObject.process(-1)
}

struct HandleTable {
  static let capacity = 64
  private var slots = InlineArray<64, HandleSlot>(repeating: HandleSlot())

  /// Installs an object; returns its handle, or nil when the table is full.
  mutating func install(_ object: KernelObject, kind: HandleKind, rights: Rights) -> UInt32? {
    for index in 0..<Self.capacity where slots[index].kind.rawValue == 0 {
      slots[index] = HandleSlot(kind: kind, rights: rights, object: object)
      return UInt32(index + 1)
    }
    return nil
  }

  func lookup(_ handle: UInt32) -> HandleSlot? {
    guard handle >= 1, handle <= UInt32(Self.capacity) else { return nil }
    let slot = slots[Int(handle) - 1]
    return slot.kind.rawValue == 0 ? nil : slot
  }

  /// Removes a handle; returns what it named.
  mutating func remove(_ handle: UInt32) -> HandleSlot? {
    guard let slot = lookup(handle) else { return nil }
    slots[Int(handle) - 1] = HandleSlot()
    return slot
  }

  /// Every live slot, for teardown.
  func forEach(_ body: (HandleSlot) -> Void) {
    for index in 0..<Self.capacity where slots[index].kind.rawValue != 0 { body(slots[index]) }
  }
}
