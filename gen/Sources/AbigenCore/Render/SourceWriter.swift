// The renderer every emitter writes through: lines, indented blocks and wrapped
// documentation comments. Emitters say what goes where; indentation, wrapping and
// comment syntax live here, once.

public final class SourceWriter {
  public enum CommentStyle {
    case swift      // /// doc
    case c          // /** doc */
    case line       // // text (Swift and C)
    case asm        // // text, preprocessed .S
  }

  private var lines: [String] = []
  private var depth = 0
  private let indentUnit: String
  private let width: Int

  public init(indent: String = "  ", width: Int = 88) {
    indentUnit = indent
    self.width = width
  }

  public func line(_ text: String = "") {
    lines.append(text.isEmpty ? "" : String(repeating: indentUnit, count: depth) + text)
  }

  public func lines(_ texts: [String]) { texts.forEach { line($0) } }

  /// `opener {`, the body one level in, then `closer`.
  public func block(_ opener: String, closer: String = "}", _ body: () -> Void) {
    line(opener + " {")
    indented(body)
    line(closer)
  }

  public func indented(_ body: () -> Void) {
    depth += 1
    body()
    depth -= 1
  }

  /// Documentation, wrapped to the writer's width. Empty text writes nothing.
  public func doc(_ text: String, style: CommentStyle) {
    let available = width - depth * indentUnit.count
    switch style {
    case .swift:
      for part in Self.wrap(text, width: available - 4) { line("/// " + part) }
    case .line, .asm:
      for part in Self.wrap(text, width: available - 3) { line("// " + part) }
    case .c:
      let parts = Self.wrap(text, width: available - 3)
      guard !parts.isEmpty else { return }
      if parts.count == 1, parts[0].count + 7 <= available {
        line("/** \(parts[0]) */")
      } else {
        line("/**")
        for part in parts { line(" * " + part) }
        line(" */")
      }
    }
  }

  public var text: String { lines.joined(separator: "\n") + "\n" }

  /// Greedy word wrap; a word longer than the width gets a line of its own.
  public static func wrap(_ text: String, width: Int) -> [String] {
    var result: [String] = []
    var current = ""
    for word in text.split(separator: " ") {
      if current.isEmpty {
        current = String(word)
      } else if current.count + 1 + word.count <= width {
        current += " " + word
      } else {
        result.append(current)
        current = String(word)
      }
    }
    if !current.isEmpty { result.append(current) }
    return result
  }
}
