// The spec as abigen understands it, after loading and before validation. Every
// declaration keeps where it was written (`location`, and per-attribute `at(_:)`), so
// any later stage can point at the exact text a problem comes from.

/// Locations of a declaration's element and of its attributes.
public struct Origin: Sendable {
  public let element: SourceLocation
  public let attributes: [String: SourceLocation]

  /// Where attribute `name` was written, or the element if it was not.
  public func at(_ name: String) -> SourceLocation { attributes[name] ?? element }
}

public struct ConstantDecl: Sendable {
  public let name: String
  public let type: Scalar
  public let value: Int128
  public let doc: String
  public let origin: Origin
}

public struct EnumCaseDecl: Sendable {
  public let name: String
  public let value: Int128
  public let doc: String
  public let origin: Origin
}

public struct EnumDecl: Sendable {
  public let name: String
  public let backing: Scalar
  public let doc: String
  public let cases: [EnumCaseDecl]
  public let origin: Origin
}

public struct FlagDecl: Sendable {
  public let name: String
  public let bit: Int
  public let doc: String
  public let origin: Origin
}

public struct FlagsDecl: Sendable {
  public let name: String
  public let backing: Scalar
  public let doc: String
  public let flags: [FlagDecl]
  public let origin: Origin
}

public struct FieldDecl: Sendable {
  public let name: String
  public let typeName: String
  /// Elements of a fixed-size array field; nil for a single value.
  public let count: Int?
  /// Padding or room to grow; renaming it into use is a compatible change.
  public let reserved: Bool
  public let doc: String
  public let origin: Origin
}

public struct StructDecl: Sendable {
  public let name: String
  public let doc: String
  public let fields: [FieldDecl]
  public let origin: Origin
}

/// The named types of one spec file, in the order they were written.
public struct TypeSet: Sendable {
  public var constants: [ConstantDecl] = []
  public var enums: [EnumDecl] = []
  public var flags: [FlagsDecl] = []
  public var structs: [StructDecl] = []

  public enum Named: Sendable {
    case enumeration(EnumDecl)
    case flags(FlagsDecl)
    case structure(StructDecl)
  }

  public func named(_ name: String) -> Named? {
    if let found = enums.first(where: { $0.name == name }) { return .enumeration(found) }
    if let found = flags.first(where: { $0.name == name }) { return .flags(found) }
    if let found = structs.first(where: { $0.name == name }) { return .structure(found) }
    return nil
  }
}

/// An error code, right, handle kind or protocol status: a name, a number, a meaning.
public struct CodedDecl: Sendable {
  public let name: String
  public let code: Int
  public let doc: String
  public let origin: Origin
}

/// One error a call or op declares it can return, with what it means there.
public struct ErrorUse: Sendable {
  public let name: String
  public let doc: String
  public let origin: Origin
}

public struct ArgumentDecl: Sendable {
  public let name: String
  public let typeName: String
  /// Set when the argument is a user pointer to `typeName`.
  public let pointer: Direction?
  /// For pointers: the argument holding the element count.
  public let length: String?
  /// For handles: the required kind, or "any".
  public let kind: String?
  public let rights: [String]
  public let doc: String
  public let origin: Origin
}

public struct ReturnDecl: Sendable {
  public let typeName: String
  public let kind: String?
  public let rights: [String]
  public let doc: String
  public let origin: Origin
}

public struct SyscallDecl: Sendable {
  public let name: String
  public let number: Int
  public let since: Int
  public let blocking: Bool
  public let doc: String
  public let arguments: [ArgumentDecl]
  /// nil: the call returns nothing on success.
  public let returns: ReturnDecl?
  public let errors: [ErrorUse]
  public let origin: Origin

  public var neverReturns: Bool { returns?.typeName == SpecVocabulary.never }
}

/// A removed call. Its number stays taken forever.
public struct RemovedDecl: Sendable {
  public let name: String
  public let number: Int
  public let since: Int
  public let removed: Int
  public let doc: String
  public let origin: Origin
}

public struct AbiSpec: Sendable {
  public let file: String
  public let name: String
  public let version: Int
  public let doc: String
  public let errors: [CodedDecl]
  public let rights: [CodedDecl]
  public let handleKinds: [CodedDecl]
  public let types: TypeSet
  public let syscalls: [SyscallDecl]
  public let removed: [RemovedDecl]
  public let origin: Origin
}

public struct ShmDecl: Sendable {
  public let direction: Direction
  public let offsetField: String
  public let lengthField: String
  public let doc: String
  public let origin: Origin
}

public struct OpDecl: Sendable {
  public let name: String
  public let code: Int
  public let since: Int
  public let idempotent: Bool
  /// The reply may wait for something outside the server (a datagram, a timeout).
  public let waits: Bool
  public let doc: String
  public let request: [FieldDecl]
  public let reply: [FieldDecl]
  public let shm: ShmDecl?
  public let errors: [ErrorUse]
  public let origin: Origin
}

public struct ProtocolSpec: Sendable {
  public let file: String
  public let name: String
  public let version: Int
  public let doc: String
  public let types: TypeSet
  public let statuses: [CodedDecl]
  public let ops: [OpDecl]
  public let origin: Origin
}

/// Everything in spec/: one syscall ABI and any number of protocols.
public struct SpecSet: Sendable {
  public let abi: AbiSpec
  public let protocols: [ProtocolSpec]
}

/// Type names with a fixed meaning in every spec.
public enum SpecVocabulary {
  public static let handle = "handle"
  /// A user-space address the kernel stores or returns but never dereferences.
  public static let userAddress = "uaddr"
  public static let never = "never"
  public static let anyKind = "any"
  /// The calling convention's argument registers (rdi, rsi, rdx, r10, r8, r9).
  public static let argumentRegisters = ["rdi", "rsi", "rdx", "r10", "r8", "r9"]
  /// Errors the generated dispatcher and prologue return themselves.
  public static let noSuchCall = "no_such_call"
  /// The constant that tells programs which ABI version their header describes.
  public static let abiVersionConstant = "abi_version"
  /// The error of a call whose result handle finds the caller's table full.
  public static let limitReached = "limit_reached"
  /// The call that closes a handle; generated handle types call it when dropped.
  public static let handleClose = "handle_close"
  public static let invalidArgument = "invalid_argument"
  public static let fault = "fault"
  public static let badHandle = "bad_handle"
  public static let wrongHandleKind = "wrong_handle_kind"
  public static let accessDenied = "access_denied"
  /// The status every protocol reply uses for success.
  public static let okStatus = "ok"
  /// The status generated servers answer malformed or unknown requests with.
  public static let badRequestStatus = "bad_request"
  /// The ABI struct every protocol message starts with.
  public static let messageHeader = "msg_header"
  /// The field name the header takes in every request and reply.
  public static let headerField = "header"
}
