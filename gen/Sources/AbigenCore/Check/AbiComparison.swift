// Compares the current ABI dump with the frozen baseline and sorts every difference:
// compatible (additions a built program cannot notice), behavioural (a call blocks
// differently, needs other rights, returns fewer errors) or breaking (a built program
// would misbehave: a removed or renumbered call, a changed argument, a moved field, a
// changed value, a widened error set). Each difference names the spec line it comes
// from: the current spec's, or the baseline's for things that are gone.

public struct AbiDifference: Sendable, CustomStringConvertible {
  public enum Severity: String, Sendable {
    case compatible, behavioural, breaking
  }
  public let severity: Severity
  public let location: String
  public let message: String

  public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

public enum AbiComparison {
  public static func compare(baseline old: AbiDump, current new: AbiDump) -> [AbiDifference] {
    var report = Report()
    compareSyscalls(old, new, &report)
    compareCoded("error", old.errors, new.errors, &report)
    compareCoded("right", old.rights, new.rights, &report)
    compareCoded("handle kind", old.handleKinds, new.handleKinds, &report)
    compareConstants(old.constants, new.constants, &report)
    compareEnums(old.enums, new.enums, &report)
    compareFlags(old.flags, new.flags, &report)
    compareStructs(old.structs, new.structs, &report)
    compareProtocols(old.protocols, new.protocols, &report)
    return report.differences
  }

  struct Report {
    var differences: [AbiDifference] = []
    mutating func add(_ severity: AbiDifference.Severity, _ location: String, _ message: String) {
      differences.append(AbiDifference(severity: severity, location: location, message: message))
    }
  }

  // MARK: - syscalls

