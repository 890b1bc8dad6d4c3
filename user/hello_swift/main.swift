// An Embedded Swift user program on the generated bindings: typed errors, buffers,
// a returned status struct and a noncopyable process handle that closes itself. It
// prints SWIFT-USER: hello only after every answer checked out.

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  let before = Sys.timeNow()
  let after = Sys.timeNow()
  guard after >= before else { return fail("time went backwards") }

  // A typed error: length 0 is invalid_argument.
  do {
    _ = try Sys.vmMap(addr: 0, len: 0, prot: [.read, .write], flags: [])
    return fail("vm_map of 0 bytes succeeded")
  } catch {
    guard error == .invalidArgument else { return fail("vm_map of 0 bytes: wrong error") }
  }

  // A child process through a noncopyable handle; its status comes back as a value.
  let path: StaticString = "tests/child"
  do {
    // A StaticString's bytes live as long as the program.
    let bytes = UnsafeBufferPointer(start: path.utf8Start, count: path.utf8CodeUnitCount)
    let child = try Sys.processSpawn(path: bytes, args: bytes)
    let status = try Sys.processWait(process: child)
    guard status.reason == .exited, status.code == 7 else { return fail("child ended wrong") }
  } catch {
    return fail("spawning tests/child failed")
  }

  // Swift's own runtime: a class, an array that grows, on memory from vm_map.
  final class Greeting {
    let words: [StaticString]
    init(_ words: [StaticString]) { self.words = words }
  }
  var numbers: [Int] = []
  for n in 0..<1000 { numbers.append(n) }
  let greeting = Greeting(["SWIFT-USER:", "hello"])
  guard numbers.reduce(0, +) == 499_500, greeting.words.count == 2 else { return fail("runtime check") }

  print("SWIFT-USER: hello")
  flushOutput()
  return 0
}

private func fail(_ why: StaticString) -> Int32 {
  print("SWIFT-USER: FAILED: ", terminator: "")
  print(why)
  flushOutput()
  return 1
}
