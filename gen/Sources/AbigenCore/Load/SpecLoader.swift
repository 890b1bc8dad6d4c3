// Reads spec/*.xml into a SpecSet: each file is parsed and validated against the
// schema by libxml2 (SpecXML), then turned into model values that keep their source
// locations. Nothing here judges the spec's meaning; SpecValidator does that.
import Foundation
import SpecXML

public enum SpecLoader {
  /// Loads every `*.xml` in `directory`. `displayDirectory` is how paths appear in
  /// messages and generated files (usually "spec").
  public static func load(
    directory: String, displayDirectory: String, schema: String
  ) throws -> SpecSet {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory)
        .filter { $0.hasSuffix(".xml") }.sorted()
    } catch {
      throw AbigenFailure("cannot read spec directory \(directory): \(error.localizedDescription)")
    }
    var abi: AbiSpec? = nil
    var protocols: [ProtocolSpec] = []
    var diagnostics: [Diagnostic] = []
    for name in names {
      let display = displayDirectory.isEmpty ? name : "\(displayDirectory)/\(name)"
      do {
        switch try loadFile(path: "\(directory)/\(name)", displayName: display, schema: schema) {
        case .abi(let spec):
          if let first = abi {
            diagnostics.append(Diagnostic(spec.origin.element, "a second <abi> spec; the first is \(first.file)"))
          } else {
            abi = spec
          }
        case .protocol(let spec):
          protocols.append(spec)
        }
      } catch let list as DiagnosticList {
        diagnostics += list.diagnostics
      }
    }
    if !diagnostics.isEmpty { throw DiagnosticList(diagnostics) }
    guard let abi else {
      throw DiagnosticList([Diagnostic(SourceLocation(file: displayDirectory, line: 1, column: 1), "no <abi> spec found")])
    }
    return SpecSet(abi: abi, protocols: protocols)
  }

  public enum LoadedFile {
    case abi(AbiSpec)
    case `protocol`(ProtocolSpec)
  }

  public static func loadFile(path: String, displayName: String, schema: String) throws -> LoadedFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw AbigenFailure("cannot read \(path)")
    }
    let root: XMLElement
    do {
      root = try SpecXMLReader.read(source: Array(data), fileName: displayName, schemaPath: schema)
    } catch {
      throw DiagnosticList(error.problems.map {
        Diagnostic(SourceLocation(file: displayName, line: $0.position.line, column: $0.position.column), $0.message)
      })
    }
    var reader = ElementReader(file: displayName)
    let loaded: LoadedFile
    if root.name == "abi" {
      loaded = .abi(readAbi(root, &reader))
    } else {
      loaded = .protocol(readProtocol(root, &reader))
    }
    if !reader.diagnostics.isEmpty { throw DiagnosticList(reader.diagnostics) }
    return loaded
  }

  // MARK: - <abi>

  static func readAbi(_ root: XMLElement, _ reader: inout ElementReader) -> AbiSpec {
    var syscalls: [SyscallDecl] = []
    var removed: [RemovedDecl] = []
    for element in root.child(named: "syscalls")?.children ?? [] {
      if element.name == "syscall" {
        syscalls.append(readSyscall(element, &reader))
      } else {
        removed.append(RemovedDecl(
          name: reader.string(element, "name"), number: reader.int(element, "number"),
          since: reader.int(element, "since"), removed: reader.int(element, "removed"),
          doc: element.text, origin: reader.origin(element)))
      }
    }
    return AbiSpec(
      file: reader.file, name: reader.string(root, "name"), version: reader.int(root, "version"),
      doc: reader.doc(root),
      errors: coded(root.child(named: "errors")?.children(named: "error") ?? [], "code", &reader),
      rights: coded(root.child(named: "rights")?.children(named: "right") ?? [], "bit", &reader),
      handleKinds: coded(root.child(named: "handle-kinds")?.children(named: "kind") ?? [], "code", &reader),
      types: readTypes(root.child(named: "types"), &reader),
      syscalls: syscalls, removed: removed, origin: reader.origin(root))
  }

  static func readSyscall(_ element: XMLElement, _ reader: inout ElementReader) -> SyscallDecl {
    let arguments = element.children(named: "arg").map { arg in
      ArgumentDecl(
        name: reader.string(arg, "name"), typeName: reader.string(arg, "type"),
        pointer: reader.optionalString(arg, "pointer").flatMap(Direction.init(rawValue:)),
        length: reader.optionalString(arg, "length"), kind: reader.optionalString(arg, "kind"),
        rights: reader.list(arg, "rights"), doc: arg.text, origin: reader.origin(arg))
    }
    let returns = element.child(named: "returns").map { result in
      ReturnDecl(
        typeName: reader.string(result, "type"), kind: reader.optionalString(result, "kind"),
        rights: reader.list(result, "rights"), doc: result.text, origin: reader.origin(result))
    }
    return SyscallDecl(
      name: reader.string(element, "name"), number: reader.int(element, "number"),
      since: reader.int(element, "since"), blocking: reader.bool(element, "blocking"),
      doc: reader.doc(element), arguments: arguments, returns: returns,
      errors: errorUses(element, reader), origin: reader.origin(element))
  }

  // MARK: - <protocol>

  static func readProtocol(_ root: XMLElement, _ reader: inout ElementReader) -> ProtocolSpec {
    let ops = root.children(named: "op").map { op in
      OpDecl(
        name: reader.string(op, "name"), code: reader.int(op, "code"), since: reader.int(op, "since"),
        idempotent: reader.bool(op, "idempotent"), waits: reader.bool(op, "waits"), doc: reader.doc(op),
        request: fields(op.child(named: "request"), &reader),
        reply: fields(op.child(named: "reply"), &reader),
        shm: op.child(named: "shm").map { shm in
          ShmDecl(
            direction: Direction(rawValue: reader.string(shm, "direction")) ?? .in,
            offsetField: reader.string(shm, "offset"), lengthField: reader.string(shm, "length"),
            doc: shm.text, origin: reader.origin(shm))
        },
        errors: errorUses(op, reader), origin: reader.origin(op))
    }
    return ProtocolSpec(
      file: reader.file, name: reader.string(root, "name"), version: reader.int(root, "version"),
      doc: reader.doc(root), types: readTypes(root.child(named: "types"), &reader),
      statuses: coded(root.child(named: "status")?.children(named: "value") ?? [], "code", &reader),
      ops: ops, origin: reader.origin(root))
  }

  // MARK: - shared pieces

  static func readTypes(_ element: XMLElement?, _ reader: inout ElementReader) -> TypeSet {
    var types = TypeSet()
    for child in element?.children ?? [] {
      let origin = reader.origin(child)
      let name = reader.string(child, "name")
      let backing = Scalar(rawValue: reader.string(child, "type")) ?? .u32
      switch child.name {
      case "constant":
        types.constants.append(ConstantDecl(
          name: name, type: backing, value: reader.integer(child, "value"), doc: child.text, origin: origin))
      case "enum":
        types.enums.append(EnumDecl(
          name: name, backing: backing, doc: reader.doc(child),
          cases: child.children(named: "value").map { value in
            EnumCaseDecl(
              name: reader.string(value, "name"), value: reader.integer(value, "value"),
              doc: value.text, origin: reader.origin(value))
          }, origin: origin))
      case "flags":
        types.flags.append(FlagsDecl(
          name: name, backing: backing, doc: reader.doc(child),
          flags: child.children(named: "flag").map { flag in
            FlagDecl(name: reader.string(flag, "name"), bit: reader.int(flag, "bit"), doc: flag.text, origin: reader.origin(flag))
          }, origin: origin))
      default:
        types.structs.append(StructDecl(
          name: name, doc: reader.doc(child), fields: fields(child, &reader), origin: origin))
      }
    }
    return types
  }

  static func fields(_ element: XMLElement?, _ reader: inout ElementReader) -> [FieldDecl] {
    (element?.children(named: "field") ?? []).map { field in
      FieldDecl(
        name: reader.string(field, "name"), typeName: reader.string(field, "type"),
        count: field.attribute("count") == nil ? nil : reader.int(field, "count"),
        reserved: reader.bool(field, "reserved"), doc: field.text, origin: reader.origin(field))
    }
  }

  static func coded(_ elements: [XMLElement], _ attribute: String, _ reader: inout ElementReader) -> [CodedDecl] {
    elements.map { element in
      CodedDecl(
        name: reader.string(element, "name"), code: reader.int(element, attribute),
        doc: element.text, origin: reader.origin(element))
    }
  }

  static func errorUses(_ element: XMLElement, _ reader: ElementReader) -> [ErrorUse] {
    element.children(named: "error").map { error in
      ErrorUse(name: reader.string(error, "name"), doc: error.text, origin: reader.origin(error))
    }
  }
}
