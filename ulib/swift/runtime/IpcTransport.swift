// Generated protocol clients and servers over real IPC: IpcTransport makes each
// request/reply exchange one ipc_call (the request and its handles go out, the reply
// and its handles come back; the kernel's fast path when the server waits), and
// IpcServer runs a server loop on ipc_reply_recv, which answers one call and takes
// the next in a single system call. Guest only (the host tests use a loopback).

/// A MessageTransport over an endpoint handle with the write right.
public struct IpcTransport: MessageTransport {
  public let endpoint: UInt32

  public init(endpoint: UInt32) { self.endpoint = endpoint }

  public mutating func call(_ request: UnsafeRawBufferPointer, handles: MessageHandles,
                            reply: UnsafeMutableRawBufferPointer, replyHandles: inout MessageHandles) throws(AbiError) -> Int {
    var sent = handles
    var info = IpcRecvInfo()
    var args = IpcCallArgs()
    args.msg = UInt64(UInt(bitPattern: request.baseAddress))
    args.len = UInt64(request.count)
    args.handleCount = UInt64(handles.count)
    args.reply = UInt64(UInt(bitPattern: reply.baseAddress))
    args.replyCap = UInt64(reply.count)
    args.replyHandleCap = UInt64(MessageHandles.capacity)
    let endpoint = self.endpoint
    let result = sent.withSlots { sentSlots -> (result: Int64, filled: Int?) in
      args.handles = UInt64(UInt(bitPattern: sentSlots))
      let value = replyHandles.withSlots { replySlots -> (result: Int64, filled: Int?) in
        args.replyHandles = UInt64(UInt(bitPattern: replySlots))
        let value = withUnsafePointer(to: &args) { argsPointer in
          withUnsafeMutablePointer(to: &info) { apus_ipc_call(endpoint, UnsafeRawPointer(argsPointer), UnsafeMutableRawPointer($0)) }
        }
        return (value, value >= 0 ? Int(info.handleCount) : 0)
      }
      return (value, nil)
    }
    if result < 0 { throw AbiError(rawValue: UInt32(truncatingIfNeeded: -result)) }
    return Int(result)
  }
}

/// A server loop over an endpoint handle with the read right.
public enum IpcServer {
  /// Answers calls until the endpoint has no writer left: each request is handed to
  /// `serve` (a generated protocol's `serve`, usually) with what the kernel said of it
  /// (IpcRecvInfo: flags, sender), and its reply goes back with the next receive.
  /// Request handles `serve` leaves are closed. Notices (interrupts, sender_ended) come
  /// to `serve` too; what it returns for them goes nowhere, since no call is held.
  /// One message it cannot take (its handles do not fit this process's table) is
  /// dropped (ipc_discard: its caller gets peer_closed) and the loop goes on: one bad
  /// client must not stop a server. Returns why it stopped.
  public static func run(
    endpoint: UInt32,
    _ serve: (IpcRecvInfo, UnsafeRawBufferPointer, inout MessageHandles, UnsafeMutableRawBufferPointer, inout MessageHandles) -> Int
  ) -> AbiError {
    var request = InlineArray<4096, UInt8>(repeating: 0)
    var reply = InlineArray<4096, UInt8>(repeating: 0)
    var handles = MessageHandles()
    var replyHandles = MessageHandles()
    var replyLength = 0
    var dropped = 0
    while true {
      var info = IpcRecvInfo()
      let received: Int64 = withUnsafeMutableBytes(of: &request) { requestBytes in
        withUnsafeMutableBytes(of: &reply) { replyBytes in
          handles.withSlots { handleSlots -> (result: Int64, filled: Int?) in
            let replyCount = replyHandles.count
            let value = replyHandles.withSlots { replySlots -> (result: Int64, filled: Int?) in
              var args = IpcReplyRecvArgs()
              args.reply = UInt64(UInt(bitPattern: replyBytes.baseAddress))
              args.replyLen = UInt64(replyLength)
              args.replyHandles = UInt64(UInt(bitPattern: replySlots))
              args.replyHandleCount = UInt64(replyCount)
              args.buf = UInt64(UInt(bitPattern: requestBytes.baseAddress))
              args.cap = UInt64(requestBytes.count)
              args.handles = UInt64(UInt(bitPattern: handleSlots))
              args.handleCap = UInt64(MessageHandles.capacity)
              let value = withUnsafePointer(to: &args) { argsPointer in
                withUnsafeMutablePointer(to: &info) { apus_ipc_reply_recv(endpoint, UnsafeRawPointer(argsPointer), UnsafeMutableRawPointer($0)) }
              }
              return (value, 0)  // the reply's handles went out with it
            }
            return (value, value >= 0 ? Int(info.handleCount) : 0)
          }
        }
      }
      if received < 0 {
        replyLength = 0  // the reply went out (or its caller was gone) before the receive failed
        let error = AbiError(rawValue: UInt32(truncatingIfNeeded: -received))
        guard error == .bufferTooSmall, apus_ipc_discard(endpoint) == 0 else { return error }
        dropped += 1
        print("IPC: dropped a message whose handles do not fit (\(dropped) so far)")
        continue
      }
      replyLength = withUnsafeBytes(of: &request) { requestBytes in
        withUnsafeMutableBytes(of: &reply) { replyBytes in
          serve(info, UnsafeRawBufferPointer(rebasing: requestBytes[0..<Int(received)]), &handles, replyBytes, &replyHandles)
        }
      }
      for index in 0..<handles.count {
        if let leftover = handles.take(index) { _ = apus_handle_close(leftover) }
      }
      handles = MessageHandles()
    }
  }
}
