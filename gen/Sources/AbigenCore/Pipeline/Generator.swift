// The pipeline, stage by stage: load (libxml2 + schema) → validate → emit. Each stage
// either hands a complete value to the next or throws every problem it found; only a
// spec that passed every stage reaches OutputWriter, so a bad spec writes nothing.
import Foundation

public struct Generator {
  public let specDirectory: String
  /// How spec paths appear in messages and markers ("spec").
  public let displayDirectory: String
  public let schema: String

  public init(specDirectory: String, displayDirectory: String = "spec", schema: String? = nil) {
    self.specDirectory = specDirectory
    self.displayDirectory = displayDirectory
    self.schema = schema ?? "\(specDirectory)/apus-abi.xsd"
  }

  public func load() throws -> SpecSet {
    guard FileManager.default.isReadableFile(atPath: schema) else {
      throw AbigenFailure("cannot read the spec schema \(schema)")
    }
    let specs = try SpecLoader.load(directory: specDirectory, displayDirectory: displayDirectory, schema: schema)
    try SpecValidator.validate(specs)
    return specs
  }

  /// The whole `abigen generate`: load, validate, emit, write under `root`. Throws
  /// before writing anything if any stage fails. Returns the paths that changed.
  @discardableResult
  public func generate(into root: String) throws -> [String] {
    try OutputWriter.write(Self.outputs(for: try load()), under: root)
  }

  /// Every generated file, in a fixed order.
  public static func outputs(for specs: SpecSet) -> [GeneratedFile] {
    let headers = CHeaderEmitter(specs: specs)
    let markdown = MarkdownEmitter(specs: specs)
    var files = [
      SwiftTypesEmitter(specs: specs, access: "").abiTypes(path: "kernel/generated/AbiTypes.swift"),
      KernelDispatchEmitter(abi: specs.abi).dispatch(),
      SyscallTraceEmitter(abi: specs.abi).table(),
      ProtocolTraceEmitter(specs: specs).table(),
      headers.syscallHeader(),
      SyscallFuzzEmitter(abi: specs.abi).header(),
      AsmStubEmitter(abi: specs.abi).stubs(),
      SwiftTypesEmitter(specs: specs, access: "public ").abiTypes(path: "ulib/swift/generated/AbiTypes.swift"),
      SwiftSyscallsEmitter(abi: specs.abi).bindings(),
      markdown.syscallReference(),
    ]
    files.append(ProtocolFuzzEmitter(specs: specs).header())
    for spec in specs.protocols {
      files.append(headers.protocolHeader(spec))
      files.append(SwiftProtocolEmitter(specs: specs).protocolFile(spec))
      files.append(markdown.protocolReference(spec))
    }
    return files
  }

  /// The folders generated files live in; `verify` also reports stale files there.
  public static let generatedFolders = ["kernel/generated", "ulib/generated", "ulib/swift/generated", "docs/abi"]

  public static func dumpJSON(_ dump: AbiDump) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(dump), as: UTF8.self) + "\n"
  }

  public static func decodeDump(_ data: Data, path: String) throws -> AbiDump {
    do {
      return try JSONDecoder().decode(AbiDump.self, from: data)
    } catch {
      throw AbigenFailure("\(path) is not an ABI dump: \(error)")
    }
  }
}
