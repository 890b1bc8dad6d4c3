// Builds the ABI dump by compiling the generated C headers with libclang for the guest
// target (x86_64, freestanding), reading every struct's layout and every constant's
// value, and cross-checking each against abigen's own model. A disagreement is a
// generator bug, reported as such: it would otherwise ship a header that lies.
import CLayout

public enum AbiDumpBuilder {
  static let virtualInclude = "/abigen-virtual/include"
  public static let guestTarget = "x86_64-unknown-none-elf"

  public static func build(_ specs: SpecSet, headers: [GeneratedFile]) throws -> AbiDump {
    guard let resource = ClangLayoutReader.resourceIncludeDirectory() else {
      throw AbigenFailure("cannot find the builtin headers of \(ClangLayoutReader.clangVersion) (install libclang-common-*-dev: make deps)")
    }
    let expectations = ModelFacts(specs)
    var probe = headers.filter { $0.path.hasSuffix(".h") }.map { "#include <apus/\($0.path.split(separator: "/").last!)>" }
    for (index, constant) in expectations.constants.enumerated() {
      probe.append("static const long long abigen_probe_\(index) = (long long)(\(constant.macro));")
    }
    let virtualHeaders = headers.filter { $0.path.hasSuffix(".h") }.map {
      (path: "\(virtualInclude)/apus/\($0.path.split(separator: "/").last!)", contents: $0.contents)
    }
    let arguments = ["-target", guestTarget, "-ffreestanding", "-nostdinc", "-isystem", resource,
                     "-I", virtualInclude, "-std=c11", "-Wall", "-Wextra", "-pedantic", "-x", "c"]
    let report: CLayoutReport
    switch ClangLayoutReader.read(
      source: probe.joined(separator: "\n") + "\n", fileName: "/abigen-virtual/probe.c",
      headers: virtualHeaders, arguments: arguments, prefix: "\(GeneratedText.cPrefix)_")
    {
    case .success(let value): report = value
    case .failure(let error): throw AbigenFailure("generator bug: the generated C headers do not compile:\n\(error.message)")
    }

    var mismatches: [String] = []
    for (index, constant) in expectations.constants.enumerated() {
      let expected = Int64(truncatingIfNeeded: constant.value)
      if report.constants["abigen_probe_\(index)"] != expected {
        mismatches.append("\(constant.macro): model \(constant.value), C \(report.constants["abigen_probe_\(index)"].map(String.init) ?? "missing")")
      }
    }
    var structs: [AbiDump.Struct] = []
    for fact in expectations.structs {
      guard let c = report.structs[fact.cName] else {
        mismatches.append("struct \(fact.cName): missing from the C header")
        continue
      }
      let model = fact.layout
      let modelFields = model.fields.map { CFieldLayout(name: $0.name, offset: $0.offset, size: $0.size) }
      if c.size != model.size || c.alignment != model.alignment || c.fields != modelFields {
        mismatches.append("struct \(fact.cName): model size \(model.size) align \(model.alignment) fields \(modelFields.map { "\($0.name)@\($0.offset)" }), C size \(c.size) align \(c.alignment) fields \(c.fields.map { "\($0.name)@\($0.offset)" })")
      }
      structs.append(AbiDump.Struct(
        name: fact.cName, size: c.size, alignment: c.alignment,
        fields: zip(c.fields, model.fields).map { clang, modelField in
          AbiDump.Field(name: clang.name, type: modelField.typeName, count: modelField.count,
                        reserved: modelField.reserved, offset: clang.offset, size: clang.size)
        },
        location: fact.location.description))
    }
    if !mismatches.isEmpty {
      throw AbigenFailure("generator bug: abigen's layout model disagrees with \(ClangLayoutReader.clangVersion) on the generated headers:\n  " + mismatches.joined(separator: "\n  "))
    }
    return dump(specs, structs: structs)
  }

