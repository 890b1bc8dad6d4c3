// The kernel log: whole lines to the console. Markers that tests look for
// ("KERNEL: boot ok") are ordinary log lines; the code that did the work prints them.

enum KernelLog {
  /// Set once the console answered; until then (and on a machine without COM1) lines
  /// are dropped rather than polled into a port nobody reads.
  nonisolated(unsafe) static var consoleReady = false

  static func start() -> Bool {
    consoleReady = Serial16550.com1.configure()
    return consoleReady
  }

  static func write(_ line: LogLine) {
    guard consoleReady else { return }
    let port = Serial16550.com1
    // One line at a time: a thread preempted mid-line must not split another's.
    Interrupts.withDisabled {
      line.forEachByte { port.write($0) }
      port.write(UInt8(ascii: "\r"))
      port.write(UInt8(ascii: "\n"))
    }
  }
}

extension KernelLog {
  /// Bytes a user program wrote (debug_write): passed through as they are, with "\n"
  /// sent as "\r\n" like every kernel line.
  static func writeRaw(_ bytes: UnsafeRawBufferPointer) {
    guard consoleReady else { return }
    let port = Serial16550.com1
    Interrupts.withDisabled {
      for byte in bytes {
        if byte == UInt8(ascii: "\n") { port.write(UInt8(ascii: "\r")) }
        port.write(byte)
      }
    }
  }
}

/// Prints one line to the kernel log.
func kprint(_ line: LogLine) {
  KernelLog.write(line)
}
