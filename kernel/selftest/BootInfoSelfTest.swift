// test=bootinfo: feeds the Multiboot2 parser crafted tag lists — one valid, the rest
// each broken in one way — and checks it returns exactly the expected error for each.
// test=bootinfo-panic: hands a broken list to kmain's own boot-info path, which must
// panic with the parser's reason.

enum BootInfoSelfTest {
  private enum Expected {
    case accepted
    case rejected(BootInfoError)
  }

  static func run() {
    var cases = 0
    func expect(_ list: TagList, _ expected: Expected, _ name: StaticString) {
      cases += 1
      let outcome = list.withBytes { bytes in Result { () throws(BootInfoError) in try Multiboot2.parse(bytes) } }
      switch (outcome, expected) {
      case (.success(let info), .accepted):
        guard info.commandLine.elementsEqual("test=x".utf8), info.memoryMap.count == 2,
          info.memoryMap[1].kind == .reserved, info.modules.count == 1,
          info.modules[0].end == 0x3000
        else { kernelPanic(.selfCheckFailed, "bootinfo case \(name): fields parsed wrong") }
      case (.failure(let error), .rejected(let wanted)) where error == wanted:
        break
      case (.failure(let error), _):
        kernelPanic(.selfCheckFailed, "bootinfo case \(name): unexpected \(error.reason)")
      case (.success, .rejected):
        kernelPanic(.selfCheckFailed, "bootinfo case \(name): malformed list accepted")
      }
    }

    expect(.valid, .accepted, "valid")
    expect(TagList.valid.withTotalSize(12), .rejected(.badTotalSize(12)), "tiny total_size")
    expect(TagList.valid.withTotalSize(4096), .rejected(.badTotalSize(4096)), "total_size past buffer")
    expect(TagList().tag(type: 1, size: 4, payload: []).end(), .rejected(.tagTooSmall(offset: 8, size: 4)), "tag below header")
    expect(TagList().tag(type: 1, size: 900, payload: [0]).end(), .rejected(.tagOverruns(offset: 8, size: 900)), "tag overruns")
    expect(TagList().cmdline("abc"), .rejected(.missingEndTag), "no end tag")
    expect(TagList().tag(type: 1, size: 11, payload: [0x61, 0x62, 0x63]).end(), .rejected(.unterminatedString(tag: 1, offset: 8)), "unterminated string")
    expect(TagList().tag(type: 6, size: 16, payload: le32(20) + le32(0)).end(), .rejected(.badMemoryMapEntrySize(20)), "mmap entry size")
    expect(TagList().tag(type: 3, size: 17, payload: le32(0x5000) + le32(0x1000) + [0]).end(), .rejected(.badModuleRange(start: 0x5000, end: 0x1000)), "inverted module")
    expect(TagList().tag(type: 0, size: 16, payload: le32(0) + le32(0)), .rejected(.badEndTag(offset: 8, size: 16)), "fat end tag")
    kprint("BOOTINFO: parser ok cases=\(cases)")
  }

  /// Puts a malformed list in memory and passes its physical address to the same
  /// function kmain uses; never returns.
  static func panicThroughBootPath() -> Never {
    let list = TagList().tag(type: 1, size: 900, payload: [0]).end()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
    list.withBytes { buffer.copyMemory(from: $0) }
    let physical = KernelHeap.physicalAddress(of: buffer.baseAddress!)
    _ = loadBootInfo(magic: Multiboot2.bootloaderMagic, physical: physical)
    kernelPanic(.selfCheckFailed, "bootinfo-panic: a malformed list was accepted")
  }
}

private func le32(_ value: UInt32) -> [UInt8] {
  [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
}

/// Builds a Multiboot2 tag list byte by byte, padding each tag to 8 bytes.
private struct TagList {
  var bytes: [UInt8] = le32(0) + le32(0)

  static var valid: TagList {
    TagList()
      .cmdline("test=x")
      .tag(type: 6, size: 16 + 48, payload: le32(24) + le32(0)
        + le32(0) + le32(0) + le32(0x9f000) + le32(0) + le32(1) + le32(0)
        + le32(0xf0000) + le32(0) + le32(0x10000) + le32(0) + le32(77) + le32(0))
      .tag(type: 3, size: 8 + 8 + 5, payload: le32(0x2000) + le32(0x3000) + Array("init".utf8) + [0])
      .end()
  }

  func cmdline(_ text: StaticString) -> TagList {
    var payload: [UInt8] = []
    text.withUTF8Buffer { payload += $0 }
    payload.append(0)
    return tag(type: 1, size: UInt32(8 + payload.count), payload: payload)
  }

  func tag(type: UInt32, size: UInt32, payload: [UInt8]) -> TagList {
    var copy = self
    copy.bytes += le32(type) + le32(size) + payload
    while copy.bytes.count % 8 != 0 { copy.bytes.append(0) }
    return copy.withTotalSize(UInt32(copy.bytes.count))
  }

  func end() -> TagList { tag(type: 0, size: 8, payload: []) }

  func withTotalSize(_ size: UInt32) -> TagList {
    var copy = self
    let encoded = le32(size)
    for index in 0..<4 { copy.bytes[index] = encoded[index] }
    return copy
  }

  func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
    bytes.withUnsafeBytes(body)
  }
}
