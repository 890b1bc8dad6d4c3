// How generated protocol clients and servers (ulib/swift/generated/*Protocol.swift)
// move messages. A message is a struct in C layout that starts with MsgHeader; it is
// sent as its bytes, with up to four handles beside it. The transport is anything that
// can make one request/reply exchange: IPC calls in the system (IpcTransport.swift),
// a loopback in host tests.

/// A request or reply struct of a generated protocol.
public protocol ProtocolMessage {
  init()
  var header: MsgHeader { get set }
}

/// Handles that travel with one message, beside its bytes (at most ipc_handles_max:
/// four). A receiver takes the ones it keeps (`take`); whoever holds the message last
/// closes the rest.
public struct MessageHandles {
  public static let capacity = 4
  private var values: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
  public private(set) var count = 0

  public init() {}

  public init(_ handle: UInt32) { append(handle) }

  /// Adds a handle; false when four are already there.
  @discardableResult
  public mutating func append(_ handle: UInt32) -> Bool {
    guard count < Self.capacity else { return false }
    withUnsafeMutableBytes(of: &values) { $0.storeBytes(of: handle, toByteOffset: count * 4, as: UInt32.self) }
    count += 1
    return true
  }

  public subscript(_ index: Int) -> UInt32 {
    precondition(index >= 0 && index < count)
    return withUnsafeBytes(of: values) { $0.load(fromByteOffset: index * 4, as: UInt32.self) }
  }

  /// Takes the handle at `index` out (0 is left in its place): the taker owns it now.
  public mutating func take(_ index: Int) -> UInt32? {
    guard index >= 0 && index < count else { return nil }
    let handle = self[index]
    withUnsafeMutableBytes(of: &values) { $0.storeBytes(of: 0, toByteOffset: index * 4, as: UInt32.self) }
    return handle == 0 ? nil : handle
  }

  /// The four slots as memory, for a system call that reads or fills them; `filled`
  /// (when given) is how many the call stored.
  public mutating func withSlots<R>(_ body: (UnsafeMutablePointer<UInt32>) -> (result: R, filled: Int?)) -> R {
    let (result, filled) = withUnsafeMutableBytes(of: &values) { body($0.baseAddress!.assumingMemoryBound(to: UInt32.self)) }
    if let filled { count = min(max(filled, 0), Self.capacity) }
    return result
  }
}

public protocol MessageTransport {
  /// Sends `request` with `handles` (moved to the server) and waits for the reply,
  /// which it writes into `reply`, its handles into `replyHandles`. Returns the
  /// reply's length in bytes.
  mutating func call(_ request: UnsafeRawBufferPointer, handles: MessageHandles,
                     reply: UnsafeMutableRawBufferPointer, replyHandles: inout MessageHandles) throws(AbiError) -> Int
}

extension MessageTransport {
  /// Sends a message and decodes the reply as `Reply`; nil when the reply is shorter
  /// than `Reply`.
  public mutating func exchange<Request: ProtocolMessage, Reply: ProtocolMessage>(
    _ request: Request, handles: MessageHandles, expecting: Reply.Type, replyHandles: inout MessageHandles
  ) throws(AbiError) -> Reply? {
    var outgoing = request
    var incoming = Reply()
    let length = try withUnsafeBytes(of: &outgoing) { requestBytes throws(AbiError) in
      try withUnsafeMutableBytes(of: &incoming) { replyBytes throws(AbiError) in
        try call(requestBytes, handles: handles, reply: replyBytes, replyHandles: &replyHandles)
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
