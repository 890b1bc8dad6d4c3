// A request answered later (ipc_reply_detach): a recv_from waiting for a datagram, a
// send_to waiting for ARP, a ping waiting for its echo. Its reply capability is a
// handle; answering closes it (the kernel's reply is one-shot).

struct DeferredReply {
  let handle: UInt32
  let op: UInt32
  let id: UInt64

  /// Takes the reply capability of the request being served; nil when it was not a
  /// call (nobody to answer later).
  static func detach(op: UInt32, id: UInt64) -> DeferredReply? {
    let detached = apus_ipc_reply_detach()
    guard detached > 0 else { return nil }
    return DeferredReply(handle: UInt32(detached), op: op, id: id)
  }

  /// Answers with `reply` (its header filled in here). False when it could not be sent.
  @discardableResult
  func answer<Reply: ProtocolMessage>(_ reply: inout Reply, status: UInt32) -> Bool {
    reply.header = MsgHeader(op: op, status: status, id: id)
    let result = withUnsafeBytes(of: &reply) { bytes in
      apus_ipc_reply(handle, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count), nil, 0)
    }
    // A caller that is gone is no error (the kernel drops the reply); anything else is
    // a bug worth a line.
    if result < 0 { print("NETD: reply to op \(op) id \(id) failed: error \(-result)") }
    return result >= 0
  }

  /// Closes the capability unanswered: its client ended, nobody waits for the answer.
  func drop() { _ = apus_handle_close(handle) }

  /// Answers with a `Reply` whose fields are zero: an error, or an op whose reply has
  /// no fields. (A whole reply even then: generated clients read a short reply as
  /// malformed.)
  @discardableResult
  func answer<Reply: ProtocolMessage>(_ type: Reply.Type, status: UInt32) -> Bool {
    var reply = Reply()
    return answer(&reply, status: status)
  }
}
