// Every language backend is built here, because an untested backend rots (seL4's Rust
// stubs did): the C headers compile pedantically for the guest, the stubs assemble,
// the Swift bindings compile in Embedded mode for the guest, a kernel that lacks one
// handler does not compile, and the protocol client and server really talk.
import AbigenCore
import Foundation
import Testing

@Suite(.serialized) struct CompileTests {
  static let guest = "x86_64-unknown-none-elf"
  static let embedded = ["-target", guest, "-enable-experimental-feature", "Embedded", "-wmo", "-parse-as-library", "-Osize"]

  let files: [GeneratedFile]
  init() throws { files = Generator.outputs(for: try repositorySpecs()) }

  @Test func cHeadersCompileWithWerrorPedantic() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let headers = files.filter { $0.path.hasSuffix(".h") }
    for header in headers { try folder.write("include/apus/\(header.path.split(separator: "/").last!)", header.contents) }
    // Each header alone, then all together, then a program that uses them.
    var sources = headers.map { "#include <apus/\($0.path.split(separator: "/").last!)>\n" }
    sources.append(sources.joined())
    sources.append("""
      #include <apus/syscall.h>
      #include <apus/block.h>
      int use(void) {
          struct apus_process_status status = {0};
          struct apus_block_read_request request = {{APUS_BLOCK_OP_READ, 0, 1}, 0, 8, APUS_BLOCK_REQUEST_FLAGS_FUA, 0};
          int64_t waited = apus_process_wait(1, &status);
          return (int)(waited + request.count + (int64_t)sizeof(status) + APUS_ERR_FAULT);
      }
      """)
    for (index, source) in sources.enumerated() {
      try folder.write("tu\(index).c", source)
      let run = try runTool("clang", ["--target=\(Self.guest)", "-ffreestanding", "-std=c11", "-Wall", "-Wextra", "-Werror",
                                      "-pedantic", "-I", "\(folder.path)/include", "-c", "\(folder.path)/tu\(index).c", "-o", "\(folder.path)/tu\(index).o"])
      #expect(run.status == 0, "\(source)\n\(run.output)")
    }
  }

  @Test func asmStubsAssembleWithOneSymbolPerCall() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try folder.write("stubs.S", generated(files, "ulib/generated/syscall_stubs.S"))
    let assemble = try runTool("clang", ["--target=\(Self.guest)", "-c", "\(folder.path)/stubs.S", "-o", "\(folder.path)/stubs.o"])
    #expect(assemble.status == 0, "\(assemble.output)")
    let symbols = try runTool("llvm-nm", ["--defined-only", "\(folder.path)/stubs.o"]).output
    for call in try repositorySpecs().abi.syscalls {
      #expect(symbols.contains(" T apus_\(call.name)\n"), "apus_\(call.name) missing")
    }
  }

  @Test func swiftBindingsCompileInEmbeddedModeForTheGuest() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var sources: [String] = []
    for file in files where file.path.hasPrefix("ulib/swift/generated/") {
      try folder.write(file.path, file.contents)
      sources.append("\(folder.path)/\(file.path)")
    }
    let run = try runTool("swiftc", Self.embedded + ["-enable-experimental-feature", "Extern", "-module-name", "ApusUser", "-c"]
      + sources + [Repo.path("ulib/swift/runtime/MessageTransport.swift"), Repo.path("ulib/swift/runtime/IpcTransport.swift"),
                   "-o", "\(folder.path)/user.o"])
    #expect(run.status == 0, "\(run.output)")
  }

  /// The kernel must implement every call: a conformance with all handlers compiles,
  /// one with a handler missing does not.
  @Test func kernelWithoutEveryHandlerDoesNotCompile() throws {
    let dispatch = generated(files, "kernel/generated/SyscallDispatch.swift")
    let requirements = dispatch.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { $0.hasPrefix("mutating func ") }
    #expect(requirements.count == (try repositorySpecs().abi.syscalls.count) + 5)
    func conformance(dropping dropped: String?) -> String {
      let bodies = requirements.filter { $0 != dropped }.map { "  \($0) { fatalError() }" }
      return """
        struct TestKernel: SyscallHandlers {
          typealias Object = Int
        \(bodies.joined(separator: "\n"))
        }
        public func runOne(_ number: UInt64) -> UInt64 {
          var kernel = TestKernel()
          var registers = SyscallRegisters(number: number, arg0: 0, arg1: 0, arg2: 0, arg3: 0, arg4: 0, arg5: 0)
          return dispatchSyscall(&registers, to: &kernel)
        }
        """
    }
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    var sources = [Repo.path("kernel/syscall/UserPointer.swift")]
    for file in files where file.path.hasPrefix("kernel/generated/") {
      try folder.write(file.path, file.contents)
      sources.append("\(folder.path)/\(file.path)")
    }
    let flags = Self.embedded + ["-D", "DEBUG", "-I", Repo.path("arch/x86_64/shim/include"), "-module-name", "KernelTest", "-c"]

    try folder.write("Complete.swift", conformance(dropping: nil))
    let complete = try runTool("swiftc", flags + sources + ["\(folder.path)/Complete.swift", "-o", "\(folder.path)/complete.o"])
    #expect(complete.status == 0, "\(complete.output)")

    let dropped = requirements.first { $0.contains("func timeNow(") }
    try folder.write("Incomplete.swift", conformance(dropping: dropped))
    let incomplete = try runTool("swiftc", flags + sources + ["\(folder.path)/Incomplete.swift", "-o", "\(folder.path)/incomplete.o"])
    #expect(incomplete.status != 0)
    #expect(incomplete.output.contains("does not conform to protocol 'SyscallHandlers'"), "\(incomplete.output)")
  }

  /// The generated block client talks to the generated block server through a
  /// loopback transport, on the host; the Swift layout checks hold too.
  @Test func protocolClientAndServerRoundTripOnTheHost() throws {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    try folder.write("main.swift", """
      import Glibc
      struct Loopback<Server: BlockProtocol.Server>: MessageTransport {
        var server: Server
        mutating func call(_ request: UnsafeRawBufferPointer, handles: MessageHandles,
                           reply: UnsafeMutableRawBufferPointer, replyHandles: inout MessageHandles) throws(AbiError) -> Int {
          var incoming = handles
          return BlockProtocol.serve(&server, request: request, handles: &incoming, reply: reply, replyHandles: &replyHandles)
        }
      }
      typealias H = MessageHandles
      struct Disk: BlockProtocol.Server {
        var attached: UInt32 = 0
        mutating func info(_ request: BlockProtocol.InfoRequest, handles: inout H, reply: inout BlockProtocol.InfoReply, replyHandles: inout H) -> BlockProtocol.Status {
          reply.blockSize = 512; reply.blockCount = 2048; reply.generation = 7; return .ok
        }
        mutating func attachBuffer(_ request: BlockProtocol.AttachBufferRequest, handles: inout H, reply: inout BlockProtocol.AttachBufferReply, replyHandles: inout H) -> BlockProtocol.Status {
          // Keeps the buffer handle that came with the request; answers with a handle of its own.
          guard let buffer = handles.take(0) else { return .badRequest }
          attached = buffer
          replyHandles.append(buffer + 100)
          return .ok
        }
        mutating func read(_ request: BlockProtocol.ReadRequest, handles: inout H, reply: inout BlockProtocol.ReadReply, replyHandles: inout H) -> BlockProtocol.Status {
          guard request.count > 0, request.count <= BlockProtocol.maxBlocksPerRequest else { return .badRequest }
          guard request.lba + UInt64(request.count) <= 2048 else { return .outOfRange }
          reply.count = request.count
          return .ok
        }
        mutating func write(_ request: BlockProtocol.WriteRequest, handles: inout H, reply: inout BlockProtocol.WriteReply, replyHandles: inout H) -> BlockProtocol.Status { .readOnly }
        mutating func flush(_ request: BlockProtocol.FlushRequest, handles: inout H, reply: inout BlockProtocol.FlushReply, replyHandles: inout H) -> BlockProtocol.Status { .ok }
      }
      func fail(_ what: String) -> Never { print("FAIL: " + what); exit(1) }
      var client = BlockProtocol.Client(transport: Loopback(server: Disk()))
      do {
        let info = try client.info()
        guard info.blockSize == 512, info.blockCount == 2048, info.generation == 7, info.header.id == 1 else { fail("info") }
        let read = try client.read(lba: 10, count: 4, flags: [.fua], bufferOffset: 0)
        guard read.count == 4, read.header.id == 2 else { fail("read") }
        // Handles travel both ways beside the bytes.
        _ = try client.attachBuffer(bufferSize: 4096, handles: MessageHandles(42))
        guard client.replyHandles.count == 1, client.replyHandles[0] == 142 else { fail("handles") }
        do { _ = try client.attachBuffer(bufferSize: 4096); fail("attach without a handle accepted") }
        catch .status(let status) { guard status == .badRequest else { fail("attach status") } }
      } catch { fail("unexpected \\(error)") }
      do { _ = try client.read(lba: 2047, count: 4, flags: [], bufferOffset: 0); fail("out of range accepted") }
      catch .status(let status) { guard status == .outOfRange else { fail("status \\(status.rawValue)") } }
      catch { fail("wrong failure") }
      do { _ = try client.write(lba: 0, count: 1, flags: [], bufferOffset: 0); fail("write accepted") }
      catch .status(let status) { guard status == .readOnly else { fail("write status") } }
      catch { fail("wrong failure") }
      // An unknown op and a truncated request are answered with badRequest.
      var disk = Disk()
      var reply = [UInt8](repeating: 0, count: 64)
      var unknown = MsgHeader(op: 99, status: 0, id: 5)
      var none = MessageHandles(), noReplyHandles = MessageHandles()
      let length = withUnsafeBytes(of: &unknown) { request in reply.withUnsafeMutableBytes { BlockProtocol.serve(&disk, request: request, handles: &none, reply: $0, replyHandles: &noReplyHandles) } }
      let answer = reply.withUnsafeBytes { $0.loadUnaligned(as: MsgHeader.self) }
      guard length == 16, answer.status == BlockProtocol.Status.badRequest.rawValue, answer.id == 5 else { fail("unknown op") }
      let short = [UInt8](repeating: 0, count: 8)
      let shortLength = short.withUnsafeBytes { request in reply.withUnsafeMutableBytes { BlockProtocol.serve(&disk, request: request, handles: &none, reply: $0, replyHandles: &noReplyHandles) } }
      guard shortLength == 16 else { fail("short request") }
      guard AbiLayout.verify(), BlockProtocol.Layout.verify(), FsProtocol.Layout.verify(), PkgProtocol.Layout.verify() else { fail("layout") }
      print("roundtrip ok")
      """)
    var sources = ["\(folder.path)/main.swift", Repo.path("ulib/swift/runtime/MessageTransport.swift")]
    for file in files where file.path.hasPrefix("ulib/swift/generated/") && !file.path.hasSuffix("Syscalls.swift") {
      try folder.write(file.path, file.contents)
      sources.append("\(folder.path)/\(file.path)")
    }
    let build = try runTool("swiftc", ["-module-name", "RoundTrip"] + sources + ["-o", "\(folder.path)/roundtrip"])
    #expect(build.status == 0, "\(build.output)")
    guard build.status == 0 else { return }
    let run = try runTool("\(folder.path)/roundtrip", [])
    #expect(run.status == 0 && run.output.contains("roundtrip ok"), "\(run.output)")
  }
}
