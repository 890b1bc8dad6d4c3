// Where each start tag and attribute begins in the source text. libxml2 records only
// a line per node, and spec errors must name a column too, so this scanner lists the
// start tags in document order; the n-th element of the parsed tree is the n-th tag
// here. It understands just enough XML to skip what is not a start tag (comments,
// CDATA, processing instructions, declarations, end tags, quoted values). libxml2
// has already accepted the document when this runs, so it need not reject anything.

struct LocatedTag {
  let position: XMLPosition
  var attributes: [String: XMLPosition] = [:]
}

enum TagLocator {
  static func startTags(in source: [UInt8]) -> [LocatedTag] {
    var tags: [LocatedTag] = []
    var index = 0
    var line = 1
    var column = 1

    func advance(_ count: Int = 1) {
      for _ in 0..<count where index < source.count {
        let byte = source[index]
        if byte == UInt8(ascii: "\n") {
          line += 1
          column = 1
        } else if byte & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
          column += 1
        }
        index += 1
      }
    }
    func starts(with text: String) -> Bool {
      let bytes = Array(text.utf8)
      guard index + bytes.count <= source.count else { return false }
      return Array(source[index..<index + bytes.count]) == bytes
    }
    func skip(past terminator: String) {
      while index < source.count && !starts(with: terminator) { advance() }
      advance(terminator.utf8.count)
    }
    func isNameByte(_ byte: UInt8) -> Bool {
      !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "="))
    }

    while index < source.count {
      guard source[index] == UInt8(ascii: "<") else {
        advance()
        continue
      }
      if starts(with: "<!--") {
        skip(past: "-->")
      } else if starts(with: "<![CDATA[") {
        skip(past: "]]>")
      } else if starts(with: "<?") {
        skip(past: "?>")
      } else if starts(with: "<!") || starts(with: "</") {
        skip(past: ">")
      } else {
        var tag = LocatedTag(position: XMLPosition(line: line, column: column))
        advance()  // "<"
        while index < source.count && isNameByte(source[index]) { advance() }
        // Attributes up to ">" or "/>".
        while index < source.count && source[index] != UInt8(ascii: ">") {
          let byte = source[index]
          if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
            advance()
            while index < source.count && source[index] != byte { advance() }
            advance()
          } else if isNameByte(byte) {
            let position = XMLPosition(line: line, column: column)
            let start = index
            while index < source.count && isNameByte(source[index]) { advance() }
            let name = String(decoding: source[start..<index], as: UTF8.self)
            tag.attributes[name] = position
          } else {
            advance()
          }
        }
        advance()  // ">"
        tags.append(tag)
      }
    }
    return tags
  }
}
