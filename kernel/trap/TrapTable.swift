// The one Swift entry for every interrupt and exception: the asm stubs call
// x86_trap_dispatch with the saved registers, and a table maps the vector to its
// handler. Handlers run with interrupts off on the interrupted stack (or an IST
// stack) and must not allocate: they log through LogLine only.
import X86Shim

typealias TrapFrame = x86_trap_frame
typealias TrapHandler = @convention(c) (UnsafeMutablePointer<TrapFrame>) -> Void

enum TrapTable {
  nonisolated(unsafe) private static var handlers = InlineArray<256, TrapHandler?>(repeating: nil)

  static func register(_ vector: UInt64, _ handler: TrapHandler) {
    handlers[Int(vector)] = handler
  }

  static func handler(for vector: UInt64) -> TrapHandler? {
    vector < 256 ? handlers[Int(vector)] : nil
  }
}

@_cdecl("x86_trap_dispatch")
func trapDispatch(_ frame: UnsafeMutablePointer<TrapFrame>) {
  if let handler = TrapTable.handler(for: frame.pointee.vector) {
    handler(frame)
  } else {
    ExceptionReport.fatal(frame, name: "unexpected interrupt", code: .unexpectedTrap)
  }
  // Back to ring 3 only if the process is not ending: a thread that never makes a
  // system call still stops at its next interrupt (the timer's, at the latest).
  if frame.pointee.cs & 3 == 3 && UserThreads.mustStop { UserThreads.exitCurrent() }
}

/// Sets up the GDT, TSS and IDT and the exception handlers.
enum Traps {
  static func install() {
    DescriptorTables.install()
    InterruptTable.install()
    ExceptionReport.registerHandlers()
  }
}
