// The ABI dump: every fact a program built against the ABI depends on, as JSON. The
// struct layouts and constant values in it are what libclang reports for the
// generated C header compiled for the guest, not what abigen believes; AbiDumpBuilder
// makes sure the two agree. spec/baseline/abi_v0.json is one of these, frozen.

public struct AbiDump: Codable, Equatable, Sendable {
  public var format = 1
  public var abi: Header
  public var syscalls: [Syscall]
  public var removed: [Removed]
  public var errors: [Coded]
  public var rights: [Coded]
  public var handleKinds: [Coded]
  public var constants: [Constant]
  public var enums: [Enumeration]
  public var flags: [Flags]
  public var structs: [Struct]
  public var protocols: [ProtocolEntry]

  public struct Header: Codable, Equatable, Sendable {
    public var name: String
    public var version: Int
    public var spec: String
  }

  public struct Argument: Codable, Equatable, Sendable {
    public var name: String
    public var type: String
    public var pointer: String?
    public var length: String?
    public var kind: String?
    public var rights: [String]
  }

  public struct Result: Codable, Equatable, Sendable {
    public var type: String
    public var kind: String?
    public var rights: [String]
  }

  public struct Syscall: Codable, Equatable, Sendable {
    public var number: Int
    public var name: String
    public var since: Int
    public var blocking: Bool
    public var arguments: [Argument]
    public var returns: Result?
    public var errors: [String]
    public var location: String
  }

  public struct Removed: Codable, Equatable, Sendable {
    public var number: Int
    public var name: String
    public var since: Int
    public var removed: Int
    public var location: String
  }

  public struct Coded: Codable, Equatable, Sendable {
    public var name: String
    public var code: Int
    public var location: String
  }

  public struct Constant: Codable, Equatable, Sendable {
    public var name: String
    public var scope: String  // "" for the ABI, else the protocol
    public var type: String
    public var value: String  // decimal, exact for every 64-bit value
    public var location: String
  }

  public struct Enumeration: Codable, Equatable, Sendable {
    public var name: String
    public var scope: String
    public var type: String
    public var values: [Value]
    public var location: String
  }

  public struct Value: Codable, Equatable, Sendable {
    public var name: String
    public var value: String
  }

  public struct Flags: Codable, Equatable, Sendable {
    public var name: String
    public var scope: String
    public var type: String
    public var flags: [Coded]
    public var location: String
  }

  public struct Field: Codable, Equatable, Sendable {
    public var name: String
    public var type: String
    public var count: Int?
    public var reserved: Bool
    public var offset: Int
    public var size: Int
  }

  public struct Struct: Codable, Equatable, Sendable {
    /// The C name ("apus_process_status", "apus_block_read_request").
    public var name: String
    public var size: Int
    public var alignment: Int
    public var fields: [Field]
    public var location: String
  }

  public struct Op: Codable, Equatable, Sendable {
    public var name: String
    public var code: Int
    public var since: Int
    public var idempotent: Bool
    public var request: String
    public var reply: String
    public var errors: [String]
    public var location: String
  }

  public struct ProtocolEntry: Codable, Equatable, Sendable {
    public var name: String
    public var version: Int
    public var spec: String
    public var ops: [Op]
    public var statuses: [Coded]
    public var location: String
  }
}
