// The package protocol (spec/pkg.xml) over the store /pkg, through fsd. Install checks
// the archive completely (PackageCheck) before it writes, builds the package under
// /pkg/.staging/NAME, syncs, and renames it to /pkg/NAME; a package already there is
// first renamed aside to /pkg/.staging/NAME.old and removed after. Any failure removes
// the staging copy (and puts an old version back). Remove renames /pkg/NAME aside
// first, so a package is there whole or not at all. fsd's rename writes the new name
// before it drops the old one, so a crash can leave a package named twice, never not
// at all; `recover` finishes such a rename at the next start (docs/packages.md). Each installed package keeps its
// MANIFEST, which list and info read.

let store: [UInt8] = Array("/pkg".utf8)
let staging: [UInt8] = Array("/pkg/.staging".utf8)

struct PkgService: PkgProtocol.Server {
  let files: FileStore
  var sender: UInt64 = 0
  private var buffers = InlineArray<8, (sender: UInt64, address: UInt, size: UInt64)>(repeating: (0, 0, 0))
  private var nextBuffer = 0

  init(files: FileStore) { self.files = files }

  /// Leftovers of a crash: a half-built staging copy is removed; an old version set
  /// aside whose replacement never arrived is put back.
  func recover() {
    guard let leftovers = try? files.list(staging) else { return }
    // Half-built copies first, then versions set aside, then removals.
    let ordered = leftovers.map { $0.name }.sorted { Self.rank($0) < Self.rank($1) }
    for name in ordered {
      let path = staging + [47] + name
      let label = String(decoding: name, as: UTF8.self)
      if name.count > 4, name.suffix(4).elementsEqual(Array(".old".utf8)) {
        let installed = store + [47] + Array(name.dropLast(4))
        if !files.exists(installed) || sameInode(path, installed) {
          // The old version was being set aside: it goes back (a rename cut short is
          // finished by renaming it again).
          if (try? files.rename(path, installed)) != nil {
            print("PKGD: put back \(String(decoding: name.dropLast(4), as: UTF8.self)) after an interrupted replace")
            continue
          }
        }
      } else if !name.suffix(9).elementsEqual(Array(".removing".utf8)) {
        let installed = store + [47] + name
        if sameInode(path, installed), (try? files.rename(path, installed)) != nil {
          print("PKGD: finished installing \(label) (its last rename was cut short)")
          continue
        }
      }
      try? files.removeTree(path)
      print("PKGD: removed the leftover \(label) from staging")
    }
    try? files.sync()
  }

  private static func rank(_ name: [UInt8]) -> Int {
    name.suffix(4).elementsEqual(Array(".old".utf8)) ? 1 : name.suffix(9).elementsEqual(Array(".removing".utf8)) ? 2 : 0
  }

  /// Whether two paths name the same inode (a rename cut short between its writes).
  private func sameInode(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard let first = try? files.stat(a), let second = try? files.stat(b) else { return false }
    return first.inode == second.inode
  }

  // MARK: - buffers

  mutating func attachBuffer(_ request: PkgProtocol.AttachBufferRequest, handles: inout MessageHandles,
                             reply: inout PkgProtocol.AttachBufferReply, replyHandles: inout MessageHandles) -> PkgStatus {
    guard let shm = handles.take(0), let buffer = SharedBuffer.accept(shm, size: request.bufferSize, largest: 4 << 20) else { return .badRequest }
    _ = apus_handle_close(buffer.handle)  // the mapping keeps the object
    var slot = nextBuffer
    for index in 0..<8 where buffers[index].sender == sender { slot = index }
    if buffers[slot].sender != 0 { try? Sys.vmUnmap(addr: buffers[slot].address, len: buffers[slot].size) }
    if slot == nextBuffer { nextBuffer = (nextBuffer + 1) % 8 }
    buffers[slot] = (sender, buffer.address, buffer.mapped)
    return .ok
  }

