// Console input: the serial line's received bytes, interrupt-driven (IRQ 4 through
// the I/O APIC), through a line discipline in the kernel — echo, backspace (DEL or
// BS), Enter ends a line, Ctrl-D on an empty line is end of file (a read of 0 bytes),
// Ctrl-C discards the line and ends the foreground process. Finished lines wait in a
// queue for console_read. The kernel keeps the discipline because it already owns
// the UART for its log and echo must interleave with that log line by line; a
// user-space console driver would need the port I/O grant the device model avoids.
//
// Ctrl-C cannot end a process from interrupt context (ending one interrupts its
// waits, in thread context), so it wakes the console thread, which does.
//
// Lock rule: everything here changes with interrupts masked (one CPU).

enum ConsoleInput {
  static let vector: UInt64 = 0x31
  private static let lineMaximum = 255
  private static let queueSize = 4096

  nonisolated(unsafe) private static var line = InlineArray<256, UInt8>(repeating: 0)
  nonisolated(unsafe) private static var lineLength = 0
  nonisolated(unsafe) private static var queue = InlineArray<4096, UInt8>(repeating: 0)
  nonisolated(unsafe) private static var queueHead = 0
  nonisolated(unsafe) private static var queueCount = 0
  /// Ctrl-D on an empty line: the next read returns 0.
  nonisolated(unsafe) private static var endOfFile = false
  nonisolated(unsafe) static var readers = WaitQueue()
  /// The console thread, and whether it waits for a Ctrl-C.
  nonisolated(unsafe) private static var worker = ThreadID.none
  nonisolated(unsafe) private static var workerWaiting = false
  nonisolated(unsafe) private static var interruptRequested = false
  nonisolated(unsafe) private static var started = false

  static func start(_ madt: MADTInfo) {
    guard KernelLog.consoleReady, let thread = Scheduler.spawn(name: "console", entry: { _ in ConsoleInput.workerLoop() }, argument: 0) else {
      return
    }
    worker = thread
    TrapTable.register(vector) { _ in ConsoleInput.interrupt() }
    IOAPIC.route(gsi: madt.gsi(forISA: 4), vector: UInt8(vector))
    Serial16550.com1.enableReceiveInterrupt()
    started = true
  }

  // MARK: - the interrupt: the line discipline

  private static func interrupt() {
    LocalAPIC.endOfInterrupt()
    while let byte = Serial16550.com1.read() { receive(byte) }
    Scheduler.preemptIdle()
  }

  private static func receive(_ byte: UInt8) {
    let port = Serial16550.com1
    switch byte {
    case 0x0d, 0x0a:  // Enter
      port.write(0x0d)
      port.write(0x0a)
      if lineLength < lineMaximum + 1 { line[lineLength] = 0x0a; lineLength += 1 }
      finishLine()
    case 0x7f, 0x08:  // backspace
      if lineLength > 0 {
        lineLength -= 1
        port.write(0x08); port.write(0x20); port.write(0x08)
      }
    case 0x03:  // Ctrl-C
      port.write(UInt8(ascii: "^")); port.write(UInt8(ascii: "C")); port.write(0x0d); port.write(0x0a)
      lineLength = 0
      interruptRequested = true
      if workerWaiting {
        workerWaiting = false
        Scheduler.makeReady(worker)
      }
    case 0x04:  // Ctrl-D
      if lineLength == 0 { endOfFile = true }
      finishLine()
    default:
      guard byte >= 0x20 && byte < 0x7f || byte == 0x09, lineLength < lineMaximum else { return }
      line[lineLength] = byte
      lineLength += 1
      port.write(byte)
    }
  }

  /// Moves the line into the queue (what does not fit is dropped) and wakes a reader.
  private static func finishLine() {
    for index in 0..<lineLength where queueCount < queueSize {
      queue[(queueHead + queueCount) % queueSize] = line[index]
      queueCount += 1
    }
    lineLength = 0
    while let reader = readers.pop() { Scheduler.makeReady(reader) }
  }

  // MARK: - reading (thread context)

  enum Taken { case bytes(Int), endOfFile, nothing }

  /// Interrupts masked: up to one line (ending in "\n") into `into`, at most `capacity`
  /// bytes; or end of file; or nothing yet.
  static func take(into destination: UnsafeMutableRawBufferPointer) -> Taken {
    if queueCount == 0 {
      if endOfFile {
        endOfFile = false
        return .endOfFile
      }
      return .nothing
    }
    var count = 0
    while count < destination.count && queueCount > 0 {
      let byte = queue[queueHead]
      destination[count] = byte
      count += 1
      queueHead = (queueHead + 1) % queueSize
      queueCount -= 1
      if byte == 0x0a { break }
    }
    return .bytes(count)
  }

  // MARK: - Ctrl-C

  private static func workerLoop() -> Never {
    while true {
      Interrupts.withDisabled {
        if !interruptRequested {
          workerWaiting = true
          Scheduler.blockCurrent()
        }
        interruptRequested = false
      }
      ConsoleObject.interruptForeground()
    }
  }
}

/// The console as a capability (handle kind console): the kernel gives one to init as
/// its handle 2, and init to the programs it runs. console_read reads lines;
/// console_foreground names the process Ctrl-C ends.
final class ConsoleObject: KernelObject {
  nonisolated(unsafe) private static var current: Unmanaged<ConsoleObject>? = nil
  private var foreground: Process? = nil
  private let lock = SpinLock()

  init() {
    super.init(kind: .console)
    Interrupts.withDisabled { Self.current = Unmanaged.passUnretained(self) }
  }

  deinit {
    Interrupts.withDisabled {
      if Self.current?.toOpaque() == Unmanaged.passUnretained(self).toOpaque() { Self.current = nil }
    }
  }

  func setForeground(_ process: Process?) {
    let old = lock.withLock { () -> Process? in
      defer { foreground = process }
      return foreground
    }
    withExtendedLifetime(old) {}
  }

  /// The console thread, after a Ctrl-C: ends the foreground process, if any.
  static func interruptForeground() {
    let console = Interrupts.withDisabled { current?.takeUnretainedValue() }
    guard let console else { return }
    let target = console.lock.withLock { () -> Process? in
      defer { console.foreground = nil }
      return console.foreground
    }
    target?.end(ProcessStatus(code: 0, reason: .killed, faultAddress: 0, faultIp: 0))
  }

  /// console_read's wait: blocks until a line or end of file, or the process ends.
  func read(into destination: UnsafeMutableRawBufferPointer) -> ConsoleInput.Taken {
    lock.withLock {
      while true {
        switch ConsoleInput.take(into: destination) {
        case .nothing:
          guard !UserThreads.mustStop else { return .nothing }
          ConsoleInput.readers.push(Scheduler.current)
          if !UserThreads.blockInterruptibly(on: self, releasing: lock) { return .nothing }
        case let taken:
          return taken
        }
      }
    }
  }

  override func interruptWaiter(_ thread: ThreadID) {
    lock.withLock {
      if ConsoleInput.readers.remove(thread) { UserThreads.wakeInterrupted(thread) }
    }
  }
}
