// The IPC tracer (`trace=ipc`): each message a call, send or reply carries, printed
// decoded with the generated tables (kernel/generated/ProtocolTrace.swift) when its
// endpoint says which protocol it speaks (endpoint_label): sender, protocol, op name,
// every field by name with enum and flag names, the status name on replies, and how
// many handles moved. Off, it costs one load per IPC call. docs/design.md has a sample.

enum IpcTrace {
  nonisolated(unsafe) static var enabled = false

  enum Direction { case call, send, reply }

  /// Prints one message: `bytes` as the protocol `label` lays it out.
  static func message(_ direction: Direction, pid: UInt32, endpointLabel label: UInt8, bytes: UnsafeRawBufferPointer, handles: Int) {
    var line: LogLine
    switch direction {
    case .call: line = "IPC call pid=\(pid)"
    case .send: line = "IPC send pid=\(pid)"
    case .reply: line = "IPC reply to pid=\(pid)"
    }
    guard label != 0, bytes.count >= 16 else {
      line.appendLiteral(" ")
      line.appendInterpolation(bytes.count)
      line.appendLiteral(" bytes")
      if handles > 0 { line.appendLiteral(" handles="); line.appendInterpolation(handles) }
      kprint(line)
      return
    }
    let op = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)
    let status = bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    let id = bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
    line.appendLiteral(" ")
    line.appendInterpolation(ProtocolTrace.name(label))
    line.appendLiteral(".")
    if let name = ProtocolTrace.op(label, op) { line.appendInterpolation(name) } else { line.appendLiteral("op"); line.appendInterpolation(op) }
    line.appendLiteral(" id=")
    line.appendInterpolation(id)
    let isReply = direction == .reply
    if isReply {
      line.appendLiteral(" status=")
      if let name = ProtocolTrace.status(label, status) { line.appendInterpolation(name) } else { line.appendInterpolation(status) }
    }
    var index = 0
    while let field = ProtocolTrace.field(label, op, reply: isReply, index) {
      index += 1
      guard field.offset + field.size <= bytes.count else { break }
      line.appendLiteral(" ")
      line.appendInterpolation(field.name)
      line.appendLiteral("=")
      var value: UInt64 = 0
      if field.size <= 8 {
        for byte in 0..<field.size { value |= UInt64(bytes[field.offset + byte]) << (8 * UInt64(byte)) }
      }
      switch field.format {
      case .unsigned: line.appendInterpolation(value)
      case .hex: line.appendLiteral("0x"); line.appendInterpolation(hex: value)
      case .enumeration:
        if let name = ProtocolTrace.valueName(label, type: field.type, value) { line.appendInterpolation(name) } else { line.appendInterpolation(value) }
      case .flags:
        if value == 0 { line.appendLiteral("0") }
        var first = true
        for bit in 0..<64 where value & (1 << UInt64(bit)) != 0 {
          if !first { line.appendLiteral("|") }
          first = false
          if let name = ProtocolTrace.valueName(label, type: field.type, UInt64(bit)) { line.appendInterpolation(name) } else { line.appendLiteral("bit"); line.appendInterpolation(bit) }
        }
      case .bytes:
        line.appendLiteral("\"")
        line.appendInterpolation(escaping: UnsafeRawBufferPointer(rebasing: bytes[field.offset..<(field.offset + field.size)]).prefix { $0 != 0 })
        line.appendLiteral("\"")
      }
    }
    if handles > 0 { line.appendLiteral(" handles="); line.appendInterpolation(handles) }
    kprint(line)
  }

  /// Copies up to 240 bytes of a message from user memory and prints it.
  static func message(_ direction: Direction, pid: UInt32, endpointLabel label: UInt8, from address: UInt64, length: UInt64, handles: Int) {
    var copy = InlineArray<240, UInt8>(repeating: 0)
    let count = Int(min(length, 240))
    let copied: Bool = withUnsafeMutableBytes(of: &copy) { bytes in
      do throws(AbiError) {
        try UserMemory.copyIn(from: address, into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count]))
        return true
      } catch {
        return false
      }
    }
    guard copied else { return }
    withUnsafeBytes(of: &copy) { message(direction, pid: pid, endpointLabel: label, bytes: UnsafeRawBufferPointer(rebasing: $0[0..<count]), handles: handles) }
  }
}
