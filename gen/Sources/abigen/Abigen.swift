// The abigen command: generate, verify, dump and check the Apus ABI from spec/*.xml.
// Every command exits 0 on success, 1 when the spec or the ABI has a problem (each
// printed as file:line:column: ...), 2 on bad usage.
import AbigenCore
import ArgumentParser
import Foundation

@main
struct Abigen: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Generates the Apus syscall ABI and IPC protocols from spec/*.xml.",
    subcommands: [Generate.self, Verify.self, Dump.self, Check.self])
}

struct SpecOptions: ParsableArguments {
  @Option(help: "Folder of the spec files (and apus-abi.xsd).")
  var specDir = "spec"

  @Option(help: "The XSD every spec is validated against (default: <spec-dir>/apus-abi.xsd).")
  var schema: String?

  @Option(help: "Repository root that generated paths are relative to.")
  var root = "."

  var generator: Generator { Generator(specDirectory: specDir, displayDirectory: specDir, schema: schema) }
}

/// Runs `body`, printing abigen's own errors the way compilers do.
func reporting<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let list as DiagnosticList {
    FileHandle.standardError.write(Data((list.description + "\n").utf8))
    throw ExitCode(1)
  } catch let failure as AbigenFailure {
    FileHandle.standardError.write(Data("abigen: \(failure.description)\n".utf8))
    throw ExitCode(1)
  }
}

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Write every generated file (only those that changed).")
  @OptionGroup var options: SpecOptions

  func run() throws {
    try reporting {
      let changed = try options.generator.generate(into: options.root)
      print(changed.isEmpty ? "abigen: generated files up to date" : "abigen: wrote \(changed.joined(separator: ", "))")
    }
  }
}

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Fail if the committed generated files differ from what the spec generates.")
  @OptionGroup var options: SpecOptions

  func run() throws {
    try reporting {
      let files = Generator.outputs(for: try options.generator.load())
      let different = OutputWriter.differences(files, under: options.root)
      guard different.isEmpty else {
        FileHandle.standardError.write(Data((different.map { "abigen: out of date: \($0)" } + ["abigen: run `make gen` and commit the result"]).joined(separator: "\n").appending("\n").utf8))
        throw ExitCode(1)
      }
      print("abigen: \(files.count) generated files match the spec")
    }
  }
}

struct Dump: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Write the ABI dump (layouts read back with libclang) as JSON.")
  @OptionGroup var options: SpecOptions
  @Option(help: "Where to write the dump; - for standard output.")
  var output = "-"

  func run() throws {
    try reporting {
      let specs = try options.generator.load()
      let dump = try AbiDumpBuilder.build(specs, headers: Generator.outputs(for: specs))
      let json = try Generator.dumpJSON(dump)
      if output == "-" {
        print(json, terminator: "")
      } else {
        try OutputWriter.write([GeneratedFile(path: output, contents: json)], under: ".")
        print("abigen: wrote \(output)")
      }
    }
  }
}

struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare the ABI with a frozen baseline; exit 1 on a breaking change.")
  @OptionGroup var options: SpecOptions
  @Option(help: "The frozen ABI dump to compare with.")
  var baseline = "spec/baseline/abi_v0.json"

  func run() throws {
    try reporting {
      let specs = try options.generator.load()
      let current = try AbiDumpBuilder.build(specs, headers: Generator.outputs(for: specs))
      guard let data = FileManager.default.contents(atPath: baseline) else {
        throw AbigenFailure("cannot read baseline \(baseline) (create it deliberately with `make abi-baseline`)")
      }
      let frozen = try Generator.decodeDump(data, path: baseline)
      let differences = AbiComparison.compare(baseline: frozen, current: current)
      for difference in differences { print(difference) }
      let breaking = differences.filter { $0.severity == .breaking }.count
      if breaking > 0 {
        FileHandle.standardError.write(Data("abigen: \(breaking) breaking change(s) against \(baseline). If they are intended, run `make abi-baseline` and say why in the commit.\n".utf8))
        throw ExitCode(1)
      }
      print("abigen: ABI compatible with \(baseline) (\(differences.count) compatible or behavioural difference(s))")
    }
  }
}
