// How generated protocol clients and servers (ulib/swift/generated/*Protocol.swift)
// move messages. A message is a struct in C layout that starts with MsgHeader; it is
// sent as its bytes. The transport is anything that can make one request/reply
// exchange: IPC endpoints in the system (M4), a loopback in tests.

/// A request or reply struct of a generated protocol.
public protocol ProtocolMessage {
  init()
  var header: MsgHeader { get set }
}

public protocol MessageTransport {
  /// Sends `request` and waits for the reply, which it writes into `reply`.
  /// Returns the reply's length in bytes.
  mutating func call(_ request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) throws(AbiError) -> Int
}

extension MessageTransport {
  /// Sends a message and decodes the reply as `Reply`; nil when the reply is shorter
  /// than `Reply`.
  public mutating func exchange<Request: ProtocolMessage, Reply: ProtocolMessage>(
    _ request: Request, expecting: Reply.Type
  ) throws(AbiError) -> Reply? {
    var outgoing = request
    var incoming = Reply()
    let length = try withUnsafeBytes(of: &outgoing) { requestBytes throws(AbiError) in
      try withUnsafeMutableBytes(of: &incoming) { replyBytes throws(AbiError) in
        try call(requestBytes, reply: replyBytes)
      }
    }
    return length >= MemoryLayout<Reply>.size ? incoming : nil
  }
}

/// Byte-level encoding for generated servers.
public enum MessageCodec {
  /// The message at the start of `bytes`, or nil if `bytes` is too short.
  public static func decode<Message>(_ type: Message.Type, from bytes: UnsafeRawBufferPointer) -> Message? {
    guard bytes.count >= MemoryLayout<Message>.size else { return nil }
    return bytes.loadUnaligned(as: Message.self)
  }

  /// Writes `message` into `bytes`; returns its length, or 0 if it does not fit.
  public static func encode<Message>(_ message: Message, into bytes: UnsafeMutableRawBufferPointer) -> Int {
    let size = MemoryLayout<Message>.size
    guard bytes.count >= size else { return 0 }
    bytes.storeBytes(of: message, as: Message.self)
    return size
  }

  /// A reply of just a header with `status`, answering `request`.
  public static func reject(_ request: MsgHeader, status: UInt32, into bytes: UnsafeMutableRawBufferPointer) -> Int {
    encode(MsgHeader(op: request.op, status: status, id: request.id), into: bytes)
  }
}
