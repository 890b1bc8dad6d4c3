// ping: ICMP echo from the shell (/bin/ping), in Embedded Swift on the generated Swift
// client of spec/net.xml: netd sends the echo requests and times the replies.
//   ping ADDRESS [COUNT]   COUNT echoes (3 unless given), one a second at most

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  guard argc >= 2, let argv, let text = argv[1], let address = parseAddress(text) else {
    print("usage: ping ADDRESS [COUNT]")
    return 2
  }
  var count = 3
  if argc >= 3, let countText = argv[2] {
    count = 0
    var index = 0
    while countText[index] >= 48 && countText[index] <= 57 && count < 1000 {
      count = count * 10 + Int(countText[index] - 48)
      index += 1
    }
  }
  let name: StaticString = "net0"
  guard let endpoint = ServiceRegistry.lookup(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), wait: false) else {
    print("ping: no network server (net0)")
    return 1
  }
  var client = NetProtocol.Client(transport: IpcTransport(endpoint: endpoint))
  let size: UInt16 = 56
  var received = 0
  var fastest = UInt64.max
  var slowest: UInt64 = 0
  var total: UInt64 = 0
  print("PING: \(dotted(address)) with \(size) bytes of data")
  for sequence in 1...max(count, 1) {
    let started = Sys.timeNow()
    do {
      let reply = try client.ping(address: address, size: size, sequence: UInt16(truncatingIfNeeded: sequence), timeoutMs: 1000)
      received += 1
      fastest = min(fastest, reply.roundTripNs)
      slowest = max(slowest, reply.roundTripNs)
      total += reply.roundTripNs
      print("PING: reply from \(dotted(address)) seq=\(sequence) ttl=\(reply.ttl) time=\(micro(reply.roundTripNs)) us")
    } catch {
      print("PING: seq=\(sequence) \(explain(error))")
    }
    // One a second, like every ping, unless the answer took that long already.
    let elapsed = Sys.timeNow() - started
    if sequence < count && elapsed < 1_000_000_000 { sleep(nanoseconds: 1_000_000_000 - elapsed) }
  }
  if received > 0 {
    print("PING: \(count) sent, \(received) received, round trip min/avg/max = \(micro(fastest))/\(micro(total / UInt64(received)))/\(micro(slowest)) us")
  } else {
    print("PING: \(count) sent, 0 received")
  }
  return received == count ? 0 : 1
}

func explain(_ error: NetProtocol.Failure) -> String {
  switch error {
  case .status(let status) where status == .timedOut: "timed out"
  case .status(let status) where status == .hostUnreachable: "host unreachable"
  case .status(let status): "failed (status \(status.rawValue))"
  case .transport(let abi): "netd is gone (error \(abi.rawValue))"
  case .malformedReply: "malformed reply"
  }
}

/// Waits `nanoseconds` on a private endpoint's timer (there is no sleep call).
func sleep(nanoseconds: UInt64) {
  guard let timer = try? Sys.endpointCreate(), let keep = try? Sys.handleDuplicate(handle: timer.raw, rights: Rights.write.rawValue)
  else { return }
  _ = try? Sys.endpointTimer(endpoint: timer, key: 0, deadline: Sys.timeNow() + nanoseconds)
  var bits: UInt64 = 0
  _ = withUnsafeMutableBytes(of: &bits) { bytes in
    try? Sys.ipcRecv(endpoint: timer, buf: UnsafeMutableBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 8),
                     handles: UnsafeMutableBufferPointer(start: nil, count: 0))
  }
  _ = apus_handle_close(keep)  // a receive waits only while a writer exists
}

func micro(_ nanoseconds: UInt64) -> String {
  String(nanoseconds / 1000) + "." + String(nanoseconds / 100 % 10)
}

func dotted(_ address: UInt32) -> String {
  String(address >> 24) + "." + String(address >> 16 & 255) + "." + String(address >> 8 & 255) + "." + String(address & 255)
}

func parseAddress(_ text: UnsafeMutablePointer<CChar>) -> UInt32? {
  var address: UInt32 = 0
  var index = 0
  for part in 0..<4 {
    var value: UInt32 = 0
    var digits = 0
    while text[index] >= 48 && text[index] <= 57 && digits < 3 {
      value = value * 10 + UInt32(text[index] - 48)
      index += 1
      digits += 1
    }
    guard digits > 0, value <= 255 else { return nil }
    address = address << 8 | value
    if part < 3 {
      guard text[index] == 46 else { return nil }
      index += 1
    }
  }
  return text[index] == 0 ? address : nil
}
