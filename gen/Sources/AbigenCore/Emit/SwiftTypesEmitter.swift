// Swift declarations of spec types: the ABI's errors, rights, handle kinds, constants,
// enums, flags and structs (AbiTypes.swift, for the kernel and for user space), and a
// protocol's own types. Enums are open structs, not Swift enums: a value read from
// another protection domain may hold any bit pattern, which a Swift enum must never
// do. Structs keep the C field order, and `AbiLayout.verify()` checks that Swift lays
// them out as the C header asserts.

struct SwiftTypesEmitter {
  let specs: SpecSet
  /// "" for the kernel (one module, internal), "public " for ulib.
  let access: String

  func abiTypes(path: String) -> GeneratedFile {
    let abi = specs.abi
    let scope = NameScope.abi(abi)
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: [abi.file]))
    out.line("//")
    out.doc("The types of the Apus system-call ABI v\(abi.version): errors, handle rights and kinds, constants, enums, flags and structs.", style: .line)
    out.line()

    openEnum(out, name: "AbiError", backing: .u32, doc: "An error a system call returns (as its negated code in rax).",
             conformances: ["Error"], cases: abi.errors.map { ($0.name, Int128($0.code), $0.doc) })
    openFlags(out, name: "Rights", backing: .u32, doc: "What a handle allows its holder to do.",
              flags: abi.rights.map { ($0.name, $0.code, $0.doc) })
    openEnum(out, name: "HandleKind", backing: .u32, doc: "The kind of object a handle names.",
             conformances: [], cases: abi.handleKinds.map { ($0.name, Int128($0.code), $0.doc) })
    constants(out, namespace: "Abi", abi.types.constants, doc: "Constants of the ABI.")
    declarations(abi.types, scope, out)
    layoutCheck(out, name: "AbiLayout", structs: abi.types.structs.map { (scope.swiftTypeName($0.name), scope.layout.layout(of: $0)) })
    return GeneratedFile(path: path, contents: out.text)
  }

  // MARK: - pieces shared with the protocol emitter

  func declarations(_ types: TypeSet, _ scope: NameScope, _ out: SourceWriter) {
    for decl in types.enums {
      openEnum(out, name: scope.swiftTypeName(decl.name), backing: decl.backing, doc: decl.doc,
               conformances: [], cases: decl.cases.map { ($0.name, $0.value, $0.doc) })
    }
    for decl in types.flags {
      openFlags(out, name: scope.swiftTypeName(decl.name), backing: decl.backing, doc: decl.doc,
                flags: decl.flags.map { ($0.name, $0.bit, $0.doc) })
    }
    for decl in types.structs {
      structure(out, name: scope.swiftTypeName(decl.name), doc: decl.doc, fields: decl.fields, scope, conformances: [])
    }
  }

  func constants(_ out: SourceWriter, namespace: String?, _ constants: [ConstantDecl], doc: String) {
    guard !constants.isEmpty else { return }
    let emit = {
      for constant in constants {
        out.doc(constant.doc, style: .swift)
        out.line("\(access)static let \(Names.lowerCamel(constant.name)): \(constant.type.swiftType) = \(constant.value)")
      }
    }
    if let namespace {
      out.doc(doc, style: .swift)
      out.block("\(access)enum \(namespace)", emit)
      out.line()
    } else {
      emit()
      out.line()
    }
  }

  func openEnum(
    _ out: SourceWriter, name: String, backing: Scalar, doc: String, conformances: [String],
    cases: [(name: String, value: Int128, doc: String)]
  ) {
    out.doc(doc, style: .swift)
    let conforms = (["RawRepresentable", "Equatable", "Sendable"] + conformances).joined(separator: ", ")
    out.block("\(access)struct \(name): \(conforms)") {
      out.line("\(access)let rawValue: \(backing.swiftType)")
      out.line("\(access)init(rawValue: \(backing.swiftType)) { self.rawValue = rawValue }")
      out.line()
      for item in cases {
        out.doc(item.doc, style: .swift)
        out.line("\(access)static let \(Names.swiftIdentifier(Names.lowerCamel(item.name))) = \(name)(rawValue: \(item.value))")
      }
      out.line()
      out.doc("True when the value is one the spec declares.", style: .swift)
      out.block("\(access)var isKnown: Bool") {
        out.block("switch rawValue") {
          out.line("case \(cases.map { "\($0.value)" }.joined(separator: ", ")): true")
          out.line("default: false")
        }
      }
    }
    out.line()
  }

  func openFlags(
    _ out: SourceWriter, name: String, backing: Scalar, doc: String,
    flags: [(name: String, bit: Int, doc: String)]
  ) {
    out.doc(doc, style: .swift)
    out.block("\(access)struct \(name): OptionSet, Sendable") {
      out.line("\(access)let rawValue: \(backing.swiftType)")
      out.line("\(access)init(rawValue: \(backing.swiftType)) { self.rawValue = rawValue }")
      out.line()
      for flag in flags {
        out.doc(flag.doc, style: .swift)
        out.line("\(access)static let \(Names.swiftIdentifier(Names.lowerCamel(flag.name))) = \(name)(rawValue: 1 << \(flag.bit))")
      }
      let mask = flags.reduce(UInt64(0)) { $0 | (1 << UInt64($1.bit)) }
      out.line()
      out.doc("Every flag the spec declares.", style: .swift)
      out.line("\(access)static let known = \(name)(rawValue: 0x\(String(mask, radix: 16)))")
      out.doc("True when no undeclared bit is set.", style: .swift)
      out.line("\(access)var isKnown: Bool { rawValue & ~Self.known.rawValue == 0 }")
    }
    out.line()
  }

  func structure(
    _ out: SourceWriter, name: String, doc: String, fields: [FieldDecl], _ scope: NameScope,
    conformances: [String]
  ) {
    out.doc(doc, style: .swift)
    let conforms = conformances.isEmpty ? "" : ": " + conformances.joined(separator: ", ")
    out.block("\(access)struct \(name)\(conforms)") {
      for field in fields {
        out.doc(field.doc, style: .swift)
        out.line("\(access)var \(Names.swiftIdentifier(Names.lowerCamel(field.name))): \(scope.swiftFieldType(field))")
      }
      out.line()
      out.doc("All fields zero.", style: .swift)
      out.block("\(access)init()") {
        for field in fields {
          out.line("\(Names.lowerCamel(field.name)) = \(scope.swiftZero(field))")
        }
      }
      let settable = fields.filter { !$0.reserved && $0.name != SpecVocabulary.headerField }
      if !settable.isEmpty {
        out.line()
        let parameters = settable.map { "\(Names.lowerCamel($0.name)): \(scope.swiftFieldType($0))" }.joined(separator: ", ")
        out.doc("Sets the given fields; the rest\(fields.count > settable.count ? " (reserved, header)" : "") are zero.", style: .swift)
        out.block("\(access)init(\(parameters))") {
          out.line("self.init()")
          for field in settable {
            let name = Names.lowerCamel(field.name)
            out.line("self.\(name) = \(Names.swiftIdentifier(name))")
          }
        }
      }
    }
    out.line()
  }

  /// The local that holds a sample of `swiftName`: the type's name with a lower-case
  /// first letter, so it never shadows the type (`var processStatus = ProcessStatus()`).
  private func instanceName(_ swiftName: String) -> String {
    Names.swiftIdentifier(swiftName.prefix(1).lowercased() + swiftName.dropFirst())
  }

  /// `static func verify() -> Bool`: MemoryLayout and field offsets of every struct
  /// equal the numbers the C header asserts.
  func layoutCheck(_ out: SourceWriter, name: String, structs: [(swiftName: String, layout: StructLayout)]) {
    out.doc("Checks that Swift lays out every struct exactly as the C header asserts (the same numbers abigen checked against libclang). True when all match.", style: .swift)
    out.block("\(access)enum \(name)") {
      out.block("\(access)static func verify() -> Bool") {
        out.line("var matches = true")
        for (swiftName, layout) in structs {
          out.line("matches = matches && MemoryLayout<\(swiftName)>.stride == \(layout.size)")
          out.line("  && MemoryLayout<\(swiftName)>.alignment == \(layout.alignment)")
          out.line("var \(instanceName(swiftName)) = \(swiftName)()")
          out.line("withUnsafeMutablePointer(to: &\(instanceName(swiftName))) { base in")
          out.indented {
            for field in layout.fields {
              out.line("matches = matches && offset(base, &base.pointee.\(Names.swiftIdentifier(Names.lowerCamel(field.name)))) == \(field.offset)")
            }
          }
          out.line("}")
        }
        out.line("return matches")
      }
      out.line()
      out.block("private static func offset<Base, Field>(_ base: UnsafeMutablePointer<Base>, _ field: UnsafeMutablePointer<Field>) -> Int") {
        out.line("UnsafeRawPointer(field) - UnsafeRawPointer(base)")
      }
    }
  }
}
