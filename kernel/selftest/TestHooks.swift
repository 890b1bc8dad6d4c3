// Runs the test hook named by `test=` on the command line (DESIGN.md §3), after the
// normal boot has succeeded, so every hook also proves the boot path still works.

enum TestHooks {
  static func run(_ hook: TestHook) {
    kprint("TEST: running \(hook.name)")
    switch hook {
    case .panic:
      kernelPanic(.testRequested, "test=panic requested on the command line")
    case .bootInfo:
      BootInfoSelfTest.run()
    case .bootInfoPanic:
      BootInfoSelfTest.panicThroughBootPath()
    }
  }
}

extension TestHook {
  var name: StaticString {
    switch self {
    case .panic: "panic"
    case .bootInfo: "bootinfo"
    case .bootInfoPanic: "bootinfo-panic"
    }
  }
}