  private static func dump(_ specs: SpecSet, structs: [AbiDump.Struct]) -> AbiDump {
    let abi = specs.abi
    func coded(_ decls: [CodedDecl]) -> [AbiDump.Coded] {
      decls.map { AbiDump.Coded(name: $0.name, code: $0.code, location: $0.origin.element.description) }
    }
    var constants: [AbiDump.Constant] = []
    var enums: [AbiDump.Enumeration] = []
    var flags: [AbiDump.Flags] = []
    for (scope, types) in [("", abi.types)] + specs.protocols.map({ ($0.name, $0.types) }) {
      constants += types.constants.map {
        AbiDump.Constant(name: $0.name, scope: scope, type: $0.type.rawValue, value: "\($0.value)", location: $0.origin.element.description)
      }
      enums += types.enums.map { decl in
        AbiDump.Enumeration(name: decl.name, scope: scope, type: decl.backing.rawValue,
                            values: decl.cases.map { AbiDump.Value(name: $0.name, value: "\($0.value)") },
                            location: decl.origin.element.description)
      }
      flags += types.flags.map { decl in
        AbiDump.Flags(name: decl.name, scope: scope, type: decl.backing.rawValue,
                      flags: decl.flags.map { AbiDump.Coded(name: $0.name, code: $0.bit, location: $0.origin.element.description) },
                      location: decl.origin.element.description)
      }
    }
    return AbiDump(
      abi: AbiDump.Header(name: abi.name, version: abi.version, spec: abi.file),
      syscalls: abi.syscalls.sorted { $0.number < $1.number }.map { call in
        AbiDump.Syscall(
          number: call.number, name: call.name, since: call.since, blocking: call.blocking,
          arguments: call.arguments.map {
            AbiDump.Argument(name: $0.name, type: $0.typeName, pointer: $0.pointer?.rawValue,
                             length: $0.length, kind: $0.kind, rights: $0.rights)
          },
          returns: call.returns.map { AbiDump.Result(type: $0.typeName, kind: $0.kind, rights: $0.rights) },
          errors: call.errors.map(\.name), location: call.origin.element.description)
      },
      removed: abi.removed.sorted { $0.number < $1.number }.map {
        AbiDump.Removed(number: $0.number, name: $0.name, since: $0.since, removed: $0.removed, location: $0.origin.element.description)
      },
      errors: coded(abi.errors), rights: coded(abi.rights), handleKinds: coded(abi.handleKinds),
      constants: constants, enums: enums, flags: flags, structs: structs,
      protocols: specs.protocols.map { spec in
        let scope = NameScope.forProtocol(spec, abi: abi)
        return AbiDump.ProtocolEntry(
          name: spec.name, version: spec.version, spec: spec.file,
          ops: spec.ops.map { op in
            AbiDump.Op(name: op.name, code: op.code, since: op.since, idempotent: op.idempotent,
                       request: String(scope.cStruct("\(op.name)_request").dropFirst("struct ".count)),
                       reply: String(scope.cStruct("\(op.name)_reply").dropFirst("struct ".count)),
                       errors: op.errors.map(\.name), location: op.origin.element.description)
          },
          statuses: coded(spec.statuses), location: spec.origin.element.description)
      })
  }
}

/// Every constant and struct the C headers define, with the value and layout abigen's
/// model gives it: what the libclang pass must confirm.
struct ModelFacts {
  struct ConstantFact { let macro: String; let value: Int128 }
  struct StructFact { let cName: String; let layout: StructLayout; let location: SourceLocation }

  var constants: [ConstantFact] = []
  var structs: [StructFact] = []

  init(_ specs: SpecSet) {
    let abi = specs.abi
    let abiScope = NameScope.abi(abi)
    constants += abi.errors.map { ConstantFact(macro: abiScope.cMacro("err", $0.name), value: Int128($0.code)) }
    constants += abi.rights.map { ConstantFact(macro: abiScope.cMacro("right", $0.name), value: Int128(1) << $0.code) }
    constants += abi.handleKinds.map { ConstantFact(macro: abiScope.cMacro("handle_kind", $0.name), value: Int128($0.code)) }
    constants += abi.syscalls.map { ConstantFact(macro: abiScope.cMacro("sys", $0.name), value: Int128($0.number)) }
    add(abi.types, abiScope)
    for spec in specs.protocols {
      let scope = NameScope.forProtocol(spec, abi: abi)
      constants.append(ConstantFact(macro: scope.cMacro("version"), value: Int128(spec.version)))
      constants += spec.ops.map { ConstantFact(macro: scope.cMacro("op", $0.name), value: Int128($0.code)) }
      constants += spec.statuses.map { ConstantFact(macro: scope.cMacro("status", $0.name), value: Int128($0.code)) }
      add(spec.types, scope)
      for op in spec.ops {
        for (suffix, fields) in [("request", op.request), ("reply", op.reply)] {
          let name = "\(op.name)_\(suffix)"
          structs.append(StructFact(
            cName: String(scope.cStruct(name).dropFirst("struct ".count)),
            layout: scope.layout.messageLayout(name: name, fields: fields), location: op.origin.element))
        }
      }
    }
  }

  private mutating func add(_ types: TypeSet, _ scope: NameScope) {
    constants += types.constants.map { ConstantFact(macro: scope.cMacro($0.name), value: $0.value) }
    for decl in types.enums {
      constants += decl.cases.map { ConstantFact(macro: scope.cMacro(decl.name, $0.name), value: $0.value) }
    }
    for decl in types.flags {
      constants += decl.flags.map { ConstantFact(macro: scope.cMacro(decl.name, $0.name), value: Int128(1) << $0.bit) }
    }
    structs += types.structs.map {
      StructFact(cName: String(scope.cStruct($0.name).dropFirst("struct ".count)), layout: scope.layout.layout(of: $0), location: $0.origin.element)
    }
  }
}
