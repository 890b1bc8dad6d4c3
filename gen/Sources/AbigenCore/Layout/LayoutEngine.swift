// C layout of every struct and message, computed from the model by the System V
// x86-64 rules (each field at the next multiple of its alignment, the struct padded to
// its largest alignment). The emitters write these numbers into _Static_asserts and
// MemoryLayout checks; AbiDumpBuilder compares them with what libclang says of the
// generated header, so a mistake here cannot go unnoticed.

public struct FieldLayout: Sendable, Equatable {
  public let name: String
  public let typeName: String
  public let count: Int?
  public let reserved: Bool
  public let offset: Int
  public let size: Int
}

public struct StructLayout: Sendable {
  /// The spec name ("process_status", or "read_request" for a message).
  public let name: String
  public let size: Int
  public let alignment: Int
  public let fields: [FieldLayout]
}

public struct LayoutEngine {
  let types: TypeSet
  /// Types of the ABI spec a protocol may use (its message header).
  let abiTypes: TypeSet?

  public init(types: TypeSet, abiTypes: TypeSet? = nil) {
    self.types = types
    self.abiTypes = abiTypes
  }

  /// Size and alignment of one element of a spec type.
  public func sizeAndAlignment(of typeName: String) -> (size: Int, alignment: Int) {
    if let scalar = Scalar(rawValue: typeName) { return (scalar.size, scalar.size) }
    switch types.named(typeName) ?? abiTypes?.named(typeName) {
    case .enumeration(let decl): return (decl.backing.size, decl.backing.size)
    case .flags(let decl): return (decl.backing.size, decl.backing.size)
    case .structure(let decl):
      let layout = self.layout(name: decl.name, fields: decl.fields)
      return (layout.size, layout.alignment)
    case nil:
      return (8, 8)  // handle and uaddr are register-sized; unknown names fail validation first
    }
  }

  public func layout(of decl: StructDecl) -> StructLayout {
    layout(name: decl.name, fields: decl.fields)
  }

  /// A request or reply: the message header, then the op's fields.
  public func messageLayout(name: String, fields: [FieldDecl]) -> StructLayout {
    let (headerSize, headerAlignment) = sizeAndAlignment(of: SpecVocabulary.messageHeader)
    var all = [FieldLayout(name: SpecVocabulary.headerField, typeName: SpecVocabulary.messageHeader,
                           count: nil, reserved: false, offset: 0, size: headerSize)]
    var offset = headerSize
    var alignment = headerAlignment
    for field in fields {
      let placed = place(field, at: &offset)
      alignment = max(alignment, sizeAndAlignment(of: field.typeName).alignment)
      all.append(placed)
    }
    return StructLayout(name: name, size: roundUp(offset, alignment), alignment: alignment, fields: all)
  }

  func layout(name: String, fields: [FieldDecl]) -> StructLayout {
    var offset = 0
    var alignment = 1
    var placed: [FieldLayout] = []
    for field in fields {
      placed.append(place(field, at: &offset))
      alignment = max(alignment, sizeAndAlignment(of: field.typeName).alignment)
    }
    return StructLayout(name: name, size: roundUp(offset, alignment), alignment: alignment, fields: placed)
  }

  private func place(_ field: FieldDecl, at offset: inout Int) -> FieldLayout {
    let (size, alignment) = sizeAndAlignment(of: field.typeName)
    offset = roundUp(offset, alignment)
    let total = size * (field.count ?? 1)
    defer { offset += total }
    return FieldLayout(name: field.name, typeName: field.typeName, count: field.count,
                       reserved: field.reserved, offset: offset, size: total)
  }

  private func roundUp(_ value: Int, _ alignment: Int) -> Int {
    (value + alignment - 1) / alignment * alignment
  }
}
