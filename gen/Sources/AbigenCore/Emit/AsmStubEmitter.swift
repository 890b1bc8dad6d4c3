// ulib/generated/syscall_stubs.S: one function per call that loads the call number,
// moves the fourth argument from rcx to r10 (syscall overwrites rcx), and executes
// `syscall`. The C prototypes are in apus/syscall.h.

struct AsmStubEmitter {
  let abi: AbiSpec

  func stubs() -> GeneratedFile {
    let out = SourceWriter(indent: "    ")
    out.lines(GeneratedText.slashMarker(for: [abi.file]))
    out.line("//")
    out.doc("User-space system call stubs, ABI v\(abi.version). Calling convention: number in rax, arguments in rdi, rsi, rdx, r10, r8, r9; result in rax (negative: -error). rcx and r11 are clobbered by syscall, as the C ABI allows.", style: .asm)
    out.line()
    out.line(".text")
    for call in abi.syscalls.sorted(by: { $0.number < $1.number }) {
      let symbol = "\(GeneratedText.cPrefix)_\(call.name)"
      out.line()
      out.line(".global \(symbol)")
      out.line(".type \(symbol), @function")
      out.line("\(symbol):")
      out.indented {
        out.line("movl $\(call.number), %eax")
        if call.arguments.count >= 4 {
          out.line("movq %rcx, %r10")
        }
        out.line("syscall")
        out.line(call.neverReturns ? "ud2                 // \(call.name) does not return" : "ret")
      }
      out.line(".size \(symbol), . - \(symbol)")
    }
    out.line()
    out.line(".section .note.GNU-stack, \"\", @progbits")
    return GeneratedFile(path: "ulib/generated/syscall_stubs.S", contents: out.text)
  }
}
