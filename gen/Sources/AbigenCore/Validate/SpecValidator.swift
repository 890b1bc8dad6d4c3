// The rules a schema cannot state: names resolve, numbers and names are unique,
// pointers have lengths, values fit their types, no name is a keyword of an output
// language, calls fit the calling convention, and every error the generated code
// itself returns is declared by the call. Each broken rule is one diagnostic at the
// attribute that breaks it.

public enum SpecValidator {
  public static func validate(_ specs: SpecSet) throws(DiagnosticList) {
    var problems = Problems()
    validate(specs.abi, &problems)
    var protocolNames: [String: ProtocolSpec] = [:]
    if let first = specs.protocols.first, specs.abi.types.structs.first(where: { $0.name == SpecVocabulary.messageHeader }) == nil {
      problems.add(first.origin.element,
        "protocols need struct '\(SpecVocabulary.messageHeader)' in \(specs.abi.file): every message starts with it")
    }
    for spec in specs.protocols {
      if let first = protocolNames[spec.name] {
        problems.add(spec.origin.at("name"), "duplicate protocol '\(spec.name)'; first in \(first.file)")
      }
      protocolNames[spec.name] = spec
      validate(spec, &problems)
    }
    if !problems.list.isEmpty { throw DiagnosticList(problems.list) }
  }

  // MARK: - the syscall ABI

  static func validate(_ abi: AbiSpec, _ problems: inout Problems) {
    checkCoded(abi.errors, what: "error", range: 1...0xffff, &problems)
    checkCoded(abi.rights, what: "right", range: 0...31, &problems)
    checkCoded(abi.handleKinds, what: "handle kind", range: 1...0xffff, &problems)
    if abi.handleKinds.contains(where: { $0.name == SpecVocabulary.anyKind }) {
      problems.add(abi.handleKinds.first { $0.name == SpecVocabulary.anyKind }!.origin.at("name"),
        "'any' is reserved: an argument with kind=\"any\" accepts every handle kind")
    }
    for required in [SpecVocabulary.noSuchCall, SpecVocabulary.invalidArgument, SpecVocabulary.fault,
                     SpecVocabulary.badHandle, SpecVocabulary.wrongHandleKind, SpecVocabulary.accessDenied]
    where !abi.errors.contains(where: { $0.name == required }) {
      problems.add(abi.origin.element, "the ABI must declare error '\(required)': the generated dispatcher returns it")
    }
    validate(abi.types, version: abi.version, &problems)
    if !abi.handleKinds.isEmpty {
      let close = abi.syscalls.first { $0.name == SpecVocabulary.handleClose }
      // A close argument without a kind is reported where it is written.
      let argument = close?.arguments.first
      if close?.arguments.count != 1 || argument?.typeName != SpecVocabulary.handle
        || (argument?.kind != nil && argument?.kind != SpecVocabulary.anyKind)
      {
        problems.add(close?.origin.element ?? abi.origin.element,
          "the ABI must declare '\(SpecVocabulary.handleClose)' taking one handle of kind \"any\": generated handle types close themselves with it")
      }
    }

    var numbers: [Int: (String, SourceLocation)] = [:]
    var names: [String: SourceLocation] = [:]
    for removed in abi.removed {
      claim(removed.number, removed.name, removed.origin, &numbers, &names, &problems)
      if removed.removed <= removed.since {
        problems.add(removed.origin.at("removed"),
          "'\(removed.name)' is removed in version \(removed.removed), not after its since \(removed.since)")
      }
      if removed.removed > abi.version {
        problems.add(removed.origin.at("removed"),
          "'\(removed.name)' is removed in version \(removed.removed), later than the spec's version \(abi.version)")
      }
    }
    for call in abi.syscalls {
      claim(call.number, call.name, call.origin, &numbers, &names, &problems)
      validate(call, in: abi, &problems)
    }
  }

