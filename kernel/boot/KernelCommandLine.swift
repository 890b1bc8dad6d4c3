// The kernel command line: the Multiboot2 cmdline tag followed by QEMU's fw_cfg file
// `opt/apus/cmdline` (DESIGN.md §3). Each source is checked on its own; a source that
// is too long or holds anything but printable ASCII is rejected whole with a log line
// and the kernel boots without it — a bad option must never stop a boot.

enum KernelCommandLine {
  static let maximumLength = 512
  static let fwCfgFileName: StaticString = "opt/apus/cmdline"

  /// Collects, checks and parses both sources.
  static func assemble(multiboot: [UInt8]) -> BootOptions {
    var accepted: [UInt8] = []
    if let problem = rejection(of: multiboot, length: multiboot.count) {
      kprint("CMDLINE: rejected multiboot command line: \(problem)")
    } else {
      accepted += multiboot
    }
    if let file = FwCfg.find(fwCfgFileName) {
      let length = Int(file.size)
      // An over-long file is rejected before it is read.
      let bytes = length <= maximumLength ? FwCfg.read(file, count: length) : []
      if let problem = rejection(of: bytes, length: length) {
        kprint("CMDLINE: rejected fw_cfg command line: \(problem)")
      } else {
        if !accepted.isEmpty { accepted.append(UInt8(ascii: " ")) }
        accepted += bytes
      }
    }
    kprint("CMDLINE: \"\(escaping: accepted)\"")
    return BootOptions.parse(accepted)
  }

  /// Why `bytes` (of declared `length`) cannot be a command line, or nil if it can.
  static func rejection(of bytes: [UInt8], length: Int) -> LogLine? {
    if length > maximumLength {
      return "\(length) bytes exceeds the \(maximumLength)-byte limit"
    }
    for (offset, byte) in bytes.enumerated() where !isAllowed(byte) {
      return "byte 0x\(hex: byte, digits: 2) at offset \(offset) is not printable ASCII"
    }
    return nil
  }

  private static func isAllowed(_ byte: UInt8) -> Bool {
    (byte >= 0x20 && byte < 0x7f) || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
  }
}

/// Options the kernel understands, parsed from `key=value` and bare-word tokens.
/// Unknown tokens are reported and ignored, so an old kernel boots with new options.
struct BootOptions {
  var test: TestHook? = nil
  /// `bench`: run the benchmarks (make bench) before halting.
  var bench = false
  /// `trace=syscalls`: log every system call.
  var traceSyscalls = false
  /// `trace=ipc`: log every IPC message, decoded by its endpoint's protocol.
  var traceIpc = false
  /// `run=PATH` (repeatable): programs from the initrd that init runs, in order.
  var run: [[UInt8]] = []
  /// `init=OPTION` (repeatable): handed to init as `--OPTION`, before the programs
  /// (user/init/init.c lists what it understands).
  var initOptions: [[UInt8]] = []

  static func parse(_ text: [UInt8]) -> BootOptions {
    var options = BootOptions()
    for token in text.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0a }) {
      let parts = token.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
      let key = parts[0]
      let value = parts.count > 1 ? parts[1] : []
      if key.elementsEqual("bench".utf8) && parts.count == 1 {
        options.bench = true
      } else if key.elementsEqual("trace".utf8) && value.elementsEqual("syscalls".utf8) {
        options.traceSyscalls = true
      } else if key.elementsEqual("trace".utf8) && value.elementsEqual("ipc".utf8) {
        options.traceIpc = true
      } else if key.elementsEqual("run".utf8) && !value.isEmpty {
        options.run.append(Array(value))
      } else if key.elementsEqual("chaos".utf8) {
        if !FaultInjection.configure(value) { kprint("CMDLINE: malformed chaos option \"\(escaping: token)\" ignored") }
      } else if key.elementsEqual("init".utf8) && !value.isEmpty {
        options.initOptions.append(Array("--".utf8) + Array(value))
      } else if key.elementsEqual("test".utf8) {
        if let hook = TestHook(named: value) {
          options.test = hook
        } else {
          kprint("CMDLINE: unknown test \"\(escaping: value)\" ignored")
        }
      } else {
        kprint("CMDLINE: unknown option \"\(escaping: token)\" ignored")
      }
    }
    return options
  }
}
