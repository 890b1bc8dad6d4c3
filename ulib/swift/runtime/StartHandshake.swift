// A server's side of init's start handshake (user/init/init.c): once it serves, it
// sends one message on the write-only endpoint init gave it, and closes it. If the
// server dies first, init's receive ends in peer_closed instead.

public enum StartHandshake {
  /// Tells init this server is ready, on handle `handle`; says so with `server`'s name
  /// if that fails.
  public static func ready(on handle: UInt32, server: StaticString) {
    let endpoint = EndpointHandle(adopting: handle)  // closed when this returns
    var note: UInt64 = 1
    let sent = withUnsafeBytes(of: &note) { bytes in
      Result { () throws(AbiError) in
        try Sys.ipcSend(endpoint: endpoint, msg: UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8),
                        handles: UnsafeBufferPointer(start: nil, count: 0))
      }
    }
    if case .failure(let error) = sent { print("\(server): cannot tell init it is ready (error \(error.rawValue))") }
  }
}