  private static func claim(
    _ number: Int, _ name: String, _ origin: Origin,
    _ numbers: inout [Int: (String, SourceLocation)], _ names: inout [String: SourceLocation],
    _ problems: inout Problems
  ) {
    if let (owner, location) = numbers[number] {
      problems.add(origin.at("number"), "syscall number \(number) is already taken by '\(owner)' at \(location)")
    } else {
      numbers[number] = (name, origin.element)
    }
    if let first = names[name] {
      problems.add(origin.at("name"), "duplicate syscall name '\(name)'; first at \(first)")
    } else {
      names[name] = origin.element
    }
    checkName(name, origin.at("name"), &problems)
  }

  private static func validate(_ call: SyscallDecl, in abi: AbiSpec, _ problems: inout Problems) {
    let registers = SpecVocabulary.argumentRegisters.count
    if call.arguments.count > registers {
      problems.add(call.arguments[registers].origin.element,
        "'\(call.name)' has \(call.arguments.count) arguments; the calling convention carries at most \(registers)")
    }
    if call.since > abi.version {
      problems.add(call.origin.at("since"), "'\(call.name)' is since version \(call.since), later than the spec's version \(abi.version)")
    }
    let declared = Set(call.errors.map(\.name))
    var seenErrors: Set<String> = []
    for use in call.errors {
      if !abi.errors.contains(where: { $0.name == use.name }) {
        problems.add(use.origin.at("name"), "unknown error '\(use.name)' in '\(call.name)'")
      }
      if !seenErrors.insert(use.name).inserted {
        problems.add(use.origin.at("name"), "error '\(use.name)' is listed twice in '\(call.name)'")
      }
    }
    func require(_ error: String, because reason: String, at location: SourceLocation) {
      if !declared.contains(error) {
        problems.add(location, "'\(call.name)' must list error '\(error)': \(reason)")
      }
    }

    var argumentNames: Set<String> = []
    for argument in call.arguments {
      let at = argument.origin
      checkName(argument.name, at.at("name"), &problems)
      if !argumentNames.insert(argument.name).inserted {
        problems.add(at.at("name"), "duplicate argument '\(argument.name)' in '\(call.name)'")
      }
      let type = argument.typeName
      let named = abi.types.named(type)
      if type == SpecVocabulary.handle {
        guard argument.pointer == nil else {
          problems.add(at.at("pointer"), "argument '\(argument.name)' of '\(call.name)': pointers to handles are arrays of u32")
          continue
        }
        guard let kind = argument.kind else {
          problems.add(at.at("type"), "handle argument '\(argument.name)' of '\(call.name)' needs a kind (or kind=\"any\")")
          continue
        }
        if kind != SpecVocabulary.anyKind && !abi.handleKinds.contains(where: { $0.name == kind }) {
          problems.add(at.at("kind"), "unknown handle kind '\(kind)' for argument '\(argument.name)' of '\(call.name)'")
        }
        checkRights(argument.rights, at.at("rights"), abi, &problems)
        require(SpecVocabulary.badHandle, because: "argument '\(argument.name)' is a handle", at: at.element)
        if kind != SpecVocabulary.anyKind {
          require(SpecVocabulary.wrongHandleKind, because: "argument '\(argument.name)' must be a \(kind) handle", at: at.element)
        }
        if !argument.rights.isEmpty {
          require(SpecVocabulary.accessDenied, because: "argument '\(argument.name)' requires rights", at: at.element)
        }
        continue
      }
      if argument.kind != nil || !argument.rights.isEmpty {
        problems.add(at.at(argument.kind != nil ? "kind" : "rights"),
          "argument '\(argument.name)' of '\(call.name)' is not a handle; kind and rights apply to handles only")
      }
      if let direction = argument.pointer {
        guard Scalar(rawValue: type) != nil || named != nil else {
          problems.add(at.at("type"), "unknown type '\(type)' for argument '\(argument.name)' of '\(call.name)'")
          continue
        }
        let isStruct: Bool
        if case .structure = named { isStruct = true } else { isStruct = false }
        if let length = argument.length {
          if let other = call.arguments.first(where: { $0.name != argument.name && $0.pointer != nil && $0.length == length }),
            call.arguments.firstIndex(where: { $0.name == other.name })! < call.arguments.firstIndex(where: { $0.name == argument.name })!
          {
            problems.add(at.at("length"), "length '\(length)' already counts '\(other.name)'; give each pointer its own length")
          }
          if let lengthArgument = call.arguments.first(where: { $0.name == length }) {
            // An unknown type is reported on the length argument itself.
            let lengthKnown = Scalar(rawValue: lengthArgument.typeName) != nil || abi.types.named(lengthArgument.typeName) != nil
            if lengthKnown && (lengthArgument.pointer != nil || Scalar(rawValue: lengthArgument.typeName).map({ $0.isSigned }) != false) {
              problems.add(at.at("length"),
                "length '\(length)' of argument '\(argument.name)' must be an unsigned integer argument")
            }
          } else {
            problems.add(at.at("length"), "length '\(length)' of argument '\(argument.name)' names no argument of '\(call.name)'")
          }
        } else if !isStruct {
          problems.add(at.at("pointer"),
            "pointer argument '\(argument.name)' of '\(call.name)' has no length: name the argument that counts its elements")
        }
        require(SpecVocabulary.fault, because: "argument '\(argument.name)' is an \(direction.rawValue) pointer", at: at.element)
        continue
      }
      if argument.length != nil {
        problems.add(at.at("length"), "argument '\(argument.name)' of '\(call.name)' has a length but is not a pointer")
      }
      if type == SpecVocabulary.userAddress || Scalar(rawValue: type) != nil { continue }
      switch named {
      case .enumeration, .flags:
        require(SpecVocabulary.invalidArgument, because: "argument '\(argument.name)' has values it may not take", at: at.element)
      case .structure:
        problems.add(at.at("type"), "argument '\(argument.name)' of '\(call.name)' passes struct '\(type)' by value; pass a pointer")
      case nil:
        problems.add(at.at("type"), "unknown type '\(type)' for argument '\(argument.name)' of '\(call.name)'")
      }
    }

    if let result = call.returns {
      let type = result.typeName
      switch type {
      case SpecVocabulary.handle:
        if let kind = result.kind, kind != SpecVocabulary.anyKind {
          if !abi.handleKinds.contains(where: { $0.name == kind }) {
            problems.add(result.origin.at("kind"), "unknown handle kind '\(kind)' returned by '\(call.name)'")
          }
        } else if result.kind == SpecVocabulary.anyKind {
          // A handle to whatever a handle argument names (handle_duplicate): the call
          // decides its rights, never more than that argument's.
          if !result.rights.isEmpty {
            problems.add(result.origin.at("rights"), "'\(call.name)' returns a handle of any kind: its rights come from the call, so declare none")
          }
          if !call.arguments.contains(where: { $0.typeName == SpecVocabulary.handle && $0.pointer == nil }) {
            problems.add(result.origin.at("kind"), "'\(call.name)' returns a handle of any kind, so it must take the handle it derives it from")
          }
        } else {
          problems.add(result.origin.at("type"), "'\(call.name)' returns a handle: say its kind")
        }
        checkRights(result.rights, result.origin.at("rights"), abi, &problems)
        if !call.errors.contains(where: { $0.name == SpecVocabulary.limitReached }) {
          problems.add(result.origin.element,
            "'\(call.name)' returns a handle, so it must list error '\(SpecVocabulary.limitReached)': the dispatcher reserves the handle first and a full table fails the call")
        }
      case SpecVocabulary.never, SpecVocabulary.userAddress:
        if type == SpecVocabulary.never && !call.errors.isEmpty {
          problems.add(call.errors[0].origin.element, "'\(call.name)' never returns, so it cannot return an error")
        }
      default:
        if let scalar = Scalar(rawValue: type) {
          if scalar.isSigned {
            problems.add(result.origin.at("type"),
              "'\(call.name)' returns signed \(type): negative results mean errors, so results are unsigned")
          }
        } else if case .enumeration = abi.types.named(type) {
          break
        } else {
          problems.add(result.origin.at("type"), "'\(call.name)' cannot return '\(type)': return a scalar, enum, handle, uaddr or never")
        }
      }
    }
  }

