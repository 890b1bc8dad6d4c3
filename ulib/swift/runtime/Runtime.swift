// What Embedded Swift needs from a user program's environment, built on the generated
// bindings: console output for print(), random bytes for hash seeds. Memory
// (posix_memalign, free) and the stack protector come from the C libc in ulib/libc.

/// print() writes one character at a time; lines go out in one debug_write each.
nonisolated(unsafe) private var line = InlineArray<256, UInt8>(repeating: 0)
nonisolated(unsafe) private var lineLength = 0

@_cdecl("putchar")
public func putchar(_ character: Int32) -> Int32 {
  line[lineLength] = UInt8(truncatingIfNeeded: character)
  lineLength += 1
  if character == 10 || lineLength == 256 { flushOutput() }
  return character
}

/// Writes whatever print() has buffered.
public func flushOutput() {
  guard lineLength > 0 else { return }
  let count = lineLength
  lineLength = 0
  withUnsafeBytes(of: &line) { bytes in
    _ = try? Sys.debugWrite(buf: UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count))
  }
}

/// Hash seeds only: the clock, stirred. Not for secrets.
@_cdecl("arc4random_buf")
public func arc4random_buf(_ buffer: UnsafeMutableRawPointer, _ count: Int) {
  var state = Sys.timeNow() | 1
  for index in 0..<count {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    buffer.storeBytes(of: UInt8(truncatingIfNeeded: state), toByteOffset: index, as: UInt8.self)
  }
}
