// greet: the sample package in Embedded Swift (make packages → greet-1.0.pkg).

@_cdecl("main")
func main(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  print("APP: hello from Embedded Swift (\(argc - 1) arguments)")
  return 0
}
