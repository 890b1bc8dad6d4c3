// Kernel symbol names for backtraces, from the boot module `kernel.sym` that the build
// writes (tools/mksyms.py) and GRUB loads beside the kernel. The module is read in
// place through the direct map and checked whole before use; a missing or malformed
// table only means unnamed addresses.
//
// Format (little-endian): "APUSSYM1", u32 count, u32 strings offset, then count
// entries of { u64 address, u32 name offset, u32 name length } sorted by address,
// then the names.

struct SymbolName {
  let name: SymbolBytes
  let offset: UInt64
}

/// A name inside the table, printed without copying.
struct SymbolBytes: Sequence {
  let start: UnsafePointer<UInt8>
  let count: Int
  func makeIterator() -> UnsafeBufferPointer<UInt8>.Iterator {
    UnsafeBufferPointer(start: start, count: count).makeIterator()
  }
}

extension LogLine {
  mutating func appendInterpolation(_ symbol: SymbolBytes) {
    appendInterpolation(escaping: symbol)
  }
}

enum KernelSymbols {
  static let moduleName: StaticString = "kernel.sym"
  private static let entrySize = 16
  private static let headerSize = 16
  nonisolated(unsafe) private static var table: UnsafeRawBufferPointer? = nil

  /// Finds and checks the symbol module; returns the number of symbols, or nil.
  @discardableResult
  static func load(_ boot: BootInfo) -> Int? {
    guard let module = boot.module(named: moduleName) else { return nil }
    let bytes = UnsafeRawBufferPointer(start: DirectMap.pointer(physical: module.start), count: Int(module.end - module.start))
    guard bytes.count >= headerSize, bytes.prefix(8).elementsEqual("APUSSYM1".utf8) else { return nil }
    let count = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    let strings = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
    guard count <= (bytes.count - headerSize) / entrySize, headerSize + count * entrySize <= strings,
      strings <= bytes.count
    else { return nil }
    var previous: UInt64 = 0
    for index in 0..<count {
      let entry = headerSize + index * entrySize
      let address = bytes.loadUnaligned(fromByteOffset: entry, as: UInt64.self)
      let offset = Int(bytes.loadUnaligned(fromByteOffset: entry + 8, as: UInt32.self))
      let length = Int(bytes.loadUnaligned(fromByteOffset: entry + 12, as: UInt32.self))
      guard address >= previous, strings + offset + length <= bytes.count else { return nil }
      previous = address
    }
    table = bytes
    kprint("SYMBOLS: \(count) kernel symbols from module \(moduleName)")
    return count
  }

  /// The symbol containing `address`: the last one at or below it.
  static func lookup(_ address: UInt64) -> SymbolName? {
    guard let table else { return nil }
    let count = Int(table.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
    let strings = Int(table.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
    var low = 0
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if table.loadUnaligned(fromByteOffset: headerSize + middle * entrySize, as: UInt64.self) <= address {
        low = middle + 1
      } else {
        high = middle
      }
    }
    guard low > 0 else { return nil }
    let entry = headerSize + (low - 1) * entrySize
    let start = table.loadUnaligned(fromByteOffset: entry, as: UInt64.self)
    let offset = Int(table.loadUnaligned(fromByteOffset: entry + 8, as: UInt32.self))
    let length = Int(table.loadUnaligned(fromByteOffset: entry + 12, as: UInt32.self))
    let name = SymbolBytes(start: table.baseAddress!.advanced(by: strings + offset).assumingMemoryBound(to: UInt8.self), count: length)
    return SymbolName(name: name, offset: address - start)
  }
}
