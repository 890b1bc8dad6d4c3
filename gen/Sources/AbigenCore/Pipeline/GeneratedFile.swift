// One output of abigen: a path relative to the repository root and its full text.

public struct GeneratedFile: Sendable, Equatable {
  public let path: String
  public let contents: String

  public init(path: String, contents: String) {
    self.path = path
    self.contents = contents
  }
}
