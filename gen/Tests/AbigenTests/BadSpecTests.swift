// Every spec under gen/Tests/BadSpecs must fail with exactly the messages in its
// `expected` file (file:line:column: error: ...) and write no output at all.
import AbigenCore
import Foundation
import Testing

@Suite struct BadSpecTests {
  static let folder = Repo.path("gen/Tests/BadSpecs")
  static let cases: [String] = (try? FileManager.default.contentsOfDirectory(atPath: folder))?
    .filter { !$0.hasSuffix(".md") }.sorted() ?? []

  @Test func thereAreAtLeastTenBadSpecs() {
    #expect(Self.cases.count >= 10)
  }

  @Test(arguments: cases)
  func badSpecFailsWithItsExactMessagesAndWritesNothing(_ name: String) throws {
    let expected = try String(contentsOfFile: "\(Self.folder)/\(name)/expected", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let root = try TemporaryFolder()
    defer { root.remove() }
    let generator = Generator(
      specDirectory: "\(Self.folder)/\(name)", displayDirectory: "BadSpecs/\(name)", schema: Repo.schema)
    do {
      try generator.generate(into: root.path)
      Issue.record("\(name) was accepted")
    } catch let list as DiagnosticList {
      #expect(list.description == expected)
    }
    #expect(root.files().isEmpty, "a rejected spec wrote \(root.files())")
  }

  @Test func everyBadSpecFolderHasABrokenFileAndExpectations() throws {
    for name in Self.cases {
      let files = try FileManager.default.contentsOfDirectory(atPath: "\(Self.folder)/\(name)")
      #expect(files.contains("expected"), "\(name) lacks expected")
      #expect(files.contains { $0.hasSuffix(".xml") }, "\(name) has no spec")
    }
  }
}
