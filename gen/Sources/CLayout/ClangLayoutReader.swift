// Reads struct layouts and integer constants from a C header as a compiler for the
// guest sees them, through libclang. abigen uses it to check its own layout model
// against the real compiler and to write the ABI dump.
internal import CLibClang

#if canImport(Glibc)
  import Glibc
#endif

public struct CFieldLayout: Sendable, Equatable {
  public let name: String
  public let offset: Int  // bytes
  public let size: Int

  public init(name: String, offset: Int, size: Int) {
    self.name = name
    self.offset = offset
    self.size = size
  }
}

public struct CStructLayout: Sendable, Equatable {
  public let name: String
  public let size: Int
  public let alignment: Int
  public let fields: [CFieldLayout]
}

public struct CLayoutReport: Sendable {
  public var structs: [String: CStructLayout] = [:]
  public var constants: [String: Int64] = [:]
}

public struct CLayoutError: Error, Sendable {
  public let message: String
}

public enum ClangLayoutReader {
  /// The version string of the libclang abigen is linked against.
  public static var clangVersion: String {
    let version = clang_getClangVersion()
    defer { clang_disposeString(version) }
    return String(cString: clang_getCString(version))
  }

  /// The folder of libclang's own builtin headers (stdint.h, stddef.h), which a
  /// freestanding parse needs: /usr/lib/llvm-<major>/lib/clang/<version>/include for the
  /// libclang in use. Derived from its version, never hard-coded.
  public static func resourceIncludeDirectory() -> String? {
    let version = clangVersion  // "Debian clang version 14.0.6"
    guard let number = version.split(separator: " ").first(where: { $0.first?.isNumber == true }),
      let major = number.split(separator: ".").first
    else { return nil }
    let base = "/usr/lib/llvm-\(major)/lib/clang"
    for candidate in ["\(base)/\(number)/include", "\(base)/\(major)/include"] {
      if access(candidate + "/stdint.h", F_OK) == 0 { return candidate }
    }
    return nil
  }

  /// Parses `source` (a translation unit named `fileName`) with `arguments`, then
  /// reports every struct whose name starts with `prefix` and the value of every
  /// integer variable named in `constantProbes` (the caller writes one
  /// `static const long long probe = MACRO;` per constant it wants evaluated).
  public static func read(
    source: String, fileName: String, headers: [(path: String, contents: String)] = [],
    arguments: [String], prefix: String
  ) -> Result<CLayoutReport, CLayoutError> {
    guard let index = clang_createIndex(0, 0) else {
      return .failure(CLayoutError(message: "libclang: cannot create an index"))
    }
    defer { clang_disposeIndex(index) }

    // The translation unit and the headers it includes are handed to libclang as
    // in-memory files, so nothing is written to disk.
    var unit: CXTranslationUnit?
    let files = [(fileName, source)] + headers.map { ($0.path, $0.contents) }
    let names = files.map { strdup($0.0)! }
    let contents = files.map { strdup($0.1)! }
    defer {
      names.forEach { free($0) }
      contents.forEach { free($0) }
    }
    var unsaved = (0..<files.count).map {
      CXUnsavedFile(Filename: names[$0], Contents: contents[$0], Length: UInt(strlen(contents[$0])))
    }
    let code = withCStrings(arguments) { argv in
      clang_parseTranslationUnit2(
        index, names[0], argv, Int32(arguments.count), &unsaved, UInt32(unsaved.count),
        CXTranslationUnit_SkipFunctionBodies.rawValue, &unit)
    }
    guard code == CXError_Success, let unit else {
      return .failure(CLayoutError(message: "libclang could not parse \(fileName) (error \(code.rawValue))"))
    }
    defer { clang_disposeTranslationUnit(unit) }

    var problems: [String] = []
    for position in 0..<clang_getNumDiagnostics(unit) {
      let diagnostic = clang_getDiagnostic(unit, position)
      defer { clang_disposeDiagnostic(diagnostic) }
      if clang_getDiagnosticSeverity(diagnostic).rawValue >= CXDiagnostic_Error.rawValue {
        let text = clang_formatDiagnostic(diagnostic, clang_defaultDiagnosticDisplayOptions())
        problems.append(String(cString: clang_getCString(text)))
        clang_disposeString(text)
      }
    }
    if !problems.isEmpty {
      return .failure(CLayoutError(message: problems.joined(separator: "\n")))
    }

    let collector = LayoutCollector(prefix: prefix)
    let context = Unmanaged.passUnretained(collector).toOpaque()
    clang_visitChildren(clang_getTranslationUnitCursor(unit), visitTopLevel, context)
    return .success(collector.report)
  }
}

private final class LayoutCollector {
  let prefix: String
  var report = CLayoutReport()
  init(prefix: String) { self.prefix = prefix }
}

private func spelling(_ cursor: CXCursor) -> String {
  let text = clang_getCursorSpelling(cursor)
  defer { clang_disposeString(text) }
  return String(cString: clang_getCString(text))
}

private func visitTopLevel(
  _ cursor: CXCursor, _ parent: CXCursor, _ context: CXClientData?
) -> CXChildVisitResult {
  let collector = Unmanaged<LayoutCollector>.fromOpaque(context!).takeUnretainedValue()
  switch clang_getCursorKind(cursor) {
  case CXCursor_StructDecl where clang_isCursorDefinition(cursor) != 0:
    let name = spelling(cursor)
    guard name.hasPrefix(collector.prefix) else { break }
    let type = clang_getCursorType(cursor)
    let fields = FieldList()
    clang_visitChildren(cursor, visitField, Unmanaged.passUnretained(fields).toOpaque())
    collector.report.structs[name] = CStructLayout(
      name: name, size: Int(clang_Type_getSizeOf(type)),
      alignment: Int(clang_Type_getAlignOf(type)), fields: fields.fields)
  case CXCursor_VarDecl:
    let name = spelling(cursor)
    if let result = clang_Cursor_Evaluate(cursor) {
      if clang_EvalResult_getKind(result) == CXEval_Int {
        collector.report.constants[name] = clang_EvalResult_isUnsignedInt(result) != 0
          ? Int64(bitPattern: clang_EvalResult_getAsUnsigned(result))
          : clang_EvalResult_getAsLongLong(result)
      }
      clang_EvalResult_dispose(result)
    }
  default:
    break
  }
  return CXChildVisit_Continue
}

private final class FieldList {
  var fields: [CFieldLayout] = []
}

private func visitField(
  _ cursor: CXCursor, _ parent: CXCursor, _ context: CXClientData?
) -> CXChildVisitResult {
  guard clang_getCursorKind(cursor) == CXCursor_FieldDecl else { return CXChildVisit_Continue }
  let list = Unmanaged<FieldList>.fromOpaque(context!).takeUnretainedValue()
  let offsetBits = clang_Cursor_getOffsetOfField(cursor)
  list.fields.append(CFieldLayout(
    name: spelling(cursor), offset: Int(offsetBits / 8),
    size: Int(clang_Type_getSizeOf(clang_getCursorType(cursor)))))
  return CXChildVisit_Continue
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  let pointers = copies.map { UnsafePointer($0) }
  return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
