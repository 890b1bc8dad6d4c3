// kernel/generated/ProtocolTrace.swift: what the kernel's IPC tracer (`trace=ipc`)
// needs to print a message decoded: each protocol's name, its ops, every request and
// reply field with its C offset and size, enum and flag names, and status names.
// Switches over constants, so the tracer allocates nothing.

struct ProtocolTraceEmitter {
  let specs: SpecSet

  func table() -> GeneratedFile {
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: specs.protocols.map(\.file)))
    out.line("//")
    out.doc("What the IPC tracer prints for each protocol. A protocol is named by its index, 1 and up, in this order; 0 is none.", style: .line)
    out.line()
    out.block("enum ProtocolTrace") {
      out.block("enum Format") { out.line("case unsigned, hex, enumeration, flags, bytes") }
      out.line()
      out.block("struct Field") {
        out.line("let name: StaticString")
        out.line("let offset: Int")
        out.line("let size: Int")
        out.line("let format: Format")
        out.line("/// For enums and flags: which type (an index into this protocol's types).")
        out.line("let type: Int")
      }
      out.line()
      out.line("static let count = \(specs.protocols.count)")
      out.line()
      out.doc("The protocol's index for its name (endpoint_label), or 0.", style: .swift)
      out.block("static func index<Name: Collection<UInt8>>(of name: Name) -> UInt8") {
        for (index, spec) in specs.protocols.enumerated() {
          out.line("if name.elementsEqual(\"\(spec.name)\".utf8) { return \(index + 1) }")
        }
        out.line("return 0")
      }
      out.line()
      out.block("static func name(_ protocolIndex: UInt8) -> StaticString") {
        out.block("switch protocolIndex") {
          for (index, spec) in specs.protocols.enumerated() { out.line("case \(index + 1): \"\(spec.name)\"") }
          out.line("default: \"?\"")
        }
      }
      out.line()
      out.block("static func op(_ protocolIndex: UInt8, _ code: UInt32) -> StaticString?") {
        out.block("switch (protocolIndex, code)") {
          for (index, spec) in specs.protocols.enumerated() {
            for op in spec.ops { out.line("case (\(index + 1), \(op.code)): \"\(op.name)\"") }
          }
          out.line("default: nil")
        }
      }
      out.line()
      out.block("static func status(_ protocolIndex: UInt8, _ code: UInt32) -> StaticString?") {
        out.block("switch (protocolIndex, code)") {
          for (index, spec) in specs.protocols.enumerated() {
            for status in spec.statuses { out.line("case (\(index + 1), \(status.code)): \"\(status.name)\"") }
          }
          out.line("default: nil")
        }
      }
      out.line()
      out.doc("Field `index` (after the header) of op `code`'s request (reply: false) or reply.", style: .swift)
      out.block("static func field(_ protocolIndex: UInt8, _ code: UInt32, reply: Bool, _ index: Int) -> Field?") {
        out.block("switch (protocolIndex, code, reply, index)") {
          for (protocolIndex, spec) in specs.protocols.enumerated() {
            let scope = NameScope.forProtocol(spec, abi: specs.abi)
            let named = namedTypes(spec)
            for op in spec.ops {
              for (isReply, fields) in [(false, op.request), (true, op.reply)] {
                let layout = scope.layout.messageLayout(name: op.name, fields: fields)
                for (fieldIndex, field) in layout.fields.dropFirst().enumerated() where !field.reserved {
                  let (format, type) = describe(field, named)
                  out.line("case (\(protocolIndex + 1), \(op.code), \(isReply), \(fieldIndex)): Field(name: \"\(field.name)\", offset: \(field.offset), size: \(field.size), format: .\(format), type: \(type))")
                }
              }
            }
          }
          out.line("default: nil")
        }
      }
      out.line()
      out.doc("The name of value `value` of enum `type`, or of bit `value` of flags `type`.", style: .swift)
      out.block("static func valueName(_ protocolIndex: UInt8, type: Int, _ value: UInt64) -> StaticString?") {
        out.block("switch (protocolIndex, type, value)") {
          for (protocolIndex, spec) in specs.protocols.enumerated() {
            for (typeIndex, entry) in namedTypes(spec).enumerated() {
              switch entry {
              case .enumeration(let decl):
                for value in decl.cases { out.line("case (\(protocolIndex + 1), \(typeIndex), \(value.value)): \"\(value.name)\"") }
              case .flags(let decl):
                for flag in decl.flags { out.line("case (\(protocolIndex + 1), \(typeIndex), \(flag.bit)): \"\(flag.name)\"") }
              default: break
              }
            }
          }
          out.line("default: nil")
        }
      }
    }
    return GeneratedFile(path: "kernel/generated/ProtocolTrace.swift", contents: out.text)
  }

  private func namedTypes(_ spec: ProtocolSpec) -> [TypeSet.Named] {
    spec.types.enums.map { .enumeration($0) } + spec.types.flags.map { .flags($0) }
  }

  private func describe(_ field: FieldLayout, _ named: [TypeSet.Named]) -> (String, Int) {
    if field.count != nil { return ("bytes", 0) }
    for (index, entry) in named.enumerated() {
      switch entry {
      case .enumeration(let decl) where decl.name == field.typeName: return ("enumeration", index)
      case .flags(let decl) where decl.name == field.typeName: return ("flags", index)
      default: continue
      }
    }
    if Scalar(rawValue: field.typeName) != nil { return (field.name.hasSuffix("offset") ? "hex" : "unsigned", 0) }
    return ("bytes", 0)
  }
}
