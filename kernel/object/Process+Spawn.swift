// Starting a program (from the initrd, or an image a caller supplies) as a new process: the image loaded by ElfImage,
// a stack region at the top of user space with the argument block copied to its top,
// and one thread entering ring 3 at the image's entry with rdi/rsi naming the
// arguments. Anything that fails leaves nothing behind: the half-built process is
// released and its deinit frees what it held.

extension Process {
  /// Starts `path`; the caller gets the only reference outside the process's thread.
  /// `grants` become the child's handles 1, 2, ... in order.
  static func spawn<P: Collection<UInt8>, A: Collection<UInt8>>(
    path: P, arguments: A, grants: HandlesInFlight = HandlesInFlight(), by spawner: Spawner
  ) throws(AbiError) -> Process {
    guard let file = Initrd.find(path) else { throw .notFound }
    return try spawn(image: file.bytes, name: file.name, arguments: arguments, grants: grants, by: spawner)
  }

  /// Starts the ELF file in `image` (the initrd's, or the pages of a memory object a
  /// caller filled, read in place: ImageSource.swift), named `name` in reports.
  static func spawn<File: ImageSource, A: Collection<UInt8>>(
    image file: File, name: [UInt8], arguments: A, grants: HandlesInFlight, by spawner: Spawner
  ) throws(AbiError) -> Process {
    guard let process = make(name: name, spawner: spawner) else { throw .noMemory }
    for index in 0..<grants.count {
      // A fresh table has room for every grant: these are its first handles.
      if let object = grants[index].object { _ = process.installHandle(object, rights: grants[index].rights) }
    }
    let image = try ElfImage.load(file, into: process.space, name: name)
    guard let stack = MemoryObject.anonymous(pageCount: Int(UserLayout.stackPages)) else { throw .noMemory }
    let stackBottom = UserLayout.stackTop - UserLayout.stackPages * UserLayout.pageSize
    _ = try process.space.map(stack, .fixed(stackBottom), prot: [.read, .write])
    let argumentsAt = (UserLayout.stackTop - UInt64(arguments.count)) & ~15
    try UserMemory.write(Array(arguments), to: argumentsAt, in: process.space)
    let thread = try UserThreads.create(in: process, entry: image.entry, stack: argumentsAt - 16,
                                        arguments: (argumentsAt, UInt64(arguments.count)))
    Scheduler.makeReady(thread.id)
    // test=spawnwindow: let the child run first, as an ill-timed tick can.
    if TestHooks.active == .spawnWindow { Scheduler.yieldEvenIfIdle() }
    return process
  }
}
