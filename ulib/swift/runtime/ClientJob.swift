// Whose share a request counts against. ipc_recv_info.sender carries the sending
// process's job above its process id (spec/syscall_v0.xml): a program init started and
// everything it started are one job. Per-client limits count by job, so a program
// cannot multiply its share by starting children; what a server keeps is still freed
// per process, at that process's sender_ended notice.

public enum ClientJob {
  /// The job of `sender`.
  @inline(__always)
  public static func of(_ sender: UInt64) -> UInt64 { sender >> 32 }

  /// Whether two senders count as one client.
  @inline(__always)
  public static func same(_ a: UInt64, _ b: UInt64) -> Bool { a >> 32 == b >> 32 }
}
