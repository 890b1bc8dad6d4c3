// Where a spec fact was written, and what is wrong with it. Every message abigen
// prints about a spec has the form `file:line:column: error: text`, the form compilers
// use, so editors jump to it.

public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let file: String
  public let line: Int
  public let column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  public var description: String { "\(file):\(line):\(column)" }

  public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
    (a.file, a.line, a.column) < (b.file, b.line, b.column)
  }
}

public struct Diagnostic: Error, Sendable, CustomStringConvertible {
  public let location: SourceLocation
  public let message: String

  public init(_ location: SourceLocation, _ message: String) {
    self.location = location
    self.message = message
  }

  public var description: String { "\(location): error: \(message)" }
}

/// Every diagnostic one run found, sorted by location. Generation stops at the first
/// stage that reports any, so no output is ever written from a bad spec.
public struct DiagnosticList: Error, Sendable, CustomStringConvertible {
  public let diagnostics: [Diagnostic]

  public init(_ diagnostics: [Diagnostic]) {
    self.diagnostics = diagnostics.sorted { $0.location < $1.location }
  }

  public var description: String {
    diagnostics.map(\.description).joined(separator: "\n")
  }
}

/// A failure that is not the spec's fault: an unreadable file, a generator bug found by
/// the libclang cross-check, a baseline that does not decode.
public struct AbigenFailure: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
