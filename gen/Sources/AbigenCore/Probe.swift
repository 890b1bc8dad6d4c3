import SpecXML
import CLayout
public func probe() -> String { ClangLayoutReader.clangVersion }
