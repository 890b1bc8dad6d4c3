// What a thread handle names: one user thread, by its record, for as long as the
// thread lives. The thread's record holds a reference until the reaper frees the
// thread and marks the object exited, so a handle that outlives its thread names a
// finished thread, never whichever thread reuses the record.
//
// Lock rule: `exited` changes once, with interrupts masked, in the reaper.

final class ThreadObject: KernelObject {
  let id: ThreadID
  private(set) var exited = false

  init(_ id: ThreadID) {
    self.id = id
    super.init(kind: .thread)
  }

  func markExited() { Interrupts.withDisabled { exited = true } }
}
