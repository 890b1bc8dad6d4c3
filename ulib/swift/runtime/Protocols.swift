// Naming the protocol an endpoint speaks (endpoint_label), for the kernel's IPC
// tracer: servers call this once on the endpoint they serve.

public enum Protocols {
  public static func label(_ endpoint: borrowing EndpointHandle, _ name: StaticString) {
    _ = try? Sys.endpointLabel(endpoint: endpoint, name: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
  }
}
