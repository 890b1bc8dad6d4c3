// ulib/generated/apus/protocol_fuzz.h: every protocol's ops for the protocol fuzzer
// (user/tests/protofuzz.c): each op's code, request size and the statuses its reply
// may carry — ok, the errors the spec declares for it, and bad_request, which the
// generated server answers for any malformed message (too short, unknown op) before
// an op's own checks run. An op that waits (spec: waits="true") is marked, so the
// fuzzer, which waits for every reply, can leave it out.

struct ProtocolFuzzEmitter {
  let specs: SpecSet

  func header() -> GeneratedFile {
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: specs.protocols.map(\.file)))
    out.line("/* The protocol fuzzer's table: per op, its code, request size and the statuses a reply")
    out.line(" * may carry (ok, its declared errors, and bad_request for malformed messages). */")
    out.line("#ifndef APUS_PROTOCOL_FUZZ_H")
    out.line("#define APUS_PROTOCOL_FUZZ_H")
    for spec in specs.protocols { out.line("#include <apus/\(spec.name).h>") }
    out.line()
    out.line("/* waits: the reply may wait for an outside event (a datagram, a timeout). */")
    out.line("struct apus_fuzz_op { uint32_t code; const char *name; uint32_t request_size; uint64_t statuses; int waits; };")
    out.line("/* bad_request: the status for a message no op accepts (unknown op, too short). */")
    out.line("struct apus_fuzz_protocol { const char *name; uint32_t op_count; const struct apus_fuzz_op *ops; uint32_t bad_request; };")
    out.line()
    for spec in specs.protocols {
      out.line("static const struct apus_fuzz_op apus_fuzz_\(spec.name)_ops[] = {")
      let badRequest = spec.statuses.first { $0.name == "bad_request" }?.code
      for op in spec.ops.sorted(by: { $0.code < $1.code }) {
        var mask: UInt64 = 1  // ok
        if let badRequest { mask |= 1 << UInt64(badRequest) }
        for use in op.errors {
          if let code = spec.statuses.first(where: { $0.name == use.name })?.code { mask |= 1 << UInt64(code) }
        }
        out.line("  {\(op.code), \"\(op.name)\", sizeof(struct \(GeneratedText.cPrefix)_\(spec.name)_\(op.name)_request), 0x\(String(mask, radix: 16))ull, \(op.waits ? 1 : 0)},")
      }
      out.line("};")
    }
    out.line()
    out.line("static const struct apus_fuzz_protocol apus_fuzz_protocols[] = {")
    for spec in specs.protocols {
      let badRequest = spec.statuses.first { $0.name == "bad_request" }?.code ?? 0
      out.line("  {\"\(spec.name)\", \(spec.ops.count), apus_fuzz_\(spec.name)_ops, \(badRequest)},")
    }
    out.line("};")
    out.line("#define APUS_FUZZ_PROTOCOL_COUNT \(specs.protocols.count)")
    out.line("#endif")
    return GeneratedFile(path: "ulib/generated/apus/protocol_fuzz.h", contents: out.text)
  }
}
