// swift-tools-version: 6.0
// Host tools for Apus. Guest code (kernel, user programs) is built by the Makefile;
// SwiftPM builds only what runs on the developer's machine: the ABI generator and the
// package tool (mkpkg).
import Foundation
import PackageDescription

/// Debian's libclang-dev lives under /usr/lib/llvm-<N>/. Find the newest one that has
/// the C headers instead of hard-coding a version (DESIGN.md §2).
let llvmRoot: String = {
  let candidates = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
  let versions = candidates
    .filter { $0.hasPrefix("llvm-") }
    .compactMap { name -> (Int, String)? in
      guard let version = Int(name.dropFirst("llvm-".count)),
        FileManager.default.fileExists(atPath: "/usr/lib/\(name)/include/clang-c/Index.h")
      else { return nil }
      return (version, "/usr/lib/\(name)")
    }
  return versions.max { $0.0 < $1.0 }?.1 ?? "/usr/lib/llvm-14"
}()

let package = Package(
  name: "Apus",
  products: [
    .executable(name: "abigen", targets: ["abigen"]),
    .executable(name: "mkpkg", targets: ["mkpkg"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
  ],
  targets: [
    .systemLibrary(name: "CLibXML2", path: "gen/Sources/CLibXML2", pkgConfig: "libxml-2.0"),
    .systemLibrary(name: "CLibClang", path: "gen/Sources/CLibClang"),
    // libxml2's headers pull in ICU, whose types clash with Foundation's copy, so the
    // XML reader imports Glibc only and hands plain Swift values to everything else.
    // Library evolution keeps its `internal import` of libxml2 invisible to clients
    // (without it, every importer would load libxml2's headers, and the clash with it).
    .target(
      name: "SpecXML", dependencies: ["CLibXML2"], path: "gen/Sources/SpecXML",
      swiftSettings: [.unsafeFlags(["-enable-library-evolution"])]),
    .target(
      name: "CLayout", dependencies: ["CLibClang"], path: "gen/Sources/CLayout",
      swiftSettings: [.unsafeFlags(["-enable-library-evolution", "-Xcc", "-I\(llvmRoot)/include"])],
      linkerSettings: [.unsafeFlags(["-L\(llvmRoot)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(llvmRoot)/lib"])]),
    .target(
      name: "AbigenCore", dependencies: ["SpecXML", "CLayout"], path: "gen/Sources/AbigenCore"),
    .executableTarget(
      name: "abigen",
      dependencies: ["AbigenCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "gen/Sources/abigen"),
    .testTarget(
      name: "AbigenTests", dependencies: ["AbigenCore"], path: "gen/Tests/AbigenTests"),
    .target(
      name: "PackageFormat", dependencies: [.product(name: "Crypto", package: "swift-crypto")], path: "tools/mkpkg/PackageFormat"),
    .executableTarget(
      name: "mkpkg",
      dependencies: ["PackageFormat", .product(name: "Crypto", package: "swift-crypto"),
                     .product(name: "ArgumentParser", package: "swift-argument-parser")],
      path: "tools/mkpkg/mkpkg"),
  ]
)
