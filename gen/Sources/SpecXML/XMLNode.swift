// Plain Swift values for a parsed XML document: what the rest of abigen sees of
// libxml2. Every element and attribute carries its line and column in the source.

public struct XMLPosition: Sendable, Hashable {
  public let line: Int
  public let column: Int
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }
}

public struct XMLAttribute: Sendable {
  public let name: String
  public let value: String
  public let position: XMLPosition
}

public struct XMLElement: Sendable {
  public let name: String
  public let attributes: [XMLAttribute]
  public let children: [XMLElement]
  /// The element's own text (not its children's), whitespace trimmed and runs of
  /// white space folded to one space, as documentation text wants it.
  public let text: String
  public let position: XMLPosition

  public func attribute(_ name: String) -> XMLAttribute? {
    attributes.first { $0.name == name }
  }

  public func children(named name: String) -> [XMLElement] {
    children.filter { $0.name == name }
  }

  public func child(named name: String) -> XMLElement? {
    children.first { $0.name == name }
  }
}

/// Everything wrong with one document, in source order.
public struct XMLProblems: Error, Sendable {
  public let problems: [XMLProblem]
  public init(_ problems: [XMLProblem]) { self.problems = problems }
}

/// A problem libxml2 (or the reader) found: malformed XML or a schema violation.
public struct XMLProblem: Error, Sendable {
  public let position: XMLPosition
  public let message: String
}
