// The filesystem protocol (spec/fs.xml) over the mounted Ext2 filesystems: the root
// (block0) and, when a second disk is there, /media (block1, read-only media). A path
// under /media goes to that filesystem with the prefix taken off. Each client process
// attaches a shared buffer; paths and data travel through it by offset. Open files are a table
// of (client, inode) pairs; an id is the slot and a generation, so a stale or
// another client's id is bad_file. One client holds at most open_max of the table's
// slots (too_many_open past that), so no client can take every slot from the others.

struct OpenFile {
  var sender: UInt64 = 0  // 0: free
  var inode: UInt32 = 0
  var mount = 0
  var writable = false
  var generation: UInt64 = 0
}

struct FsService: FsProtocol.Server {
  /// The root filesystem first, then /media's.
  let mounts: [Ext2]
  static let mediaPrefix: StaticString = "/media"
  var sender: UInt64 = 0
  private var buffers = ClientBuffers(largest: 4 << 20, budget: 64 << 20)
  /// The endpoint fsd serves: where the notices of its clients' ends come.
  var endpoint: UInt32 = 0
  private var files = [OpenFile](repeating: OpenFile(), count: 256)
  private var uses: UInt64 = 0
  /// Most record bytes one readdir answers with (a directory entry's record is at most
  /// a block plus a header, so one always fits).
  static let readdirBytes = 64 << 10

  init(mounts: [Ext2]) { self.mounts = mounts }

  // MARK: - buffers and ids

  mutating func attachBuffer(_ request: FsProtocol.AttachBufferRequest, handles: inout MessageHandles,
                             reply: inout FsProtocol.AttachBufferReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    guard let shm = handles.take(0) else { return .badRequest }
    switch buffers.attach(shm, size: request.bufferSize, sender: sender, endpoint: endpoint) {
    case .refused: return .badRequest
    case .full: return .busy  // nothing is taken from a live client; its end frees room
    case .attached: return .ok
    }
  }

  /// The sender_ended notice: the client's files and buffer go. (attach watched the
  /// client; open needs the buffer for its path, so every client with files is watched.)
  mutating func clientEnded(_ client: UInt64) {
    for slot in 0..<files.count where files[slot].sender == client { files[slot] = OpenFile() }
    buffers.release(client)
  }

  /// [offset, offset + length) of the sender's buffer.
  private mutating func range(_ offset: UInt64, _ length: UInt64) throws(FsProtocol.Status) -> UnsafeMutableRawPointer {
    guard let pointer = buffers.range(sender, offset: offset, length: length) else { throw .badRequest }
    return pointer
  }

  private mutating func path(_ offset: UInt64, _ length: UInt32) throws(FsProtocol.Status) -> (mount: Int, path: UnsafeRawBufferPointer) {
    guard length <= FsProtocol.pathMax else { throw .nameTooLong }
    return Self.route(UnsafeRawBufferPointer(start: try range(offset, UInt64(length)), count: Int(length)), mounts: mounts.count)
  }

  /// Which filesystem a path is on, and the path within it.
  static func route(_ path: UnsafeRawBufferPointer, mounts: Int) -> (mount: Int, path: UnsafeRawBufferPointer) {
    let prefix = UnsafeRawBufferPointer(start: mediaPrefix.utf8Start, count: mediaPrefix.utf8CodeUnitCount)
    guard mounts > 1, path.count >= prefix.count, path[0..<prefix.count].elementsEqual(prefix) else { return (0, path) }
    if path.count == prefix.count { return (1, UnsafeRawBufferPointer(start: UnsafeRawPointer(("/" as StaticString).utf8Start), count: 1)) }
    guard path[prefix.count] == UInt8(ascii: "/") else { return (0, path) }
    return (1, UnsafeRawBufferPointer(rebasing: path[prefix.count...]))
  }

  private func file(_ id: UInt64, writing: Bool = false) throws(FsProtocol.Status) -> OpenFile {
    let slot = Int(id & 0xffff) - 1
    guard slot >= 0, slot < files.count, files[slot].sender == sender, sender != 0, files[slot].generation == id >> 16 else {
      throw .badFile
    }
    if writing && !files[slot].writable { throw .badFile }
    return files[slot]
  }

  // MARK: - ops

