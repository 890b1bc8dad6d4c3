// Reads typed attribute values off schema-valid elements. The schema has already
// checked shapes and patterns; what remains here (an integer too large for the model)
// becomes a diagnostic at the attribute that holds it.
import SpecXML

struct ElementReader {
  let file: String
  private(set) var diagnostics: [Diagnostic] = []

  init(file: String) { self.file = file }

  func location(_ position: XMLPosition) -> SourceLocation {
    SourceLocation(file: file, line: position.line, column: position.column)
  }

  func origin(_ element: XMLElement) -> Origin {
    var attributes: [String: SourceLocation] = [:]
    for attribute in element.attributes { attributes[attribute.name] = location(attribute.position) }
    return Origin(element: location(element.position), attributes: attributes)
  }

  func string(_ element: XMLElement, _ name: String) -> String {
    element.attribute(name)?.value ?? ""
  }

  func optionalString(_ element: XMLElement, _ name: String) -> String? {
    element.attribute(name)?.value
  }

  func list(_ element: XMLElement, _ name: String) -> [String] {
    (element.attribute(name)?.value ?? "").split(separator: " ").map(String.init)
  }

  func bool(_ element: XMLElement, _ name: String) -> Bool {
    let value = element.attribute(name)?.value
    return value == "true" || value == "1"
  }

  /// A decimal or 0x-hexadecimal literal (the schema's integerLiteral).
  mutating func integer(_ element: XMLElement, _ name: String) -> Int128 {
    guard let attribute = element.attribute(name) else { return 0 }
    let text = attribute.value
    let negative = text.hasPrefix("-")
    let digits = negative ? String(text.dropFirst()) : text
    let magnitude: UInt64?
    if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
      magnitude = UInt64(digits.dropFirst(2), radix: 16)
    } else {
      magnitude = UInt64(digits, radix: 10)
    }
    guard let magnitude else {
      diagnostics.append(Diagnostic(location(attribute.position), "'\(text)' is too large: integers in a spec must fit 64 bits"))
      return 0
    }
    return negative ? -Int128(magnitude) : Int128(magnitude)
  }

  /// A small non-negative number (a syscall number, a bit, a count).
  mutating func int(_ element: XMLElement, _ name: String) -> Int {
    let value = integer(element, name)
    guard value >= 0, value <= Int128(Int32.max) else {
      if let attribute = element.attribute(name) {
        diagnostics.append(Diagnostic(location(attribute.position), "\(name) \(value) is out of range"))
      }
      return 0
    }
    return Int(value)
  }

  /// An element's documentation: its <doc> child, else its own text.
  func doc(_ element: XMLElement) -> String {
    element.child(named: "doc")?.text ?? element.text
  }
}
