// What each argument of a validated call is for, worked out once for every emitter:
// the kernel decodes by it, the user bindings fold pointer+length pairs into buffers
// by it, the tracer prints by it and the docs describe by it.

public enum ArgumentRole: Sendable {
  case scalar(Scalar)
  /// A user address the kernel does not dereference (an entry point, a mapping hint).
  case userAddress
  case enumeration(EnumDecl)
  case flags(FlagsDecl)
  /// kind nil: any kind.
  case handle(kind: String?, rights: [String])
  /// A user pointer; `length` names the argument counting its elements (nil: one).
  case pointer(Direction, element: String, length: String?)
}

public struct ShapedArgument: Sendable {
  public let decl: ArgumentDecl
  public let role: ArgumentRole
  /// Register index (0 = rdi).
  public let register: Int
  /// Set when this argument is the length of the named pointer argument.
  public let countsPointer: String?
}

public struct SyscallShape: Sendable {
  public let call: SyscallDecl
  public let arguments: [ShapedArgument]

  public init(_ call: SyscallDecl, in abi: AbiSpec) {
    self.call = call
    var counted: [String: String] = [:]
    for argument in call.arguments where argument.pointer != nil {
      if let length = argument.length { counted[length] = argument.name }
    }
    arguments = call.arguments.enumerated().map { index, argument in
      let role: ArgumentRole
      if let direction = argument.pointer {
        role = .pointer(direction, element: argument.typeName, length: argument.length)
      } else if argument.typeName == SpecVocabulary.handle {
        role = .handle(kind: argument.kind == SpecVocabulary.anyKind ? nil : argument.kind, rights: argument.rights)
      } else if argument.typeName == SpecVocabulary.userAddress {
        role = .userAddress
      } else if let scalar = Scalar(rawValue: argument.typeName) {
        role = .scalar(scalar)
      } else {
        switch abi.types.named(argument.typeName) {
        case .enumeration(let decl): role = .enumeration(decl)
        case .flags(let decl): role = .flags(decl)
        default: role = .scalar(.u64)  // validation rejects anything else
        }
      }
      return ShapedArgument(decl: argument, role: role, register: index, countsPointer: counted[argument.name])
    }
  }

  public func argument(named name: String) -> ShapedArgument? {
    arguments.first { $0.decl.name == name }
  }

  /// Single-value out pointers to structs: user bindings return these.
  public var returnedStructs: [ShapedArgument] {
    arguments.filter {
      if case .pointer(.out, _, nil) = $0.role { return true }
      return false
    }
  }
}