  mutating func open(_ request: FsProtocol.OpenRequest, handles: inout MessageHandles,
                     reply: inout FsProtocol.OpenReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let flags = request.flags
      guard flags.isKnown else { throw .badRequest }
      // The limits first: a refused open creates and truncates nothing.
      var held = 0
      for open in files where open.sender != 0 && ClientJob.same(open.sender, sender) { held += 1 }
      guard held < Int(FsProtocol.openMax), let slot = files.firstIndex(where: { $0.sender == 0 }) else { throw .tooManyOpen }
      let (mount, name) = try path(request.pathOffset, request.pathLen)
      let fs = mounts[mount]
      let writing = flags.contains(.write) || flags.contains(.truncate)
      if writing && fs.readOnly { throw .readOnly }
      var target: Inode
      switch Result(catching: { () throws(FsProtocol.Status) in try fs.resolve(name) }) {
      case .success(let found):
        if flags.contains(.create) && flags.contains(.exclusive) { throw .exists }
        target = found
      case .failure(let error):
        guard error == .notFound, flags.contains(.create) else { throw error }
        if fs.readOnly { throw .readOnly }
        var (parent, last) = try fs.resolveParent(name)
        target = try fs.createFile(in: &parent, last, mode: request.mode == 0 ? 0o644 : request.mode)
      }
      if flags.contains(.directory) && !target.isDirectory { throw .notDirectory }
      if writing && target.isDirectory { throw .isDirectory }
      if flags.contains(.truncate) && target.size > 0 { try fs.truncate(&target, to: 0) }
      uses += 1
      files[slot] = OpenFile(sender: sender, inode: target.number, mount: mount, writable: writing, generation: uses & 0xffff_ffff_ffff)
      reply.file = (files[slot].generation << 16) | UInt64(slot + 1)
      reply.size = target.size
      reply.kind = target.kind
    }
  }

  mutating func close(_ request: FsProtocol.CloseRequest, handles: inout MessageHandles,
                      reply: inout FsProtocol.CloseReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      _ = try file(request.file)
      files[Int(request.file & 0xffff) - 1] = OpenFile()
    }
  }

  mutating func read(_ request: FsProtocol.ReadRequest, handles: inout MessageHandles,
                     reply: inout FsProtocol.ReadReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let open = try file(request.file)
      let destination = try range(request.bufferOffset, UInt64(request.length))
      let fs = mounts[open.mount]
      let inode = try fs.inode(open.inode)
      if inode.isDirectory { throw .isDirectory }
      reply.count = UInt32(try fs.read(inode, offset: request.offset, length: Int(request.length), into: destination))
    }
  }

  mutating func write(_ request: FsProtocol.WriteRequest, handles: inout MessageHandles,
                      reply: inout FsProtocol.WriteReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let open = try file(request.file, writing: true)
      let fs = mounts[open.mount]
      if fs.readOnly { throw .readOnly }
      let source = try range(request.bufferOffset, UInt64(request.length))
      var inode = try fs.inode(open.inode)
      try fs.write(&inode, offset: request.offset, length: Int(request.length), from: source)
      reply.count = request.length
    }
  }

  mutating func stat(_ request: FsProtocol.StatRequest, handles: inout MessageHandles,
                     reply: inout FsProtocol.StatReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let (mount, name) = try path(request.pathOffset, request.pathLen)
      let inode = try mounts[mount].resolve(name)
      reply.inode = UInt64(inode.number)
      reply.size = inode.size
      reply.kind = inode.kind
      reply.mode = UInt32(inode.mode & 0o7777)
      reply.links = UInt32(inode.links)
      reply.mtime = UInt64(inode.mtime)
    }
  }

  mutating func readdir(_ request: FsProtocol.ReaddirRequest, handles: inout MessageHandles,
                        reply: inout FsProtocol.ReaddirReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let open = try file(request.file)
      let destination = try range(request.bufferOffset, UInt64(request.bufferLen))
      let fs = mounts[open.mount]
      let dir = try fs.inode(open.inode)
      guard dir.isDirectory else { throw .notDirectory }
      // Records are built in fsd's own memory and copied out once: the shared buffer
      // is the client's to rewrite at any moment, so nothing is ever read back from it.
      // At most readdirBytes per request (the cookie continues), which bounds that copy.
      let capacity = min(Int(request.bufferLen), Self.readdirBytes)
      let headerBytes = MemoryLayout<FsProtocol.Dirent>.size
      var found = [(number: UInt32, name: [UInt8])]()
      var written = 0
      var full = false
      let resume = request.cookie == 0 ? 0 : request.cookie - 1
      let stoppedAt = try fs.forEachEntry(dir, from: resume) { _, _, number, _, name in
        guard number != 0 else { return false }
        let record = (headerBytes + name.count + 7) & ~7
        guard written + record <= capacity else {
          full = true
          return true
        }
        found.append((number, Array(name)))
        written += record
        return false
      }
      if full && found.isEmpty { throw .badRequest }
      // Kinds come from the inodes (file_type bytes are a hint ext2 may lack); reading
      // them may evict the directory's blocks, hence the second pass over `found`.
      var records = [UInt8](repeating: 0, count: written)
      var offset = 0
      for entry in found {
        var header = FsProtocol.Dirent()
        header.inode = UInt64(entry.number)
        header.kind = try fs.inode(entry.number).kind
        header.nameLen = UInt16(entry.name.count)
        header.recordLen = UInt16((headerBytes + entry.name.count + 7) & ~7)
        records.withUnsafeMutableBytes { bytes in
          withUnsafeBytes(of: &header) { (bytes.baseAddress! + offset).copyMemory(from: $0.baseAddress!, byteCount: headerBytes) }
          for (index, byte) in entry.name.enumerated() { bytes[offset + headerBytes + index] = byte }
        }
        offset += Int(header.recordLen)
      }
      if written > 0 { records.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: written) } }
      let entries = UInt32(found.count)
      reply.nextCookie = full ? (stoppedAt ?? 0) + 1 : 0
      reply.bytes = UInt32(written)
      reply.entries = entries
    }
  }

  mutating func mkdir(_ request: FsProtocol.MkdirRequest, handles: inout MessageHandles,
                      reply: inout FsProtocol.MkdirReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let (mount, path) = try path(request.pathOffset, request.pathLen)
      let fs = mounts[mount]
      if fs.readOnly { throw .readOnly }
      var (parent, name) = try fs.resolveParent(path)
      if try fs.lookup(parent, name) != nil { throw .exists }
      try fs.makeDirectory(in: &parent, name, mode: request.mode == 0 ? 0o755 : request.mode)
    }
  }

  mutating func unlink(_ request: FsProtocol.UnlinkRequest, handles: inout MessageHandles,
                       reply: inout FsProtocol.UnlinkReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let (mount, name) = try path(request.pathOffset, request.pathLen)
      if mounts[mount].readOnly { throw .readOnly }
      if let freed = try mounts[mount].remove(name) { forget(freed, on: mount) }
    }
  }

  mutating func rename(_ request: FsProtocol.RenameRequest, handles: inout MessageHandles,
                       reply: inout FsProtocol.RenameReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      guard request.fromLen <= request.pathsLen, request.pathsLen <= 2 * FsProtocol.pathMax else { throw .badRequest }
      let both = try range(request.pathsOffset, UInt64(request.pathsLen))
      let from = UnsafeRawBufferPointer(start: both, count: Int(request.fromLen))
      let to = UnsafeRawBufferPointer(start: both + Int(request.fromLen), count: Int(request.pathsLen - request.fromLen))
      let source = Self.route(from, mounts: mounts.count), target = Self.route(to, mounts: mounts.count)
      guard source.mount == target.mount else { throw .badRequest }  // no moves between filesystems
      if mounts[source.mount].readOnly { throw .readOnly }
      if let freed = try mounts[source.mount].rename(source.path, target.path) { forget(freed, on: source.mount) }
    }
  }

  /// An inode whose last link went is free, and may be made again as anything: the
  /// files open on it are closed (their ids answer bad_file), or a write through one
  /// would land in whatever takes the inode next (the stateful fuzzer found a directory
  /// grown that way). Unlike POSIX, fsd does not keep an unlinked file until its last
  /// close: that would need orphan recovery after a crash.
  private mutating func forget(_ inode: UInt32, on mount: Int) {
    for slot in 0..<files.count where files[slot].sender != 0 && files[slot].mount == mount && files[slot].inode == inode {
      files[slot] = OpenFile()
    }
  }

  mutating func sync(_ request: FsProtocol.SyncRequest, handles: inout MessageHandles,
                     reply: inout FsProtocol.SyncReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in try syncAll() }
  }

  mutating func truncate(_ request: FsProtocol.TruncateRequest, handles: inout MessageHandles,
                         reply: inout FsProtocol.TruncateReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      let open = try file(request.file, writing: true)
      let fs = mounts[open.mount]
      var inode = try fs.inode(open.inode)
      if inode.isDirectory { throw .isDirectory }
      try fs.truncate(&inode, to: request.size)
    }
  }

  mutating func fsync(_ request: FsProtocol.FsyncRequest, handles: inout MessageHandles,
                      reply: inout FsProtocol.FsyncReply, replyHandles: inout MessageHandles) -> FsProtocol.Status {
    Self.run { () throws(FsProtocol.Status) in
      _ = try file(request.file)
      try syncAll()
    }
  }

  /// Every writable filesystem's dirty blocks to the disk, and the disks flushed.
  func syncAll() throws(FsProtocol.Status) {
    for fs in mounts where !fs.readOnly { try fs.cache.sync() }
  }

  /// Writes back dirty blocks (no flush): fsd does this whenever it is idle.
  func writeBack() {
    for fs in mounts where fs.cache.hasDirtyBlocks { try? fs.cache.writeBack() }
  }

  /// Runs an op body: its thrown status is the answer.
  private static func run(_ body: () throws(FsProtocol.Status) -> Void) -> FsProtocol.Status {
    do {
      try body()
      return .ok
    } catch {
      return error
    }
  }
}