  private static func checkRights(_ rights: [String], _ location: SourceLocation, _ abi: AbiSpec, _ problems: inout Problems) {
    for right in rights where !abi.rights.contains(where: { $0.name == right }) {
      problems.add(location, "unknown right '\(right)'")
    }
  }

  // MARK: - protocols

  static func validate(_ spec: ProtocolSpec, _ problems: inout Problems) {
    checkCoded(spec.statuses, what: "status", range: 0...0xffff, &problems)
    if !spec.statuses.contains(where: { $0.name == SpecVocabulary.okStatus && $0.code == 0 }) {
      problems.add(spec.origin.element, "protocol '\(spec.name)' must declare status 'ok' with code 0")
    }
    if !spec.statuses.contains(where: { $0.name == SpecVocabulary.badRequestStatus }) {
      problems.add(spec.origin.element,
        "protocol '\(spec.name)' must declare status 'bad_request': generated servers answer malformed requests with it")
    }
    validate(spec.types, version: spec.version, &problems)
    var codes: [Int: String] = [:]
    var names: Set<String> = []
    for op in spec.ops {
      checkName(op.name, op.origin.at("name"), &problems)
      if let owner = codes[op.code] {
        problems.add(op.origin.at("code"), "op code \(op.code) is already taken by '\(owner)'")
      }
      codes[op.code] = op.name
      if !names.insert(op.name).inserted {
        problems.add(op.origin.at("name"), "duplicate op '\(op.name)'")
      }
      if op.since > spec.version {
        problems.add(op.origin.at("since"), "'\(op.name)' is since version \(op.since), later than the spec's version \(spec.version)")
      }
      validateFields(op.request, owner: "request of '\(op.name)'", spec.types, &problems)
      validateFields(op.reply, owner: "reply of '\(op.name)'", spec.types, &problems)
      var seen: Set<String> = []
      for use in op.errors {
        if use.name == SpecVocabulary.okStatus || !spec.statuses.contains(where: { $0.name == use.name }) {
          problems.add(use.origin.at("name"), "'\(use.name)' is not an error status of protocol '\(spec.name)'")
        }
        if !seen.insert(use.name).inserted {
          problems.add(use.origin.at("name"), "status '\(use.name)' is listed twice in '\(op.name)'")
        }
      }
      if let shm = op.shm {
        for (attribute, field) in [("offset", shm.offsetField), ("length", shm.lengthField)] {
          guard let found = op.request.first(where: { $0.name == field }) else {
            problems.add(shm.origin.at(attribute), "\(attribute) '\(field)' names no request field of '\(op.name)'")
            continue
          }
          if Scalar(rawValue: found.typeName).map({ $0.isSigned || found.count != nil }) != false {
            problems.add(shm.origin.at(attribute), "\(attribute) '\(field)' of '\(op.name)' must be an unsigned integer field")
          }
        }
      }
    }
  }

