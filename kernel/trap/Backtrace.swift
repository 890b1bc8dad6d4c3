// A backtrace by walking the frame-pointer chain (every kernel function keeps rbp:
// Swift's default "frame-pointer"="all"). Each frame is checked to be mapped before it
// is read, so a corrupt chain ends the walk instead of faulting inside the fault
// report. Addresses are named from the symbol table boot module (KernelSymbols).

enum Backtrace {
  static let maximumDepth = 32

  static func print(rip: UInt64, rbp: UInt64) {
    line(0, rip)
    var frame = rbp
    var depth = 1
    while depth < maximumDepth, frame != 0, frame & 7 == 0, isReadable(frame), isReadable(frame + 8) {
      // SAFETY: both words were just checked to be mapped.
      let pointer = UnsafePointer<UInt64>(bitPattern: UInt(frame))!
      let returnAddress = pointer[1]
      if returnAddress == 0 { break }
      line(depth, returnAddress)
      let next = pointer[0]
      if next <= frame { break }  // stacks grow down; a chain must climb
      frame = next
      depth += 1
    }
  }

  private static func line(_ depth: Int, _ address: UInt64) {
    // A return address points after its call, which may be the next function's first
    // byte when the call was the last instruction (a call that does not return): name
    // the byte before it. Frame 0 is the faulting instruction itself.
    let probe = depth == 0 ? address : address - 1
    if let symbol = KernelSymbols.lookup(probe) {
      kprint("BACKTRACE: #\(depth) 0x\(hex: address) \(symbol.name)+0x\(hex: symbol.offset + address - probe)")
    } else {
      kprint("BACKTRACE: #\(depth) 0x\(hex: address)")
    }
  }

  private static func isReadable(_ address: UInt64) -> Bool {
    if KernelAddressSpace.tables.root == 0 { return true }  // boot tables: kernel image only
    return KernelAddressSpace.tables.translate(address) != nil
  }
}
