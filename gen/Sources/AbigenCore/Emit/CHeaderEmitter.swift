// ulib/generated/apus/*.h: the C view of the ABI (syscall.h) and of each protocol
// (block.h, fs.h, pkg.h). Every struct is followed by _Static_asserts on its size,
// alignment and each field's offset, so a C compiler that lays it out differently
// from abigen's model refuses to build.

struct CHeaderEmitter {
  let specs: SpecSet

  func syscallHeader() -> GeneratedFile {
    let abi = specs.abi
    let scope = NameScope.abi(abi)
    let out = SourceWriter(indent: "    ")
    opening(out, file: abi.file, guardName: "APUS_SYSCALL_H",
            title: "apus/syscall.h: the Apus system-call ABI v\(abi.version) for C programs.", doc: abi.doc)
    out.line("#include <stddef.h>")
    out.line("#include <stdint.h>")
    out.line()
    out.line("typedef uint32_t apus_handle_t;")
    out.line("typedef uint32_t apus_rights_t;")
    out.line("typedef uint32_t apus_handle_kind_t;")
    out.line()

    section(out, "Errors. A failed call returns the negated code; apus_is_error() tells them apart.")
    for error in abi.errors {
      out.doc(error.doc, style: .c)
      out.line("#define \(scope.cMacro("err", error.name)) \(error.code)")
    }
    out.line()
    out.line("static inline int apus_is_error(int64_t result) { return result < 0; }")
    out.line()

    section(out, "Handle rights: bits of apus_rights_t.")
    for right in abi.rights {
      out.doc(right.doc, style: .c)
      out.line("#define \(scope.cMacro("right", right.name)) ((apus_rights_t)\(CLiteral.hex(1 << UInt64(right.code))))")
    }
    out.line()
    section(out, "Handle kinds.")
    for kind in abi.handleKinds {
      out.doc(kind.doc, style: .c)
      out.line("#define \(scope.cMacro("handle_kind", kind.name)) ((apus_handle_kind_t)\(kind.code)u)")
    }
    out.line()

    emitTypes(abi.types, scope, out)

    section(out, "System call numbers. Numbers are permanent; removed calls keep theirs.")
    for call in abi.syscalls.sorted(by: { $0.number < $1.number }) {
      out.line("#define \(scope.cMacro("sys", call.name)) \(call.number)")
    }
    for removed in abi.removed.sorted(by: { $0.number < $1.number }) {
      out.line("/* \(removed.number): \(removed.name), removed in v\(removed.removed). */")
    }
    out.line()

    section(out, "System calls. Each returns its value, or a negated APUS_ERR_* code.")
    for call in abi.syscalls.sorted(by: { $0.number < $1.number }) {
      out.doc(Self.callDoc(call), style: .c)
      out.line(Self.prototype(call, scope) + ";")
      out.line()
    }
    closing(out, guardName: "APUS_SYSCALL_H")
    return GeneratedFile(path: "ulib/generated/apus/syscall.h", contents: out.text)
  }

  func protocolHeader(_ spec: ProtocolSpec) -> GeneratedFile {
    let scope = NameScope.forProtocol(spec, abi: specs.abi)
    let guardName = "APUS_\(spec.name.uppercased())_H"
    let out = SourceWriter(indent: "    ")
    opening(out, file: spec.file, guardName: guardName,
            title: "apus/\(spec.name).h: the \(spec.name) protocol v\(spec.version).", doc: spec.doc)
    out.line("#include <apus/syscall.h>")
    out.line()
    out.line("#define \(scope.cMacro("version")) \(spec.version)")
    out.line()
    section(out, "Operation codes (msg_header.op).")
    for op in spec.ops {
      out.line("#define \(scope.cMacro("op", op.name)) \(op.code)")
    }
    out.line()
    section(out, "Statuses (msg_header.status in replies).")
    for status in spec.statuses {
      out.doc(status.doc, style: .c)
      out.line("#define \(scope.cMacro("status", status.name)) \(status.code)")
    }
    out.line()
    emitTypes(spec.types, scope, out)
    section(out, "Messages: each request and reply starts with struct apus_msg_header.")
    for op in spec.ops {
      out.doc("\(op.name) (op \(op.code)\(op.idempotent ? ", idempotent" : "")\(op.waits ? ", may wait" : "")): \(op.doc)", style: .c)
      for (suffix, fields) in [("request", op.request), ("reply", op.reply)] {
        let layout = scope.layout.messageLayout(name: "\(op.name)_\(suffix)", fields: fields)
        emitStruct(name: "\(op.name)_\(suffix)", doc: "", fields: [Self.headerField] + fields, layout: layout, scope, out)
      }
    }
    closing(out, guardName: guardName)
    return GeneratedFile(path: "ulib/generated/apus/\(spec.name).h", contents: out.text)
  }

  static let headerField = FieldDecl(
    name: SpecVocabulary.headerField, typeName: SpecVocabulary.messageHeader, count: nil,
    reserved: false, doc: "", origin: Origin(element: SourceLocation(file: "", line: 0, column: 0), attributes: [:]))