  // MARK: - types

  static func validate(_ types: TypeSet, version: Int, _ problems: inout Problems) {
    var names: [String: SourceLocation] = [:]
    func declare(_ name: String, _ origin: Origin) {
      checkName(name, origin.at("name"), &problems)
      if let first = names[name] {
        problems.add(origin.at("name"), "duplicate type or constant name '\(name)'; first at \(first)")
      } else if Scalar(rawValue: name) != nil || [SpecVocabulary.handle, SpecVocabulary.userAddress, SpecVocabulary.never].contains(name) {
        problems.add(origin.at("name"), "'\(name)' is a built-in type name")
      } else {
        names[name] = origin.element
      }
    }
    for constant in types.constants {
      declare(constant.name, constant.origin)
      if !constant.type.range.contains(constant.value) {
        problems.add(constant.origin.at("value"), "value \(constant.value) of constant '\(constant.name)' does not fit \(constant.type.rawValue)")
      }
    }
    for decl in types.enums {
      declare(decl.name, decl.origin)
      var values: [Int128: String] = [:]
      var caseNames: Set<String> = []
      for value in decl.cases {
        checkName(value.name, value.origin.at("name"), &problems)
        if !caseNames.insert(value.name).inserted {
          problems.add(value.origin.at("name"), "duplicate value name '\(value.name)' in enum '\(decl.name)'")
        }
        if !decl.backing.range.contains(value.value) {
          problems.add(value.origin.at("value"), "value \(value.value) of '\(decl.name).\(value.name)' does not fit \(decl.backing.rawValue)")
        } else if let owner = values[value.value] {
          problems.add(value.origin.at("value"), "value \(value.value) of enum '\(decl.name)' is already taken by '\(owner)'")
        }
        values[value.value] = value.name
      }
    }
    for decl in types.flags {
      declare(decl.name, decl.origin)
      var bits: [Int: String] = [:]
      var flagNames: Set<String> = []
      for flag in decl.flags {
        checkName(flag.name, flag.origin.at("name"), &problems)
        if !flagNames.insert(flag.name).inserted {
          problems.add(flag.origin.at("name"), "duplicate flag name '\(flag.name)' in '\(decl.name)'")
        }
        if flag.bit >= decl.backing.bits || decl.backing.isSigned {
          problems.add(flag.origin.at("bit"), "bit \(flag.bit) of flag '\(decl.name).\(flag.name)' does not fit \(decl.backing.rawValue)")
        } else if let owner = bits[flag.bit] {
          problems.add(flag.origin.at("bit"), "bit \(flag.bit) of '\(decl.name)' is already taken by '\(owner)'")
        }
        bits[flag.bit] = flag.name
      }
    }
    for decl in types.structs {
      declare(decl.name, decl.origin)
      validateFields(decl.fields, owner: "struct '\(decl.name)'", types, &problems)
      if containsItself(decl, types, visiting: []) {
        problems.add(decl.origin.at("name"), "struct '\(decl.name)' contains itself")
      }
    }
  }

