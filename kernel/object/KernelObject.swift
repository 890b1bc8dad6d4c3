// The base of every object a handle can name (process, thread, memory object; M4's
// endpoints and M5's devices): a Swift class, so its reference count is Swift's own.
// Handles, mappings, threads and the kernel's tables each hold a strong reference; the
// object's deinit frees what it owns when the last one goes. `kind` is fixed at birth
// so the dispatcher checks a handle's kind without a cast, and `live` counts objects
// for the leak checks (tests/user/test_object_stress.py). Subclasses override the hooks
// at the end: handle counting, and interrupting a thread blocked on the object.
//
// Lock rule: `live` changes with interrupts masked; each subclass documents its own.

class KernelObject {
  let kind: HandleKind

  /// Objects in existence, of every kind.
  nonisolated(unsafe) private(set) static var live = 0

  init(kind: HandleKind) {
    self.kind = kind
    Interrupts.withDisabled { KernelObject.live += 1 }
  }

  deinit {
    Interrupts.withDisabled { KernelObject.live -= 1 }
  }

  /// A handle with `rights` to this object was made (installed in a table) or closed
  /// (or moved into a message). Called with no lock held. Endpoints count their
  /// readers and writers this way; most objects do not care.
  func handleOpened(_ rights: Rights) {}
  func handleClosed(_ rights: Rights) {}

  /// Takes `thread`, blocked interruptibly on one of this object's wait queues, off
  /// it and makes it ready with its `interrupted` flag set (its process is ending).
  func interruptWaiter(_ thread: ThreadID) {}
}
