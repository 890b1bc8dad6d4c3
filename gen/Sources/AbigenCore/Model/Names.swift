// Spellings of one spec name in each output language, and the words no spec name
// may be because some output language reserves them.

public enum Names {
  /// snake_case → lowerCamelCase ("debug_write" → "debugWrite").
  public static func lowerCamel(_ name: String) -> String {
    let parts = name.split(separator: "_")
    guard let first = parts.first else { return name }
    return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
  }

  /// snake_case → UpperCamelCase ("process_status" → "ProcessStatus").
  public static func upperCamel(_ name: String) -> String {
    name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
  }

  /// snake_case → SCREAMING_SNAKE ("page_size" → "PAGE_SIZE").
  public static func upperSnake(_ name: String) -> String { name.uppercased() }

  /// A Swift identifier, back-quoted when it collides with a keyword that Swift allows
  /// quoted (spec names themselves are checked against `swiftKeywords`, but derived
  /// camel-case names can still meet one: "self_test" is fine, "default" is not).
  public static func swiftIdentifier(_ name: String) -> String {
    swiftKeywords.contains(name) ? "`\(name)`" : name
  }

  public static let cKeywords: Set<String> = [
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
    "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary",
    "_Noreturn", "_Static_assert", "_Thread_local", "alignas", "alignof", "noreturn",
    "static_assert", "thread_local", "asm", "typeof",
  ]

  /// Swift's reserved words: those that cannot name a declaration without backquotes.
  /// Contextual keywords (open, package, some, any, ...) are ordinary names.
  public static let swiftKeywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import",
    "init", "inout", "internal", "let", "operator", "private", "precedencegroup", "protocol",
    "public", "rethrows", "static", "struct", "subscript", "typealias", "var", "break",
    "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for",
    "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "Any", "as",
    "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try",
  ]
}
