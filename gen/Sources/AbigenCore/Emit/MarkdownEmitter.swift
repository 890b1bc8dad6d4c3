// docs/abi/*.md: the reader's reference. For the ABI: the calling convention, then
// each call with its C and Swift signatures, arguments, errors, blocking and since;
// then types with struct layouts and offsets. For a protocol: framing, ops with their
// request and reply layouts, shared-memory use, statuses.

struct MarkdownEmitter {
  let specs: SpecSet

  func syscallReference() -> GeneratedFile {
    let abi = specs.abi
    let scope = NameScope.abi(abi)
    var md: [String] = GeneratedText.markdownMarker(for: [abi.file])
    md += ["", "# Apus system-call ABI v\(abi.version)", "", abi.doc, ""]
    md += ["## Calling convention", "",
           "| register | use |", "|---|---|", "| rax | call number in; result out |"]
    for (index, register) in SpecVocabulary.argumentRegisters.enumerated() {
      md.append("| \(register) | argument \(index + 1) |")
    }
    md += ["| rcx, r11 | clobbered by `syscall` |", "",
           "From C: `#include <apus/syscall.h>` and link `syscall_stubs.o`; each call returns its value or a negated `APUS_ERR_*`. From Swift: the `Sys` functions in `ulib/swift/generated/Syscalls.swift` throw `AbiError`.", ""]

    md += ["## Calls", "", "| # | call | blocks | since |", "|---|---|---|---|"]
    for call in abi.syscalls.sorted(by: { $0.number < $1.number }) {
      md.append("| \(call.number) | [`\(call.name)`](#\(call.name)) | \(call.blocking ? "yes" : "no") | v\(call.since) |")
    }
    for removed in abi.removed.sorted(by: { $0.number < $1.number }) {
      md.append("| \(removed.number) | ~~`\(removed.name)`~~ removed in v\(removed.removed) | | v\(removed.since) |")
    }
    md.append("")
    for call in abi.syscalls.sorted(by: { $0.number < $1.number }) {
      md += callSection(SyscallShape(call, in: abi), scope)
    }

    md += ["## Errors", "", "A failed call returns the negated code.", "", "| code | C | Swift | meaning |", "|---|---|---|---|"]
    for error in abi.errors {
      md.append("| \(error.code) | `\(scope.cMacro("err", error.name))` | `.\(Names.lowerCamel(error.name))` | \(error.doc) |")
    }
    md += ["", "## Handles", "", "| kind | code | meaning |", "|---|---|---|"]
    for kind in abi.handleKinds { md.append("| `\(kind.name)` | \(kind.code) | \(kind.doc) |") }
    md += ["", "| right | bit | meaning |", "|---|---|---|"]
    for right in abi.rights { md.append("| `\(right.name)` | \(right.code) | \(right.doc) |") }
    md.append("")
    md += typesSection(abi.types, scope)
    return GeneratedFile(path: "docs/abi/\(baseName(abi.file)).md", contents: md.joined(separator: "\n") + "\n")
  }

  func protocolReference(_ spec: ProtocolSpec) -> GeneratedFile {
    let scope = NameScope.forProtocol(spec, abi: specs.abi)
    var md: [String] = GeneratedText.markdownMarker(for: [spec.file])
    md += ["", "# The \(spec.name) protocol v\(spec.version)", "", spec.doc, "",
           "Every request and reply starts with `struct apus_msg_header` (op, status, id; 16 bytes, see syscall_v0.md). C: `#include <apus/\(spec.name).h>`. Swift: `\(scope.swiftNamespace!)` in `ulib/swift/generated/`.", "",
           "## Ops", "", "| code | op | idempotent | shared buffer |", "|---|---|---|---|"]
    for op in spec.ops {
      md.append("| \(op.code) | [`\(op.name)`](#\(op.name)) | \(op.idempotent ? "yes" : "no") | \(op.shm.map { "\($0.direction.rawValue): `\($0.offsetField)`, `\($0.lengthField)`" } ?? "—") |")
    }
    md.append("")
    for op in spec.ops {
      md += ["### \(op.name)", "", op.doc, ""]
      if op.waits { md += ["The reply may wait for an outside event (a datagram, a timeout).", ""] }
      for (title, fields) in [("Request", op.request), ("Reply", op.reply)] {
        let layout = scope.layout.messageLayout(name: op.name, fields: fields)
        md += ["\(title): `\(scope.cStruct("\(op.name)_\(title.lowercased())"))`, \(layout.size) bytes.", ""]
        md += fieldTable(layout, fields: [CHeaderEmitter.headerField] + fields, scope)
      }
      if let shm = op.shm {
        md += ["Shared buffer (\(shm.direction.rawValue)), at `\(shm.offsetField)`, sized by `\(shm.lengthField)`: \(shm.doc)", ""]
      }
      if !op.errors.isEmpty {
        md += ["| status | when |", "|---|---|"]
        for use in op.errors { md.append("| `\(use.name)` | \(use.doc) |") }
        md.append("")
      }
    }
    md += ["## Statuses", "", "| code | status | meaning |", "|---|---|---|"]
    for status in spec.statuses { md.append("| \(status.code) | `\(status.name)` | \(status.doc) |") }
    md.append("")
    md += typesSection(spec.types, scope)
    return GeneratedFile(path: "docs/abi/\(spec.name)_v\(spec.version).md", contents: md.joined(separator: "\n") + "\n")
  }

