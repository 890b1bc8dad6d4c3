// Reads one XML file with libxml2, validates it against an XSD, and returns it as
// plain Swift values (XMLElement). Errors from the parser and the validator come back
// as XMLProblems with line and column. This target imports Glibc, never Foundation:
// libxml2's headers and Foundation disagree about ICU's types (DESIGN.md §2).
internal import CLibXML2

import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// libxml2 reports errors through a process-wide hook; one document at a time.
private let libxml2 = Mutex(())

public enum SpecXMLReader {
  /// Parses `source` (the contents of `fileName`) and validates it against the XSD at
  /// `schemaPath`. Returns the root element, or throws every problem found.
  public static func read(
    source: [UInt8], fileName: String, schemaPath: String
  ) throws(XMLProblems) -> XMLElement {
    let outcome = libxml2.withLock { _ -> Result<XMLElement, XMLProblems> in
      do throws(XMLProblems) {
        return .success(try readLocked(source: source, fileName: fileName, schemaPath: schemaPath))
      } catch {
        return .failure(error)
      }
    }
    return try outcome.get()
  }

  private static func readLocked(
    source: [UInt8], fileName: String, schemaPath: String
  ) throws(XMLProblems) -> XMLElement {
    let collector = ProblemCollector()
    let context = Unmanaged.passUnretained(collector).toOpaque()
    xmlSetStructuredErrorFunc(context, collectStructuredError)
    defer { xmlSetStructuredErrorFunc(nil, nil) }

    // No network, no entity expansion tricks; big line numbers stay exact.
    let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue)
    let parsed = source.withUnsafeBufferPointer { buffer in
      buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
        xmlReadMemory($0, Int32(buffer.count), fileName, nil, options)
      }
    }
    guard let document = parsed else {
      throw XMLProblems(collector.problems.isEmpty
        ? [XMLProblem(position: XMLPosition(line: 1, column: 1), message: "not well-formed XML")]
        : collector.problems)
    }
    defer { xmlFreeDoc(document) }
    if document.pointee.intSubset != nil {
      throw XMLProblems([XMLProblem(
        position: XMLPosition(line: 1, column: 1),
        message: "document type declarations are not allowed in a spec")])
    }
    guard let rootNode = xmlDocGetRootElement(document) else {
      throw XMLProblems([XMLProblem(position: XMLPosition(line: 1, column: 1), message: "empty document")])
    }

    // Pair the tree's elements with the tag positions, in document order.
    let tags = TagLocator.startTags(in: source)
    var builder = TreeBuilder(tags: tags)
    let root = builder.build(rootNode)
    collector.positionOfNode = builder.positionOfNode

    // XSD validation.
    guard let schemaParser = xmlSchemaNewParserCtxt(schemaPath) else {
      throw XMLProblems([XMLProblem(position: XMLPosition(line: 1, column: 1), message: "cannot open schema \(schemaPath)")])
    }
    defer { xmlSchemaFreeParserCtxt(schemaParser) }
    guard let schema = xmlSchemaParse(schemaParser) else {
      var problems = collector.problems
      problems.insert(XMLProblem(position: XMLPosition(line: 1, column: 1), message: "schema \(schemaPath) is invalid"), at: 0)
      throw XMLProblems(problems)
    }
    defer { xmlSchemaFree(schema) }
    guard let validator = xmlSchemaNewValidCtxt(schema) else {
      throw XMLProblems([XMLProblem(position: XMLPosition(line: 1, column: 1), message: "out of memory")])
    }
    defer { xmlSchemaFreeValidCtxt(validator) }
    xmlSchemaSetValidStructuredErrors(validator, collectStructuredError, context)
    let status = xmlSchemaValidateDoc(validator, document)
    if status != 0 || !collector.problems.isEmpty {
      if collector.problems.isEmpty {
        throw XMLProblems([XMLProblem(position: root.position, message: "document does not match the schema")])
      }
      throw XMLProblems(collector.problems)
    }
    return root
  }
}

/// Receives libxml2's structured errors. A class so C can hold a pointer to it.
private final class ProblemCollector {
  var problems: [XMLProblem] = []
  var positionOfNode: [UnsafeMutableRawPointer: XMLPosition] = [:]
}

private func collectStructuredError(_ context: UnsafeMutableRawPointer?, _ error: xmlErrorPtr?) {
  guard let context, let error else { return }
  let collector = Unmanaged<ProblemCollector>.fromOpaque(context).takeUnretainedValue()
  var message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
  while message.last == "\n" || message.last == " " { message.removeLast() }
  // libxml2 prefixes schema messages with "Element '{ns}name': "; keep them short.
  var position = XMLPosition(line: Int(error.pointee.line), column: Int(error.pointee.int2))
  if let node = error.pointee.node, let located = collector.positionOfNode[node] {
    position = XMLPosition(line: located.line, column: located.column)
  }
  // libxml2 says line 0 or column 0 when it has no position; point at the start.
  position = XMLPosition(line: max(position.line, 1), column: max(position.column, 1))
  collector.problems.append(XMLProblem(position: position, message: message))
}

/// Walks libxml2's tree, assigning the n-th element the n-th located tag.
private struct TreeBuilder {
  let tags: [LocatedTag]
  var next = 0
  var positionOfNode: [UnsafeMutableRawPointer: XMLPosition] = [:]

  mutating func build(_ node: xmlNodePtr) -> XMLElement {
    let tag = next < tags.count ? tags[next] : LocatedTag(position: XMLPosition(line: Int(xmlGetLineNo(node)), column: 1))
    next += 1
    positionOfNode[UnsafeMutableRawPointer(node)] = tag.position

    var attributes: [XMLAttribute] = []
    var attribute = node.pointee.properties
    while let current = attribute {
      let name = String(cString: current.pointee.name)
      var value = ""
      if let raw = xmlNodeListGetString(node.pointee.doc, current.pointee.children, 1) {
        value = String(cString: raw)
        free(raw)
      }
      let position = tag.attributes[name] ?? tag.position
      positionOfNode[UnsafeMutableRawPointer(current)] = position
      attributes.append(XMLAttribute(name: name, value: value, position: position))
      attribute = current.pointee.next
    }

    var children: [XMLElement] = []
    var text = ""
    var child = node.pointee.children
    while let current = child {
      switch current.pointee.type {
      case XML_ELEMENT_NODE:
        children.append(build(current))
      case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
        if let content = current.pointee.content { text += String(cString: content) }
      default:
        break
      }
      child = current.pointee.next
    }
    return XMLElement(
      name: String(cString: node.pointee.name), attributes: attributes, children: children,
      text: foldWhitespace(text), position: tag.position)
  }
}

private func foldWhitespace(_ text: String) -> String {
  var result = ""
  var pendingSpace = false
  for character in text {
    if character == " " || character == "\n" || character == "\t" || character == "\r" {
      pendingSpace = !result.isEmpty
    } else {
      if pendingSpace { result.append(" ") }
      pendingSpace = false
      result.append(character)
    }
  }
  return result
}
