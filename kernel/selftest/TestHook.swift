// The names of the test hooks (`test=<name>`, DESIGN.md §3): one ISO serves every
// test. TestHooks.swift runs them; the command line parser only looks names up here.

/// Test hooks selected with `test=<name>` (DESIGN.md §3): one ISO serves every test.
enum TestHook: CaseIterable {
  case panic          // a controlled panic through the real panic path
  case bootInfo       // the Multiboot2 parser against crafted malformed lists
  case bootInfoPanic  // a malformed list through kmain's own boot-info path
  case pageFault      // a kernel write to an unmapped address
  case breakpoint     // int3: reported, then execution resumes
  case divideError    // a divide by zero in kernel mode
  case stackOverflow  // unbounded recursion into the boot stack's guard page
  case writeProtect   // a write to kernel text
  case memory         // page allocator and heap exhaustion and return
  case ticks          // sleep until the hundredth timer tick
  case threads        // two threads interleave because the timer preempts them
  case lockStress     // 8 threads x 10,000 increments under a spinlock, then a mutex
  case lifecycle      // 1,000 threads created, run, exited and joined
  case fpu            // FPU/SSE registers survive switches between threads using them
  case exitWindow     // every exiting user thread is switched away after its process is freed
  case tlb            // a heap page freed and remapped while a process's tables are loaded
  case spawnWindow    // every new process runs before its spawner returns
  case audit          // the kernel checks what each process's system calls returned (SYSCALL: ok)

  var name: StaticString {
    switch self {
    case .panic: "panic"
    case .bootInfo: "bootinfo"
    case .bootInfoPanic: "bootinfo-panic"
    case .pageFault: "pagefault"
    case .breakpoint: "breakpoint"
    case .divideError: "divzero"
    case .stackOverflow: "stackoverflow"
    case .writeProtect: "writeprotect"
    case .memory: "mm"
    case .ticks: "ticks"
    case .threads: "threads"
    case .lockStress: "lockstress"
    case .lifecycle: "lifecycle"
    case .fpu: "fpu"
    case .exitWindow: "exitwindow"
    case .tlb: "tlb"
    case .spawnWindow: "spawnwindow"
    case .audit: "audit"
    }
  }

  init?<S: Sequence<UInt8>>(named name: S) {
    for hook in TestHook.allCases {
      let matches = hook.name.withUTF8Buffer { name.elementsEqual($0) }
      if matches {
        self = hook
        return
      }
    }
    return nil
  }
}