  // MARK: - pieces

  private func baseName(_ file: String) -> String {
    let name = file.split(separator: "/").last.map(String.init) ?? file
    return name.hasSuffix(".xml") ? String(name.dropLast(4)) : name
  }

  private func callSection(_ shape: SyscallShape, _ scope: NameScope) -> [String] {
    let call = shape.call
    var md = ["### \(call.name)", "", call.doc, "", "```c", CHeaderEmitter.prototype(call, scope) + ";", "```", ""]
    md += ["Number \(call.number) · \(call.blocking ? "may block" : "does not block") · since v\(call.since)", ""]
    if !shape.arguments.isEmpty {
      md += ["| register | argument | type | meaning |", "|---|---|---|---|"]
      for argument in shape.arguments {
        md.append("| \(SpecVocabulary.argumentRegisters[argument.register]) | `\(argument.decl.name)` | \(describe(argument)) | \(argument.decl.doc) |")
      }
      md.append("")
    }
    if let result = call.returns {
      md += [call.neverReturns ? "Does not return." : "Returns \(result.typeName == SpecVocabulary.handle ? "a `\(result.kind ?? "")` handle with rights \(result.rights.map { "`\($0)`" }.joined(separator: ", "))" : "`\(result.typeName)`"): \(result.doc)", ""]
    } else {
      md += ["Returns 0.", ""]
    }
    if !call.errors.isEmpty {
      md += ["| error | when |", "|---|---|"]
      for use in call.errors { md.append("| `\(use.name)` | \(use.doc) |") }
      md.append("")
    }
    return md
  }

  private func describe(_ argument: ShapedArgument) -> String {
    switch argument.role {
    case .scalar(let scalar):
      return argument.countsPointer.map { "`\(scalar.rawValue)`, length of `\($0)`" } ?? "`\(scalar.rawValue)`"
    case .userAddress: return "user address"
    case .enumeration(let decl): return "enum `\(decl.name)`"
    case .flags(let decl): return "flags `\(decl.name)`"
    case .handle(let kind, let rights):
      return "handle (\(kind ?? "any kind")\(rights.isEmpty ? "" : "; needs " + rights.map { "`\($0)`" }.joined(separator: ", ")))"
    case .pointer(let direction, let element, let length):
      return length.map { "\(direction.rawValue) pointer to `\(element)[\($0)]`" } ?? "\(direction.rawValue) pointer to `\(element)`"
    }
  }

  private func typesSection(_ types: TypeSet, _ scope: NameScope) -> [String] {
    var md: [String] = []
    if !types.constants.isEmpty {
      md += ["## Constants", "", "| name | C | type | value | meaning |", "|---|---|---|---|---|"]
      for constant in types.constants {
        md.append("| `\(constant.name)` | `\(scope.cMacro(constant.name))` | `\(constant.type.rawValue)` | \(constant.value) | \(constant.doc) |")
      }
      md.append("")
    }
    for decl in types.enums {
      md += ["## enum \(decl.name) (`\(decl.backing.rawValue)`)", "", decl.doc, "", "| value | name | meaning |", "|---|---|---|"]
      for value in decl.cases { md.append("| \(value.value) | `\(value.name)` | \(value.doc) |") }
      md.append("")
    }
    for decl in types.flags {
      md += ["## flags \(decl.name) (`\(decl.backing.rawValue)`)", "", decl.doc, "", "| bit | name | meaning |", "|---|---|---|"]
      for flag in decl.flags { md.append("| \(flag.bit) | `\(flag.name)` | \(flag.doc) |") }
      md.append("")
    }
    for decl in types.structs {
      let layout = scope.layout.layout(of: decl)
      md += ["## struct \(decl.name)", "", decl.doc, "",
             "`\(scope.cStruct(decl.name))`: \(layout.size) bytes, aligned to \(layout.alignment).", ""]
      md += fieldTable(layout, fields: decl.fields, scope)
    }
    return md
  }

  private func fieldTable(_ layout: StructLayout, fields: [FieldDecl], _ scope: NameScope) -> [String] {
    var md = ["| offset | size | field | type | meaning |", "|---|---|---|---|---|"]
    for (placed, field) in zip(layout.fields, fields) {
      let type = field.count.map { "`\(field.typeName)[\($0)]`" } ?? "`\(field.typeName)`"
      let doc = field.name == SpecVocabulary.headerField && field.doc.isEmpty ? "Message header." : field.doc
      md.append("| \(placed.offset) | \(placed.size) | `\(field.name)`\(field.reserved ? " (reserved)" : "") | \(type) | \(doc) |")
    }
    md.append("")
    return md
  }
}
