// The service registry from Swift (spec/registry.xml; services/svcman serves it): a
// program init started holds the registry endpoint as handle 1. The C side has the
// same two calls in ulib/libc/registry.c.

public enum ServiceRegistry {
  public static let handle: UInt32 = 1

  /// The name's bytes as the protocol carries them; nil when it is empty or too long.

  /// Registers `name` (raw bytes, 1 to name_max) for `endpoint`, which moves to the
  /// registry (pass a write+transfer duplicate). Returns the protocol status.
  public static func add(_ name: UnsafeBufferPointer<UInt8>, endpoint: UInt32) -> RegistryProtocol.Status {
    guard name.count >= 1, name.count <= Int(RegistryProtocol.nameMax) else { return .badRequest }
    var bytes = InlineArray<48, UInt8>(repeating: 0)
    for index in 0..<name.count { bytes[index] = name[index] }
    var client = RegistryProtocol.Client(transport: IpcTransport(endpoint: handle))
    do {
      _ = try client.add(name: bytes, nameLen: UInt32(name.count), handles: MessageHandles(endpoint))
      return .ok
    } catch {
      if case .status(let status) = error { return status }
      return .busy
    }
  }

  /// Looks `name` up (waiting for it with `wait`): a write-only endpoint handle.
  public static func lookup(_ name: UnsafeBufferPointer<UInt8>, wait: Bool) -> UInt32? {
    guard name.count >= 1, name.count <= Int(RegistryProtocol.nameMax) else { return nil }
    var bytes = InlineArray<48, UInt8>(repeating: 0)
    for index in 0..<name.count { bytes[index] = name[index] }
    var client = RegistryProtocol.Client(transport: IpcTransport(endpoint: handle))
    guard (try? client.lookup(name: bytes, nameLen: UInt32(name.count), flags: wait ? .wait : [])) != nil else { return nil }
    var handles = client.replyHandles
    return handles.take(0)
  }

  /// A client's server went away (issue 16): waits until `name` is registered again
  /// (by the restarted server, or init's journal) and returns its endpoint, having
  /// closed `old`, the dead one's.
  public static func reconnect(_ name: StaticString, closing old: UInt32) -> UInt32? {
    guard let endpoint = lookup(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), wait: true) else { return nil }
    _ = apus_handle_close(old)
    return endpoint
  }

  /// A server registers `name` for the endpoint it serves on: the registry gets a
  /// write-only (and transferable) duplicate to hand out. Returns the protocol status.
  public static func publish(_ name: UnsafeBufferPointer<UInt8>, serving endpoint: borrowing EndpointHandle) -> RegistryProtocol.Status {
    guard let clientEnd = try? Sys.handleDuplicate(handle: endpoint.raw, rights: Rights.write.union(.transfer).rawValue) else { return .busy }
    return add(name, endpoint: clientEnd)
  }

  public static func publish(_ name: StaticString, serving endpoint: borrowing EndpointHandle) -> RegistryProtocol.Status {
    publish(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), serving: endpoint)
  }
}
