// The full-spec golden test: gen/Tests/Fixtures/full (every feature of the spec
// language) must generate exactly gen/Tests/Golden/full. After an intended change to
// the generator's output, refresh with `ABIGEN_UPDATE_GOLDEN=1 swift test` and review
// the diff like code.
import AbigenCore
import Foundation
import Testing

@Suite struct GoldenTests {
  static let fixture = Repo.path("gen/Tests/Fixtures/full")
  static let golden = Repo.path("gen/Tests/Golden/full")

  @Test func fullSpecMatchesGoldenFiles() throws {
    let files = Generator.outputs(for: try loadSpecs(Self.fixture, display: "spec"))
    if ProcessInfo.processInfo.environment["ABIGEN_UPDATE_GOLDEN"] == "1" {
      try? FileManager.default.removeItem(atPath: Self.golden)
      try OutputWriter.write(files, under: Self.golden)
    }
    for file in files {
      let expected = try? String(contentsOfFile: "\(Self.golden)/\(file.path)", encoding: .utf8)
      #expect(expected == file.contents, "\(file.path) differs from its golden file (ABIGEN_UPDATE_GOLDEN=1 swift test refreshes it)")
    }
    let goldenFiles = (FileManager.default.enumerator(atPath: Self.golden)?.allObjects as? [String] ?? [])
      .filter { $0.contains(".") }.sorted()
    #expect(goldenFiles == files.map(\.path).sorted(), "golden folder holds files the generator no longer makes")
  }

  @Test func generationIsDeterministic() throws {
    let first = Generator.outputs(for: try loadSpecs(Self.fixture, display: "spec"))
    let second = Generator.outputs(for: try loadSpecs(Self.fixture, display: "spec"))
    #expect(first == second)
  }
}
