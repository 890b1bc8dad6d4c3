// Paths, temporary folders and tool runs shared by abigen's tests.
import AbigenCore
import Foundation

enum Repo {
  /// The repository root, found from this file's own path.
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }  // AbigenTests, Tests, gen, root
    return url.path
  }()
  static let schema = "\(root)/spec/apus-abi.xsd"
  static func path(_ relative: String) -> String { "\(root)/\(relative)" }
}

/// A fresh folder under the system temp directory, removed by `remove()`.
struct TemporaryFolder {
  let path: String

  init() throws {
    var template = Array("\(NSTemporaryDirectory())/abigen-test.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw AbigenFailure("mkdtemp failed") }
    path = String(cString: made)
  }

  func write(_ relative: String, _ contents: String) throws {
    let url = URL(fileURLWithPath: "\(path)/\(relative)")
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try contents.write(to: url, atomically: true, encoding: .utf8)
  }

  func copy(from source: String, as relative: String) throws {
    try write(relative, try String(contentsOfFile: source, encoding: .utf8))
  }

  /// Every file under the folder, relative.
  func files() -> [String] {
    (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? [])
      .filter { !isDirectory("\(path)/\($0)") }.sorted()
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }

  private func isDirectory(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
  }
}

/// Loads and validates a spec folder, naming files as `display/<file>` in messages.
func loadSpecs(_ directory: String, display: String) throws -> SpecSet {
  try Generator(specDirectory: directory, displayDirectory: display, schema: Repo.schema).load()
}

/// The repository's own spec.
func repositorySpecs() throws -> SpecSet {
  try loadSpecs(Repo.path("spec"), display: "spec")
}

struct ToolRun {
  let status: Int32
  let output: String
}

/// Runs a tool of the Swift toolchain (swiftc, clang, llvm-nm), found beside swiftc
/// on PATH, or any other executable by absolute path.
func runTool(_ tool: String, _ arguments: [String], in directory: String? = nil) throws -> ToolRun {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : try toolchainBinary(tool))
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return ToolRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

func toolchainBinary(_ name: String) throws -> String {
  for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
    let candidate = "\(folder)/swiftc"
    if FileManager.default.isExecutableFile(atPath: candidate) {
      let sibling = "\(folder)/\(name)"
      if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
    }
  }
  throw AbigenFailure("\(name) not found beside swiftc on PATH")
}

/// The text of the generated file at `path` among `files`.
func generated(_ files: [GeneratedFile], _ path: String) -> String {
  files.first { $0.path == path }?.contents ?? ""
}
