// blkdevd: the virtio-blk driver and block server. init starts one per disk with the
// registry as handle 1, the disk's device as handle 2 (read, map, interrupt, dma:
// nothing else of the machine) and handle 3 to say it is ready on, and the name to
// register (block0, ...) as its first argument. It brings the device up over the modern virtio PCI transport, binds the
// device's interrupt to its own endpoint, registers the name and serves the block
// protocol on that endpoint until it is stopped.
//
// Arguments: NAME [crash-after=N] (a test hook: dies inside a device request, from
// the N-th on, with requests in flight).

let deviceHandle: UInt32 = 2
let readyHandle: UInt32 = 3

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  guard argc >= 2, let argv, let nameArgument = argv[1] else {
    print("BLKDEVD: usage: blkdevd NAME [crash-after=N]")
    return 2
  }
  let name = UnsafeBufferPointer(start: UnsafeRawPointer(nameArgument).assumingMemoryBound(to: UInt8.self), count: Arguments.length(nameArgument))
  var crashAfter = 0
  if argc >= 3, let option = argv[2], let value = Arguments.value(of: "crash-after=", in: option) { crashAfter = value }

  let device = DeviceHandle(adopting: deviceHandle)
  guard let info = try? Sys.deviceInfo(device: device) else {
    print("BLKDEVD: handle 2 is not a device")
    return 1
  }
  let location = DeviceLocation(info)
  let transport: VirtioPCI
  let disk: VirtioBlock
  do {
    transport = try VirtioPCI(device: device, info: info)
    disk = try VirtioBlock(transport)
  } catch {
    print("BLK: \(location) \(error.explanation): refused")
    return 1
  }

  guard let endpoint = try? transport.serverEndpoint(serving: "block", interruptKey: 0) else {
    print("BLK: \(location): no endpoint with the device's interrupt")
    return 1
  }
  let capacity = disk.capacity
  print("BLK: found virtio-blk \(location) capacity=\(capacity) sectors (\(capacity * 512) bytes)\(disk.readOnly ? " read-only" : "")\(disk.canFlush ? " flush" : "") queue=\(disk.queue.size) slots=\(disk.slotCount)")

  var service = BlockService(device: disk, generation: Sys.timeNow() | 1, endpoint: endpoint.raw)
  service.crashAfter = crashAfter
  let added = ServiceRegistry.publish(name, serving: endpoint)
  guard added == .ok else {
    print("BLKDEVD: cannot register the name: status \(added.rawValue)")
    return 1
  }
  print("BLKDEVD: ready")
  StartHandshake.ready(on: readyHandle, server: "BLKDEVD")
  let stopped = IpcServer.run(endpoint: endpoint.raw) { received, request, handles, reply, replyHandles in
    if IpcRecvFlags(rawValue: received.flags).contains(.interrupt) {
      service.deviceInterrupted()
      return 0
    }
    if IpcRecvFlags(rawValue: received.flags).contains(.senderEnded) {
      service.clientEnded(received.sender)
      return 0
    }
    service.sender = received.sender
    return BlockProtocol.serve(&service, request: request, handles: &handles, reply: reply, replyHandles: &replyHandles)
  }
  print("BLKDEVD: stopped (error \(stopped.rawValue))")
  return 1
}

enum Arguments {
  /// The decimal number after `prefix` in `argument`, if it starts so.
  static func value(of prefix: StaticString, in argument: UnsafeMutablePointer<CChar>) -> Int? {
    let length = Arguments.length(argument)
    guard length > prefix.utf8CodeUnitCount else { return nil }
    var number = 0
    for index in 0..<length {
      let byte = UInt8(bitPattern: argument[index])
      if index < prefix.utf8CodeUnitCount {
        guard byte == prefix.utf8Start[index] else { return nil }
      } else {
        guard byte >= 48 && byte <= 57, number < 1_000_000_000 else { return nil }
        number = number * 10 + Int(byte - 48)
      }
    }
    return number
  }

  static func length(_ string: UnsafeMutablePointer<CChar>) -> Int {
    var count = 0
    while string[count] != 0 { count += 1 }
    return count
  }
}