  // MARK: - pieces

  private func opening(_ out: SourceWriter, file: String, guardName: String, title: String, doc: String) {
    out.lines(GeneratedText.slashMarker(for: [file]))
    out.line("//")
    out.doc(title, style: .line)
    out.line("//")
    out.doc(doc, style: .line)
    out.line("#ifndef \(guardName)")
    out.line("#define \(guardName)")
    out.line()
    out.line("#ifdef __cplusplus")
    out.line("extern \"C\" {")
    out.line("#endif")
    out.line()
  }

  private func closing(_ out: SourceWriter, guardName: String) {
    out.line("#ifdef __cplusplus")
    out.line("}")
    out.line("#endif")
    out.line()
    out.line("#endif /* \(guardName) */")
  }

  private func section(_ out: SourceWriter, _ title: String) {
    out.line("/* ---- \(title) */")
    out.line()
  }

  private func emitTypes(_ types: TypeSet, _ scope: NameScope, _ out: SourceWriter) {
    if !types.constants.isEmpty {
      section(out, "Constants.")
      for constant in types.constants {
        out.doc(constant.doc, style: .c)
        out.line("#define \(scope.cMacro(constant.name)) ((\(constant.type.cType))\(CLiteral.of(constant.value, as: constant.type)))")
      }
      out.line()
    }
    for decl in types.enums {
      out.doc(decl.doc, style: .c)
      out.line("typedef \(decl.backing.cType) \(scope.cTypedef(decl.name));")
      for value in decl.cases {
        out.doc(value.doc, style: .c)
        out.line("#define \(scope.cMacro(decl.name, value.name)) ((\(scope.cTypedef(decl.name)))\(CLiteral.of(value.value, as: decl.backing)))")
      }
      out.line()
    }
    for decl in types.flags {
      out.doc(decl.doc, style: .c)
      out.line("typedef \(decl.backing.cType) \(scope.cTypedef(decl.name));")
      for flag in decl.flags {
        out.doc(flag.doc, style: .c)
        out.line("#define \(scope.cMacro(decl.name, flag.name)) ((\(scope.cTypedef(decl.name)))\(CLiteral.hex(1 << UInt64(flag.bit))))")
      }
      out.line()
    }
    for decl in types.structs {
      emitStruct(name: decl.name, doc: decl.doc, fields: decl.fields, layout: scope.layout.layout(of: decl), scope, out)
    }
  }

  private func emitStruct(
    name: String, doc: String, fields: [FieldDecl], layout: StructLayout, _ scope: NameScope, _ out: SourceWriter
  ) {
    let cName = scope.cStruct(name)
    out.doc(doc, style: .c)
    out.block(cName, closer: "};") {
      for field in fields {
        out.doc(field.doc, style: .c)
        out.line("\(scope.cType(field.typeName)) \(field.name)\(field.count.map { "[\($0)]" } ?? "");")
      }
    }
    out.line("_Static_assert(sizeof(\(cName)) == \(layout.size), \"abigen: sizeof(\(cName))\");")
    out.line("_Static_assert(_Alignof(\(cName)) == \(layout.alignment), \"abigen: _Alignof(\(cName))\");")
    for field in layout.fields {
      out.line("_Static_assert(offsetof(\(cName), \(field.name)) == \(field.offset), \"abigen: offsetof(\(cName), \(field.name))\");")
    }
    out.line()
  }

  // MARK: - calls

  static func cParameter(_ argument: ArgumentDecl, _ scope: NameScope) -> String {
    let type = scope.cType(argument.typeName)
    switch argument.pointer {
    case .in?: return "const \(type) *\(argument.name)"
    case .out?, .inout?: return "\(type) *\(argument.name)"
    case nil: return "\(type) \(argument.name)"
    }
  }

  static func prototype(_ call: SyscallDecl, _ scope: NameScope) -> String {
    let parameters = call.arguments.isEmpty ? "void" : call.arguments.map { cParameter($0, scope) }.joined(separator: ", ")
    let name = "\(GeneratedText.cPrefix)_\(call.name)"
    return call.neverReturns ? "_Noreturn void \(name)(\(parameters))" : "int64_t \(name)(\(parameters))"
  }

  /// The reader's summary of a call, shared by C comments: what it does, what it
  /// returns, each error, and whether it blocks.
  static func callDoc(_ call: SyscallDecl) -> String {
    var parts = [call.doc]
    if let result = call.returns, !call.neverReturns, !result.doc.isEmpty {
      parts.append("Returns: \(result.doc)")
    } else if call.neverReturns {
      parts.append("Does not return.")
    }
    if !call.errors.isEmpty {
      parts.append("Errors: " + call.errors.map { "APUS_ERR_\($0.name.uppercased()) (\($0.doc))" }.joined(separator: "; "))
    }
    if call.blocking { parts.append("May block.") }
    return parts.joined(separator: " ")
  }
}
