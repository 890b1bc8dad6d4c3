// Up to ipc_handles_max handles on their way between handle tables (a message's, a
// reply's, a new process's grants): the objects, one reference each, and the rights
// each handle carries. Fixed fields rather than an array: making an empty one is a few
// stores, which the call fast path does twice per round trip.

struct HandlesInFlight {
  private(set) var count = 0
  private var objects: (KernelObject?, KernelObject?, KernelObject?, KernelObject?) = (nil, nil, nil, nil)
  private var rights: (Rights, Rights, Rights, Rights) = (Rights(), Rights(), Rights(), Rights())

  static let capacity = 4

  /// Adds one at the end (at most `capacity`).
  mutating func append(_ object: KernelObject, _ rights: Rights) {
    self[count] = (object, rights)
    count += 1
  }

  subscript(_ index: Int) -> (object: KernelObject?, rights: Rights) {
    get {
      switch index {
      case 0: (objects.0, rights.0)
      case 1: (objects.1, rights.1)
      case 2: (objects.2, rights.2)
      default: (objects.3, rights.3)
      }
    }
    set {
      switch index {
      case 0: objects.0 = newValue.object; rights.0 = newValue.rights
      case 1: objects.1 = newValue.object; rights.1 = newValue.rights
      case 2: objects.2 = newValue.object; rights.2 = newValue.rights
      default: objects.3 = newValue.object; rights.3 = newValue.rights
      }
    }
  }
}
