// pkgd's filesystem client: the generated fs client over IPC with a shared buffer of
// its own (paths at its start, data after 4 KiB), and the few whole-file and tree
// operations installing needs. Every failure is the fs status (or io_error when the
// call itself failed). When fsd is restarted, the client finds it again and attaches
// the same buffer; idempotent requests are retried, and an install in progress fails
// (its open files are gone) and is recovered from its staging at pkgd's next start.

typealias FsStatus = FsProtocol.Status
extension FsProtocol.Status: Error {}

final class FileStore {
  private var client: FsProtocol.Client<IpcTransport>
  private let buffer: UnsafeMutableRawPointer
  private static let size = 128 << 10
  private static let dataOffset = 4096

  init?(server: UInt32) {
    client = FsProtocol.Client(transport: IpcTransport(endpoint: server))
    let rights = Rights.read.union(.write).union(.map).union(.transfer).rawValue
    guard let shared = SharedBuffer.create(size: UInt64(Self.size)),
      let kept = try? Sys.handleDuplicate(handle: shared.handle, rights: rights),
      (try? client.attachBuffer(bufferSize: UInt64(Self.size), handles: MessageHandles(shared.handle))) != nil
    else { return nil }
    buffer = UnsafeMutableRawPointer(bitPattern: shared.address)!
    client.reconnect = { client in
      guard let endpoint = ServiceRegistry.reconnect("fs", closing: client.transport.endpoint),
        let again = try? Sys.handleDuplicate(handle: kept, rights: rights)
      else { return false }
      client.transport = IpcTransport(endpoint: endpoint)
      return (try? client.attachBuffer(bufferSize: UInt64(Self.size), handles: MessageHandles(again))) != nil
    }
  }

  private func status(_ failure: FsProtocol.Failure) -> FsStatus {
    if case .status(let status) = failure { return status }
    return .ioError
  }

  /// Puts `path` (and `second` right after it) at the buffer's start.
  private func put(_ path: [UInt8], _ second: [UInt8] = []) throws(FsStatus) -> UInt32 {
    guard path.count + second.count <= Self.dataOffset else { throw .nameTooLong }
    path.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: path.count) }
    if !second.isEmpty { second.withUnsafeBytes { (buffer + path.count).copyMemory(from: $0.baseAddress!, byteCount: second.count) } }
    return UInt32(path.count)
  }

  func stat(_ path: [UInt8]) throws(FsStatus) -> FsProtocol.StatReply {
    let length = try put(path)
    do { return try client.stat(pathOffset: 0, pathLen: length) } catch { throw status(error) }
  }

  func exists(_ path: [UInt8]) -> Bool { (try? stat(path)) != nil }

  func readFile(_ path: [UInt8], limit: UInt64) throws(FsStatus) -> [UInt8] {
    let length = try put(path)
    let opened: FsProtocol.OpenReply
    do { opened = try client.open(pathOffset: 0, pathLen: length, flags: .read, mode: 0) } catch { throw status(error) }
    defer { _ = try? client.close(file: opened.file) }
    guard opened.kind == .regular else { throw .isDirectory }
    guard opened.size <= limit else { throw .noSpace }
    var data = [UInt8](repeating: 0, count: Int(opened.size))
    var done = 0
    while done < data.count {
      let piece = min(Self.size - Self.dataOffset, data.count - done)
      let got: FsProtocol.ReadReply
      do {
        got = try client.read(file: opened.file, offset: UInt64(done), length: UInt32(piece), bufferOffset: UInt64(Self.dataOffset))
      } catch { throw status(error) }
      guard got.count > 0 else { break }
      data.withUnsafeMutableBytes { ($0.baseAddress! + done).copyMemory(from: buffer + Self.dataOffset, byteCount: Int(got.count)) }
      done += Int(got.count)
    }
    guard done == data.count else { throw .ioError }
    return data
  }

  /// Creates `path` (it must not exist) holding `source[range]`, with `mode`.
  func writeFile(_ path: [UInt8], _ source: [UInt8], _ range: Range<Int>, mode: UInt32) throws(FsStatus) {
    let length = try put(path)
    let opened: FsProtocol.OpenReply
    do {
      opened = try client.open(pathOffset: 0, pathLen: length, flags: [.write, .create, .exclusive], mode: mode)
    } catch { throw status(error) }
    defer { _ = try? client.close(file: opened.file) }
    var done = 0
    while done < range.count {
      let piece = min(Self.size - Self.dataOffset, range.count - done)
      let from = range.lowerBound + done
      source.withUnsafeBytes { (buffer + Self.dataOffset).copyMemory(from: $0.baseAddress! + from, byteCount: piece) }
      do {
        _ = try client.write(file: opened.file, offset: UInt64(done), length: UInt32(piece), bufferOffset: UInt64(Self.dataOffset))
      } catch { throw status(error) }
      done += piece
    }
  }

  func makeDirectory(_ path: [UInt8]) throws(FsStatus) {
    let length = try put(path)
    do { _ = try client.mkdir(pathOffset: 0, pathLen: length, mode: 0o755) } catch { throw status(error) }
  }

  /// mkdir that accepts a directory already there.
  func ensureDirectory(_ path: [UInt8]) throws(FsStatus) {
    do throws(FsStatus) {
      try makeDirectory(path)
    } catch {
      guard error == .exists, (try? stat(path))?.kind == .directory else { throw error }
    }
  }

  func rename(_ from: [UInt8], _ to: [UInt8]) throws(FsStatus) {
    let fromLength = try put(from, to)
    do { _ = try client.rename(pathsOffset: 0, pathsLen: fromLength + UInt32(to.count), fromLen: fromLength) } catch { throw status(error) }
  }

  /// The names in a directory (without "." and "..").
  func list(_ path: [UInt8]) throws(FsStatus) -> [(name: [UInt8], kind: FsProtocol.FileKind)] {
    let length = try put(path)
    let opened: FsProtocol.OpenReply
    do { opened = try client.open(pathOffset: 0, pathLen: length, flags: [.read, .directory], mode: 0) } catch { throw status(error) }
    defer { _ = try? client.close(file: opened.file) }
    var names: [(name: [UInt8], kind: FsProtocol.FileKind)] = []
    var cookie: UInt64 = 0
    repeat {
      let reply: FsProtocol.ReaddirReply
      do {
        reply = try client.readdir(file: opened.file, cookie: cookie, bufferOffset: UInt64(Self.dataOffset),
                                   bufferLen: UInt32(Self.size - Self.dataOffset))
      } catch { throw status(error) }
      var at = 0
      while at < Int(reply.bytes) {
        let record = (buffer + Self.dataOffset + at).loadUnaligned(as: FsProtocol.Dirent.self)
        let name = [UInt8](UnsafeRawBufferPointer(start: buffer + Self.dataOffset + at + MemoryLayout<FsProtocol.Dirent>.size,
                                                  count: Int(record.nameLen)))
        if name != [46] && name != [46, 46] { names.append((name, record.kind)) }
        guard record.recordLen > 0 else { break }
        at += Int(record.recordLen)
      }
      cookie = reply.nextCookie
    } while cookie != 0
    return names
  }

  /// Removes a file, or a directory and everything in it.
  func removeTree(_ path: [UInt8]) throws(FsStatus) {
    if (try? stat(path))?.kind == .directory {
      for (name, _) in try list(path) { try removeTree(path + [47] + name) }
    }
    let length = try put(path)
    do { _ = try client.unlink(pathOffset: 0, pathLen: length) } catch { throw status(error) }
  }

  func sync() throws(FsStatus) {
    do { _ = try client.sync() } catch { throw status(error) }
  }
}
