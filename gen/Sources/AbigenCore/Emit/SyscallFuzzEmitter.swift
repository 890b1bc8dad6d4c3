// ulib/generated/apus/syscall_fuzz.h: every call described for the syscall fuzzer
// (user/tests/sysfuzz.c): what each argument is (so it can be generated well-typed or
// hostile), which calls block (so they get peers that answer), and the errors the spec
// lets each call return (so every answer can be checked against the spec).

struct SyscallFuzzEmitter {
  let abi: AbiSpec

  func header() -> GeneratedFile {
    let calls = abi.syscalls.sorted { $0.number < $1.number }
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: [abi.file]))
    out.line("/* The syscall fuzzer's table of ABI v\(abi.version): each call's arguments by role, whether it")
    out.line(" * blocks or never returns, and the errors the spec declares for it. */")
    out.line("#ifndef APUS_SYSCALL_FUZZ_H")
    out.line("#define APUS_SYSCALL_FUZZ_H")
    out.line("#include <apus/syscall.h>")
    out.line()
    out.line("enum apus_fuzz_role {")
    for (index, role) in ["SCALAR", "UADDR", "ENUM", "FLAGS", "HANDLE", "IN", "OUT", "INOUT"].enumerated() {
      out.line("  APUS_FUZZ_\(role) = \(index),")
    }
    out.line("};")
    out.line()
    out.line("struct apus_fuzz_arg {")
    out.line("  const char *name;")
    out.line("  uint8_t role;        /* enum apus_fuzz_role */")
    out.line("  int8_t length_arg;   /* pointers: the argument counting elements, or -1 for one */")
    out.line("  int8_t counts;       /* lengths: the pointer argument it counts, or -1 */")
    out.line("  uint8_t width;       /* scalars: bytes of the value */")
    out.line("  uint32_t element_size; /* pointers: bytes per element */")
    out.line("  uint32_t handle_kind;  /* handles: the kind needed, 0 for any */")
    out.line("  uint32_t rights;       /* handles: the rights needed */")
    out.line("  uint64_t known;        /* flags: the known bits; enums: one past the largest value */")
    out.line("};")
    out.line()
    out.line("struct apus_fuzz_call {")
    out.line("  uint32_t number;")
    out.line("  const char *name;")
    out.line("  uint8_t blocking, never_returns, returns_handle, arg_count;")
    out.line("  uint64_t errors; /* bit (1 << code) for each error the spec declares */")
    out.line("  struct apus_fuzz_arg args[6];")
    out.line("};")
    out.line()
    out.line("static const struct apus_fuzz_call apus_fuzz_calls[] = {")
    for call in calls {
      let shape = SyscallShape(call, in: abi)
      var mask: UInt64 = 0
      for use in call.errors {
        if let code = abi.errors.first(where: { $0.name == use.name })?.code { mask |= 1 << UInt64(code) }
      }
      let returnsHandle = call.returns?.typeName == SpecVocabulary.handle
      let head = "  {\(call.number), \"\(call.name)\", \(call.blocking ? 1 : 0), \(call.neverReturns ? 1 : 0), \(returnsHandle ? 1 : 0), \(shape.arguments.count), 0x\(String(mask, radix: 16))ull"
      if shape.arguments.isEmpty {
        out.line(head + ", {{0, 0, 0, 0, 0, 0, 0, 0, 0}}},")
        continue
      }
      out.line(head + ", {")
      for argument in shape.arguments { out.line("    \(describe(argument, in: shape)),") }
      out.line("  }},")
    }
    out.line("};")
    out.line("#define APUS_FUZZ_CALL_COUNT \(calls.count)")
    out.line("#endif")
    return GeneratedFile(path: "ulib/generated/apus/syscall_fuzz.h", contents: out.text)
  }

  private func describe(_ argument: ShapedArgument, in shape: SyscallShape) -> String {
    let index = { (name: String) -> Int in shape.arguments.firstIndex { $0.decl.name == name } ?? -1 }
    var role = "SCALAR", lengthArg = -1, counts = -1, width = 8, element = "0", kind = 0, rights: UInt64 = 0, known: UInt64 = 0
    if let pointer = argument.countsPointer { counts = index(pointer) }
    switch argument.role {
    case .scalar(let scalar):
      width = scalar.size
    case .userAddress:
      role = "UADDR"
    case .enumeration(let decl):
      role = "ENUM"
      width = decl.backing.size
      known = UInt64(truncatingIfNeeded: (decl.cases.map { $0.value }.max() ?? -1) + 1)
    case .flags(let decl):
      role = "FLAGS"
      width = decl.backing.size
      for flag in decl.flags { known |= 1 << UInt64(flag.bit) }
    case .handle(let handleKind, let needed):
      role = "HANDLE"
      width = 4
      kind = handleKind.flatMap { name in abi.handleKinds.first { $0.name == name }?.code } ?? 0
      for right in needed {
        if let bit = abi.rights.first(where: { $0.name == right })?.code { rights |= 1 << UInt64(bit) }
      }
    case .pointer(let direction, let elementType, let length):
      role = direction == .in ? "IN" : direction == .out ? "OUT" : "INOUT"
      if let length { lengthArg = index(length) }
      if let scalar = Scalar(rawValue: elementType) {
        element = "\(scalar.size)"
      } else {
        element = "sizeof(struct \(GeneratedText.cPrefix)_\(elementType))"
      }
    }
    return "{\"\(argument.decl.name)\", APUS_FUZZ_\(role), \(lengthArg), \(counts), \(width), \(element), \(kind), 0x\(String(rights, radix: 16)), 0x\(String(known, radix: 16))ull}"
  }
}