  static func validateFields(_ fields: [FieldDecl], owner: String, _ types: TypeSet, _ problems: inout Problems) {
    var seen: Set<String> = []
    for field in fields {
      checkName(field.name, field.origin.at("name"), &problems)
      if !seen.insert(field.name).inserted {
        problems.add(field.origin.at("name"), "duplicate field '\(field.name)' in \(owner)")
      }
      if field.name == SpecVocabulary.headerField && owner.contains("of '") {
        problems.add(field.origin.at("name"), "'header' is the message header every request and reply starts with")
      }
      if Scalar(rawValue: field.typeName) == nil && types.named(field.typeName) == nil {
        problems.add(field.origin.at("type"), "unknown type '\(field.typeName)' for field '\(field.name)' of \(owner)")
      }
    }
  }

  private static func containsItself(_ decl: StructDecl, _ types: TypeSet, visiting: Set<String>) -> Bool {
    if visiting.contains(decl.name) { return true }
    for field in decl.fields {
      if case .structure(let inner) = types.named(field.typeName),
        containsItself(inner, types, visiting: visiting.union([decl.name]))
      {
        return true
      }
    }
    return false
  }

  // MARK: - shared checks

  private static func checkCoded(_ decls: [CodedDecl], what: String, range: ClosedRange<Int>, _ problems: inout Problems) {
    var codes: [Int: String] = [:]
    var names: Set<String> = []
    for decl in decls {
      checkName(decl.name, decl.origin.at("name"), &problems)
      if !names.insert(decl.name).inserted {
        problems.add(decl.origin.at("name"), "duplicate \(what) '\(decl.name)'")
      }
      let attribute = decl.origin.attributes["bit"] != nil ? "bit" : "code"
      if !range.contains(decl.code) {
        problems.add(decl.origin.at(attribute), "\(what) '\(decl.name)' has \(attribute) \(decl.code), outside \(range.lowerBound)...\(range.upperBound)")
      } else if let owner = codes[decl.code] {
        problems.add(decl.origin.at(attribute), "\(what) \(attribute) \(decl.code) is already taken by '\(owner)'")
      }
      codes[decl.code] = decl.name
    }
  }

  private static func checkName(_ name: String, _ location: SourceLocation, _ problems: inout Problems) {
    let camel = Names.lowerCamel(name)
    if Names.cKeywords.contains(name) {
      problems.add(location, "'\(name)' is a keyword in C")
    } else if Names.swiftKeywords.contains(name) || Names.swiftKeywords.contains(camel) {
      problems.add(location, "'\(name)' is a keyword in Swift")
    }
  }
}

struct Problems {
  private(set) var list: [Diagnostic] = []
  mutating func add(_ location: SourceLocation, _ message: String) {
    list.append(Diagnostic(location, message))
  }
}