  private static func compareSyscalls(_ old: AbiDump, _ new: AbiDump, _ report: inout Report) {
    let newByNumber = Dictionary(new.syscalls.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    let oldByName = Dictionary(old.syscalls.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let newTombstones = Dictionary(new.removed.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })

    for call in old.syscalls {
      guard let current = newByNumber[call.number] else {
        if let tombstone = newTombstones[call.number] {
          report.add(.breaking, tombstone.location, "syscall \(call.number) '\(call.name)' was removed")
        } else if let moved = new.syscalls.first(where: { $0.name == call.name }) {
          report.add(.breaking, moved.location, "syscall '\(call.name)' was renumbered from \(call.number) to \(moved.number)")
        } else {
          report.add(.breaking, call.location, "syscall \(call.number) '\(call.name)' was removed without a tombstone")
        }
        continue
      }
      let at = current.location
      if current.name != call.name {
        if let earlier = oldByName[current.name] {
          report.add(.breaking, at, "syscall '\(current.name)' was renumbered from \(earlier.number) to \(current.number)")
        } else {
          report.add(.breaking, at, "syscall \(call.number) was renamed from '\(call.name)' to '\(current.name)' (its C and Swift names change)")
        }
      }
      let label = "syscall \(current.number) '\(current.name)'"
      if call.arguments.count != current.arguments.count {
        report.add(.breaking, at, "\(label) now takes \(current.arguments.count) arguments instead of \(call.arguments.count)")
      }
      for (index, (before, after)) in zip(call.arguments, current.arguments).enumerated() {
        if before.type != after.type || before.pointer != after.pointer || before.length != after.length || before.kind != after.kind {
          report.add(.breaking, at, "\(label): argument \(index + 1) changed from \(describe(before)) to \(describe(after))")
        } else if before.name != after.name {
          report.add(.compatible, at, "\(label): argument \(index + 1) renamed from '\(before.name)' to '\(after.name)'")
        }
        if before.rights != after.rights {
          report.add(.behavioural, at, "\(label): argument '\(after.name)' now requires rights [\(after.rights.joined(separator: " "))] instead of [\(before.rights.joined(separator: " "))]")
        }
      }
      if call.returns?.type != current.returns?.type || call.returns?.kind != current.returns?.kind {
        report.add(.breaking, at, "\(label) now returns \(current.returns?.type ?? "nothing") instead of \(call.returns?.type ?? "nothing")")
      } else if call.returns?.rights != current.returns?.rights {
        report.add(.behavioural, at, "\(label): the returned handle's rights changed")
      }
      if call.blocking != current.blocking {
        report.add(.behavioural, at, "\(label) \(current.blocking ? "may now block" : "no longer blocks")")
      }
      let added = current.errors.filter { !call.errors.contains($0) }
      let dropped = call.errors.filter { !current.errors.contains($0) }
      if !added.isEmpty {
        report.add(.breaking, at, "\(label) can now return \(added.joined(separator: ", ")): callers do not expect it")
      }
      if !dropped.isEmpty {
        report.add(.behavioural, at, "\(label) no longer returns \(dropped.joined(separator: ", "))")
      }
    }
    let oldNumbers = Set(old.syscalls.map(\.number))
    for call in new.syscalls where !oldNumbers.contains(call.number) && oldByName[call.name] == nil {
      report.add(.compatible, call.location, "new syscall \(call.number) '\(call.name)'")
    }
    for tombstone in old.removed where newTombstones[tombstone.number] == nil {
      report.add(.breaking, tombstone.location, "the tombstone of syscall \(tombstone.number) '\(tombstone.name)' is gone: its number could be reused")
    }
  }

  private static func describe(_ argument: AbiDump.Argument) -> String {
    var text = argument.pointer.map { "\($0) pointer to \(argument.type)" } ?? argument.type
    if let length = argument.length { text += "[\(length)]" }
    if let kind = argument.kind { text += " (\(kind))" }
    return text
  }

  // MARK: - codes, constants, enums, flags

  private static func compareCoded(_ what: String, _ old: [AbiDump.Coded], _ new: [AbiDump.Coded], _ report: inout Report) {
    for entry in old {
      guard let current = new.first(where: { $0.name == entry.name }) else {
        report.add(.breaking, entry.location, "\(what) '\(entry.name)' was removed")
        continue
      }
      if current.code != entry.code {
        report.add(.breaking, current.location, "\(what) '\(entry.name)' changed from \(entry.code) to \(current.code)")
      }
    }
    for entry in new where !old.contains(where: { $0.name == entry.name }) {
      report.add(.compatible, entry.location, "new \(what) '\(entry.name)' = \(entry.code)")
    }
  }

  private static func qualified(_ scope: String, _ name: String) -> String {
    scope.isEmpty ? name : "\(scope).\(name)"
  }

  private static func compareConstants(_ old: [AbiDump.Constant], _ new: [AbiDump.Constant], _ report: inout Report) {
    for entry in old {
      let name = qualified(entry.scope, entry.name)
      guard let current = new.first(where: { $0.name == entry.name && $0.scope == entry.scope }) else {
        report.add(.breaking, entry.location, "constant '\(name)' was removed")
        continue
      }
      if entry.name == SpecVocabulary.abiVersionConstant && entry.scope.isEmpty && current.type == entry.type
        && current.value > entry.value {
        // The ABI grows by additions, each `since` a new version: announcing the new
        // version breaks nothing built against an older one.
        report.add(.compatible, current.location, "ABI version rose from \(entry.value) to \(current.value)")
      } else if current.value != entry.value || current.type != entry.type {
        report.add(.breaking, current.location, "constant '\(name)' changed from \(entry.value) (\(entry.type)) to \(current.value) (\(current.type))")
      }
    }
    for entry in new where !old.contains(where: { $0.name == entry.name && $0.scope == entry.scope }) {
      report.add(.compatible, entry.location, "new constant '\(qualified(entry.scope, entry.name))'")
    }
  }

  private static func compareEnums(_ old: [AbiDump.Enumeration], _ new: [AbiDump.Enumeration], _ report: inout Report) {
    for entry in old {
      let name = qualified(entry.scope, entry.name)
      guard let current = new.first(where: { $0.name == entry.name && $0.scope == entry.scope }) else {
        report.add(.breaking, entry.location, "enum '\(name)' was removed")
        continue
      }
      if current.type != entry.type {
        report.add(.breaking, current.location, "enum '\(name)' changed type from \(entry.type) to \(current.type)")
      }
      for value in entry.values {
        if let now = current.values.first(where: { $0.name == value.name }) {
          if now.value != value.value {
            report.add(.breaking, current.location, "enum value '\(name).\(value.name)' changed from \(value.value) to \(now.value)")
          }
        } else {
          report.add(.breaking, current.location, "enum value '\(name).\(value.name)' was removed")
        }
      }
      for value in current.values where !entry.values.contains(where: { $0.name == value.name }) {
        report.add(.compatible, current.location, "new enum value '\(name).\(value.name)' = \(value.value)")
      }
    }
    for entry in new where !old.contains(where: { $0.name == entry.name && $0.scope == entry.scope }) {
      report.add(.compatible, entry.location, "new enum '\(qualified(entry.scope, entry.name))'")
    }
  }

  private static func compareFlags(_ old: [AbiDump.Flags], _ new: [AbiDump.Flags], _ report: inout Report) {
    for entry in old {
      let name = qualified(entry.scope, entry.name)
      guard let current = new.first(where: { $0.name == entry.name && $0.scope == entry.scope }) else {
        report.add(.breaking, entry.location, "flags '\(name)' were removed")
        continue
      }
      if current.type != entry.type {
        report.add(.breaking, current.location, "flags '\(name)' changed type from \(entry.type) to \(current.type)")
      }
      compareCoded("flag '\(name)' bit", entry.flags, current.flags, &report)
    }
    for entry in new where !old.contains(where: { $0.name == entry.name && $0.scope == entry.scope }) {
      report.add(.compatible, entry.location, "new flags '\(qualified(entry.scope, entry.name))'")
    }
  }

  // MARK: - structs

  private static func compareStructs(_ old: [AbiDump.Struct], _ new: [AbiDump.Struct], _ report: inout Report) {
    for entry in old {
      guard let current = new.first(where: { $0.name == entry.name }) else {
        report.add(.breaking, entry.location, "struct \(entry.name) was removed")
        continue
      }
      let at = current.location
      if current.size != entry.size || current.alignment != entry.alignment {
        report.add(.breaking, at, "struct \(entry.name) changed size from \(entry.size) to \(current.size) (alignment \(entry.alignment) → \(current.alignment))")
      }
      let oldNames = entry.fields.map(\.name)
      let newNames = current.fields.map(\.name)
      if oldNames != newNames && Set(oldNames) == Set(newNames) {
        report.add(.breaking, at, "struct \(entry.name) reordered its fields: \(oldNames.joined(separator: ", ")) → \(newNames.joined(separator: ", "))")
        continue
      }
      for field in current.fields.dropFirst(entry.fields.count) {
        report.add(.breaking, at, "struct \(entry.name) gained field '\(field.name)' at offset \(field.offset)")
      }
      for field in entry.fields.dropFirst(current.fields.count) {
        report.add(.breaking, at, "struct \(entry.name) lost field '\(field.name)'")
      }
      for (before, after) in zip(entry.fields, current.fields) {
        if before.offset != after.offset || before.size != after.size || before.type != after.type || before.count != after.count {
          report.add(.breaking, at, "struct \(entry.name) field '\(after.name)' changed from \(before.type)\(before.count.map { "[\($0)]" } ?? "") at offset \(before.offset) to \(after.type)\(after.count.map { "[\($0)]" } ?? "") at offset \(after.offset)")
        } else if before.name != after.name {
          if before.reserved {
            report.add(.compatible, at, "struct \(entry.name): reserved field '\(before.name)' is now '\(after.name)'")
          } else {
            report.add(.breaking, at, "struct \(entry.name) renamed field '\(before.name)' to '\(after.name)' (source-incompatible)")
          }
        }
      }
    }
    for entry in new where !old.contains(where: { $0.name == entry.name }) {
      report.add(.compatible, entry.location, "new struct \(entry.name)")
    }
  }

  // MARK: - protocols

  private static func compareProtocols(_ old: [AbiDump.ProtocolEntry], _ new: [AbiDump.ProtocolEntry], _ report: inout Report) {
    for entry in old {
      guard let current = new.first(where: { $0.name == entry.name }) else {
        report.add(.breaking, entry.location, "protocol '\(entry.name)' was removed")
        continue
      }
      compareCoded("\(entry.name) status", entry.statuses, current.statuses, &report)
      for op in entry.ops {
        guard let now = current.ops.first(where: { $0.name == op.name }) else {
          report.add(.breaking, op.location, "\(entry.name) op '\(op.name)' (code \(op.code)) was removed")
          continue
        }
        let label = "\(entry.name) op '\(op.name)'"
        if now.code != op.code {
          report.add(.breaking, now.location, "\(label) changed code from \(op.code) to \(now.code)")
        }
        if now.idempotent != op.idempotent {
          report.add(.behavioural, now.location, "\(label) is \(now.idempotent ? "now" : "no longer") idempotent")
        }
        let added = now.errors.filter { !op.errors.contains($0) }
        if !added.isEmpty {
          report.add(.breaking, now.location, "\(label) can now fail with \(added.joined(separator: ", ")): clients do not expect it")
        }
        let dropped = op.errors.filter { !now.errors.contains($0) }
        if !dropped.isEmpty {
          report.add(.behavioural, now.location, "\(label) no longer fails with \(dropped.joined(separator: ", "))")
        }
      }
      for op in current.ops where !entry.ops.contains(where: { $0.name == op.name }) {
        if let clash = entry.ops.first(where: { $0.code == op.code }) {
          report.add(.breaking, op.location, "\(entry.name) op '\(op.name)' takes code \(op.code), which was '\(clash.name)'")
        } else {
          report.add(.compatible, op.location, "new \(entry.name) op '\(op.name)' = \(op.code)")
        }
      }
    }
    for entry in new where !old.contains(where: { $0.name == entry.name }) {
      report.add(.compatible, entry.location, "new protocol '\(entry.name)'")
    }
  }
}
