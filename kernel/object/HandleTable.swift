// A process's handle table: each slot holds a strong reference to a kernel object and
// the rights this process has on it. A handle value is (generation << 8) | (slot + 1):
// never 0 (the ABI's handle_invalid), and once a slot is freed its generation moves
// on, so a stale value is bad_handle, never the slot's next object (as Zircon's handle
// values and Hubris's task generations do). A call that will return a handle reserves
// its slot first (the generated dispatcher does), so a full table fails the call
// before it makes anything, and a reserved slot names nothing until it is filled.
//
// The slot array starts at 16 and doubles up to `capacity`, so a small process's table
// is one slab block.
//
// Lock rule: the owning Process's `lock` guards the table. Removing returns the
// object, so its last reference is dropped after the lock is let go.

struct HandleTable {
  static let capacity = 128
  private static let slotBits: UInt32 = 8
  private static let generationLimit: UInt32 = 1 << (32 - slotBits)

  private enum SlotState: UInt8 { case free, reserved, used }

  private struct Slot {
    var object: KernelObject? = nil
    var rights = Rights()
    var generation: UInt32 = 0
    var state = SlotState.free
  }

  /// Starts small (a slab block, not pages) and doubles up to `capacity` as needed.
  private static let initialSlots = 16

  private var slots: UnsafeMutablePointer<Slot>
  private var slotCount: Int
  private(set) var count = 0

  /// nil when the kernel heap cannot hold the table (the caller answers no_memory).
  static func make() -> HandleTable? {
    guard let slots = allocate(initialSlots) else { return nil }
    return HandleTable(slots: slots, slotCount: initialSlots)
  }

  private static func allocate(_ count: Int) -> UnsafeMutablePointer<Slot>? {
    guard let memory = KernelHeap.allocate(size: count * MemoryLayout<Slot>.stride, alignment: MemoryLayout<Slot>.alignment) else {
      return nil
    }
    let slots = memory.bindMemory(to: Slot.self, capacity: count)
    slots.initialize(repeating: Slot(), count: count)
    return slots
  }

  private init(slots: UnsafeMutablePointer<Slot>, slotCount: Int) {
    self.slots = slots
    self.slotCount = slotCount
  }

  /// Frees the table itself. Every slot must already be empty (`removeAny` until nil).
  func destroy() {
    slots.deinitialize(count: slotCount)
    _ = KernelHeap.free(UnsafeMutableRawPointer(slots))
  }

  /// Doubles the table; false at the limit or when the heap says no.
  private mutating func grow() -> Bool {
    let larger = min(slotCount * 2, Self.capacity)
    guard larger > slotCount, let moved = Self.allocate(larger) else { return false }
    moved.deinitialize(count: slotCount)
    moved.moveInitialize(from: slots, count: slotCount)
    _ = KernelHeap.free(UnsafeMutableRawPointer(slots))
    slots = moved
    slotCount = larger
    return true
  }

  private func value(_ index: Int) -> UInt32 {
    (slots[index].generation << Self.slotBits) | UInt32(index + 1)
  }

  private func index(of handle: UInt32) -> Int? {
    let slot = Int(handle & ((1 << Self.slotBits) - 1))
    guard slot >= 1, slot <= slotCount, slots[slot - 1].generation == handle >> Self.slotBits else { return nil }
    return slot - 1
  }

  /// Takes a free slot; returns the handle it will be, or nil when the table is full.
  mutating func reserve() -> UInt32? {
    if count == slotCount && !grow() { return nil }
    for index in 0..<slotCount where slots[index].state == .free {
      slots[index].state = .reserved
      count += 1
      return value(index)
    }
    return nil
  }

  /// Fills a slot `reserve` returned.
  mutating func fill(_ handle: UInt32, with object: KernelObject, rights: Rights) {
    guard let index = index(of: handle), slots[index].state == .reserved else {
      kernelPanic(.selfCheckFailed, "handle 0x\(hex: handle) filled without a reservation")
    }
    slots[index].object = object
    slots[index].rights = rights
    slots[index].state = .used
  }

  /// Reserves and fills in one step; nil when the table is full.
  mutating func install(_ object: KernelObject, rights: Rights) -> UInt32? {
    guard let handle = reserve() else { return nil }
    fill(handle, with: object, rights: rights)
    return handle
  }

  /// What a live handle names, with its rights.
  func lookup(_ handle: UInt32) -> (object: KernelObject, rights: Rights)? {
    guard let index = index(of: handle), slots[index].state == .used, let object = slots[index].object else { return nil }
    return (object, slots[index].rights)
  }

  /// Frees a live or reserved slot; returns what it named (nil for a reservation or a
  /// value that names nothing).
  mutating func remove(_ handle: UInt32) -> (object: KernelObject, rights: Rights)? {
    guard let index = index(of: handle), slots[index].state != .free else { return nil }
    let object = slots[index].object
    let rights = slots[index].rights
    let generation = (slots[index].generation + 1) % Self.generationLimit
    slots[index] = Slot(generation: generation)
    count -= 1
    guard let object else { return nil }
    return (object, rights)
  }

  /// Removes some live handle and returns it; nil once the table is empty. A process
  /// ending calls this until nil, dropping each object outside the lock.
  mutating func removeAny() -> (object: KernelObject, rights: Rights)? {
    for index in 0..<slotCount where slots[index].state != .free {
      if let removed = remove(value(index)) { return removed }
    }
    return nil
  }
}