  private func bytes(_ offset: UInt64, _ length: UInt32) throws(PkgStatus) -> [UInt8] {
    for index in 0..<8 where buffers[index].sender == sender && sender != 0 {
      guard offset <= buffers[index].size, UInt64(length) <= buffers[index].size - offset else { throw .badRequest }
      return [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: buffers[index].address + UInt(offset)), count: Int(length)))
    }
    throw .badRequest
  }

  private func output(_ offset: UInt64, _ length: UInt32) throws(PkgStatus) -> UnsafeMutableRawPointer {
    for index in 0..<8 where buffers[index].sender == sender && sender != 0 {
      guard offset <= buffers[index].size, UInt64(length) <= buffers[index].size - offset else { throw .badRequest }
      return UnsafeMutableRawPointer(bitPattern: buffers[index].address + UInt(offset))!
    }
    throw .badRequest
  }

  private static func storeStatus(_ status: FsStatus) -> PkgStatus {
    switch status {
    case .notFound: .notFound
    case .noSpace: .noSpace
    default: .ioError
    }
  }

  // MARK: - ops

  mutating func install(_ request: PkgProtocol.InstallRequest, handles: inout MessageHandles,
                        reply: inout PkgProtocol.InstallReply, replyHandles: inout MessageHandles) -> PkgStatus {
    do throws(PkgStatus) {
      guard request.flags.isKnown, request.pathLen >= 1 else { throw .badRequest }
      let path = try bytes(request.pathOffset, request.pathLen)
      let archive: [UInt8]
      do throws(FsStatus) {
        archive = try files.readFile(path, limit: UInt64(PackageCheck.maximumTotal + (1 << 20)))
      } catch {
        throw error == .notFound || error == .notDirectory ? .notFound : error == .noSpace ? .badArchive : .ioError
      }
      let package = try PackageCheck.check(archive)
      let installed = store + [47] + package.name
      if files.exists(installed) && !request.flags.contains(.replace) { throw .exists }
      try place(package, from: archive, at: installed)
      reply.package = entry(package.name, version: package.version, fileCount: package.files.count, bytes: package.totalBytes)
      print("PKGD: installed \(String(decoding: package.name, as: UTF8.self)) \(String(decoding: package.version, as: UTF8.self)) (\(package.files.count) files)")
      return .ok
    } catch {
      print("PKGD: install refused: status \(error.rawValue)")
      return error
    }
  }

  /// Writes the verified package under staging, then renames it into the store.
  private func place(_ package: VerifiedPackage, from archive: [UInt8], at installed: [UInt8]) throws(PkgStatus) {
    let building = staging + [47] + package.name
    let aside = building + Array(".old".utf8)
    do throws(FsStatus) {
      try files.ensureDirectory(store)
      try files.ensureDirectory(staging)
      if files.exists(building) { try files.removeTree(building) }
      if files.exists(aside) { try files.removeTree(aside) }
      try files.makeDirectory(building)
    } catch {
      throw Self.storeStatus(error)
    }
    do throws(FsStatus) {
      for file in package.files {
        // Each directory on the way, then the file.
        let parts = file.path.split(separator: 47)
        var directory = building
        for part in parts.dropLast() {
          directory += [47] + part
          try files.ensureDirectory(directory)
        }
        try files.writeFile(building + [47] + file.path, archive, file.offset..<(file.offset + file.size), mode: file.mode)
      }
      try files.writeFile(building + Array("/MANIFEST".utf8), archive, package.manifest, mode: 0o644)
      try files.sync()
      let replacing = files.exists(installed)
      if replacing { try files.rename(installed, aside) }
      do throws(FsStatus) {
        try files.rename(building, installed)
      } catch {
        if replacing { try? files.rename(aside, installed) }
        throw error
      }
      if replacing { try files.removeTree(aside) }
      try files.sync()
    } catch {
      try? files.removeTree(building)
      try? files.sync()
      throw Self.storeStatus(error)
    }
  }

  mutating func remove(_ request: PkgProtocol.RemoveRequest, handles: inout MessageHandles,
                       reply: inout PkgProtocol.RemoveReply, replyHandles: inout MessageHandles) -> PkgStatus {
    do throws(PkgStatus) {
      let name = try bytes(request.nameOffset, request.nameLen)
      guard PackageCheck.isValidName(name) else { throw .notFound }
      let installed = store + [47] + name
      guard files.exists(installed) else { throw .notFound }
      let removing = staging + [47] + name + Array(".removing".utf8)
      do throws(FsStatus) {
        try files.ensureDirectory(staging)
        try files.rename(installed, removing)
        try files.removeTree(removing)
        try files.sync()
      } catch {
        throw Self.storeStatus(error)
      }
      print("PKGD: removed \(String(decoding: name, as: UTF8.self))")
      return .ok
    } catch {
      return error
    }
  }

  mutating func list(_ request: PkgProtocol.ListRequest, handles: inout MessageHandles,
                     reply: inout PkgProtocol.ListReply, replyHandles: inout MessageHandles) -> PkgStatus {
    do throws(PkgStatus) {
      let destination = try output(request.bufferOffset, request.bufferLen)
      let names = ((try? files.list(store)) ?? []).filter { $0.kind == .directory && $0.name.first != 46 }.map { $0.name }.sorted { $0.lexicographicallyPrecedes($1) }
      let stride = MemoryLayout<PkgProtocol.PackageEntry>.size
      var written: UInt32 = 0
      var index = Int(request.first)
      while index < names.count, Int(written + 1) * stride <= Int(request.bufferLen) {
        var record = try describe(names[index])
        withUnsafeBytes(of: &record) { (destination + Int(written) * stride).copyMemory(from: $0.baseAddress!, byteCount: stride) }
        written += 1
        index += 1
      }
      reply.count = written
      reply.total = UInt32(names.count)
      return .ok
    } catch {
      return error
    }
  }

  mutating func info(_ request: PkgProtocol.InfoRequest, handles: inout MessageHandles,
                     reply: inout PkgProtocol.InfoReply, replyHandles: inout MessageHandles) -> PkgStatus {
    do throws(PkgStatus) {
      let name = try bytes(request.nameOffset, request.nameLen)
      guard PackageCheck.isValidName(name), files.exists(store + [47] + name) else { throw .notFound }
      reply.package = try describe(name)
      return .ok
    } catch {
      return error
    }
  }

  /// An installed package's record, from the MANIFEST it keeps.
  private func describe(_ name: [UInt8]) throws(PkgStatus) -> PkgProtocol.PackageEntry {
    let text: [UInt8]
    do { text = try files.readFile(store + [47] + name + Array("/MANIFEST".utf8), limit: 1 << 20) } catch { throw .ioError }
    let package = try PackageCheck.parseManifest(text)
    return entry(package.name, version: package.version, fileCount: package.files.count, bytes: package.totalBytes)
  }

  private func entry(_ name: [UInt8], version: [UInt8], fileCount: Int, bytes: Int) -> PkgProtocol.PackageEntry {
    var record = PkgProtocol.PackageEntry()
    for (index, byte) in name.prefix(64).enumerated() { record.name[index] = byte }
    for (index, byte) in version.prefix(32).enumerated() { record.version[index] = byte }
    record.fileCount = UInt32(fileCount)
    record.installedBytes = UInt64(bytes)
    return record
  }
}
