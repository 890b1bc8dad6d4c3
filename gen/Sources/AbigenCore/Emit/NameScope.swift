// How a spec name is spelled in C and Swift, in the ABI (`apus_process_status`,
// `ProcessStatus`) or inside a protocol (`apus_block_read_request`,
// `BlockProtocol.ReadRequest`). The one place emitters learn spellings from.

struct NameScope {
  /// nil for the syscall ABI; the protocol's name otherwise.
  let protocolName: String?
  let types: TypeSet
  /// The ABI's types, which a protocol may name (its message header).
  let abiTypes: TypeSet

  static func abi(_ spec: AbiSpec) -> NameScope {
    NameScope(protocolName: nil, types: spec.types, abiTypes: spec.types)
  }

  static func forProtocol(_ spec: ProtocolSpec, abi: AbiSpec) -> NameScope {
    NameScope(protocolName: spec.name, types: spec.types, abiTypes: abi.types)
  }

  var layout: LayoutEngine { LayoutEngine(types: types, abiTypes: abiTypes) }

  /// Inside a protocol every name is the protocol's (its types, its messages) except
  /// the ABI types it borrows, such as the message header.
  private func owns(_ typeName: String) -> Bool {
    protocolName == nil || types.named(typeName) != nil || abiTypes.named(typeName) == nil
  }

  // MARK: C

  var cPrefix: String {
    protocolName.map { "\(GeneratedText.cPrefix)_\($0)_" } ?? "\(GeneratedText.cPrefix)_"
  }
  var cMacroPrefix: String { cPrefix.uppercased() }

  func cStruct(_ name: String) -> String {
    owns(name) ? "struct \(cPrefix)\(name)" : "struct \(GeneratedText.cPrefix)_\(name)"
  }

  func cTypedef(_ name: String) -> String {
    owns(name) ? "\(cPrefix)\(name)_t" : "\(GeneratedText.cPrefix)_\(name)_t"
  }

  func cMacro(_ parts: String...) -> String {
    cMacroPrefix + parts.map(Names.upperSnake).joined(separator: "_")
  }

  /// The C spelling of a value of `typeName` (a field or argument).
  func cType(_ typeName: String) -> String {
    if let scalar = Scalar(rawValue: typeName) { return scalar.cType }
    switch typeName {
    case SpecVocabulary.handle: return "\(GeneratedText.cPrefix)_handle_t"
    case SpecVocabulary.userAddress: return "uintptr_t"
    default: break
    }
    switch types.named(typeName) ?? abiTypes.named(typeName) {
    case .structure: return cStruct(typeName)
    default: return cTypedef(typeName)
    }
  }

  // MARK: Swift

  /// The namespace enum a protocol's Swift declarations live in.
  var swiftNamespace: String? { protocolName.map { Names.upperCamel($0) + "Protocol" } }

  func swiftTypeName(_ name: String) -> String { Names.upperCamel(name) }

  /// The Swift spelling of a value of `typeName`, as seen from inside this scope.
  func swiftType(_ typeName: String) -> String {
    if let scalar = Scalar(rawValue: typeName) { return scalar.swiftType }
    switch typeName {
    case SpecVocabulary.handle: return "UInt32"
    case SpecVocabulary.userAddress: return "UInt"
    default: return Names.upperCamel(typeName)
    }
  }

  /// The Swift type of a field, with fixed-size arrays as InlineArray.
  func swiftFieldType(_ field: FieldDecl) -> String {
    let element = swiftType(field.typeName)
    return field.count.map { "InlineArray<\($0), \(element)>" } ?? element
  }

  /// A zero value of a field's type, for initializers.
  func swiftZero(_ field: FieldDecl) -> String {
    let element: String
    if Scalar(rawValue: field.typeName) != nil {
      element = "0"
    } else {
      switch types.named(field.typeName) ?? abiTypes.named(field.typeName) {
      case .enumeration(let decl):
        let zero = decl.cases.first { $0.value == 0 } ?? decl.cases[0]
        element = ".\(Names.lowerCamel(zero.name))"
      case .flags: element = "[]"
      case .structure: element = "\(swiftType(field.typeName))()"
      case nil: element = "0"
      }
    }
    return field.count.map { "InlineArray<\($0), \(swiftType(field.typeName))>(repeating: \(element))" } ?? element
  }
}

/// Integer literals for C, exact for every value a spec type can hold.
enum CLiteral {
  static func of(_ value: Int128, as scalar: Scalar) -> String {
    if scalar.isSigned {
      if value == scalar.range.lowerBound && scalar == .i64 {
        return "(-9223372036854775807ll - 1)"
      }
      return scalar == .i64 ? "\(value)ll" : "\(value)"
    }
    return value > Int128(UInt32.max) ? "\(value)ull" : "\(value)u"
  }

  static func hex(_ value: UInt64) -> String {
    "0x" + String(value, radix: 16) + (value > UInt64(UInt32.max) ? "ull" : "u")
  }
}
