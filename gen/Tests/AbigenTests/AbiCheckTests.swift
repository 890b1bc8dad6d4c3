// The ABI compatibility check, driven by mutations of the real spec: each breaking
// category must be reported as breaking with its spec location, compatible additions
// as compatible, behaviour changes as behavioural. Both sides go through the full
// libclang dump, exactly as `abigen check` does.
import AbigenCore
import Foundation
import Testing

@Suite struct AbiCheckTests {
  struct Mutation: CustomTestStringConvertible, Sendable {
    let name: String
    let file: String
    let edits: [(String, String)]
    let severity: AbiDifference.Severity
    let message: String
    var testDescription: String { name }
  }

  static let mutations: [Mutation] = [
    Mutation(name: "removed call", file: "syscall_v0.xml", edits: [
      ("<abi name=\"syscall\" version=\"2\">", "<abi name=\"syscall\" version=\"3\">"),
      ("""
          <syscall name="yield" number="2" since="0" blocking="false">
            <doc>Gives the rest of the caller's time slice to another ready thread.</doc>
          </syscall>
      """, "    <removed name=\"yield\" number=\"2\" since=\"0\" removed=\"3\">Gone.</removed>"),
    ], severity: .breaking, message: "syscall 2 'yield' was removed"),
    Mutation(name: "renumbered call", file: "syscall_v0.xml",
             edits: [("name=\"yield\" number=\"2\"", "name=\"yield\" number=\"900\"")],
             severity: .breaking, message: "syscall 'yield' was renumbered from 2 to 900"),
    Mutation(name: "changed argument type", file: "syscall_v0.xml",
             edits: [("<arg name=\"len\" type=\"u64\">How many bytes;", "<arg name=\"len\" type=\"u32\">How many bytes;")],
             severity: .breaking, message: "syscall 0 'debug_write': argument 2 changed from u64 to u32"),
    Mutation(name: "added struct field", file: "syscall_v0.xml",
             edits: [("<field name=\"fault_ip\" type=\"u64\">", "<field name=\"extra\" type=\"u64\">New.</field>\n      <field name=\"fault_ip\" type=\"u64\">")],
             severity: .breaking, message: "struct apus_process_status gained field 'fault_ip' at offset 32"),
    Mutation(name: "removed struct field", file: "syscall_v0.xml",
             edits: [("<field name=\"fault_ip\" type=\"u64\">For faults: the instruction pointer of the faulting instruction, else 0.</field>", "")],
             severity: .breaking, message: "struct apus_process_status lost field 'fault_ip'"),
    Mutation(name: "reordered struct fields", file: "syscall_v0.xml", edits: [
      ("<field name=\"fault_address\" type=\"u64\">", "<field name=\"fault_ip_\" type=\"u64\">"),
      ("<field name=\"fault_ip\" type=\"u64\">", "<field name=\"fault_address\" type=\"u64\">"),
      ("<field name=\"fault_ip_\" type=\"u64\">", "<field name=\"fault_ip\" type=\"u64\">"),
    ], severity: .breaking, message: "struct apus_process_status reordered its fields: code, reason, reserved0, fault_address, fault_ip → code, reason, reserved0, fault_ip, fault_address"),
    Mutation(name: "changed enum value", file: "syscall_v0.xml",
             edits: [("<value name=\"page_fault\" value=\"1\">", "<value name=\"page_fault\" value=\"9\">")],
             severity: .breaking, message: "enum value 'exit_reason.page_fault' changed from 1 to 9"),
    Mutation(name: "changed protocol op code", file: "block.xml",
             edits: [("<op name=\"flush\" code=\"5\"", "<op name=\"flush\" code=\"6\"")],
             severity: .breaking, message: "block op 'flush' changed code from 5 to 6"),
    Mutation(name: "widened error set", file: "syscall_v0.xml",
             edits: [("<error name=\"invalid_argument\">addr or len is not page-aligned or the range leaves user space.</error>",
                      "<error name=\"invalid_argument\">addr or len is not page-aligned or the range leaves user space.</error>\n      <error name=\"no_memory\">New failure.</error>")],
             severity: .breaking, message: "syscall 10 'vm_unmap' can now return no_memory: callers do not expect it"),
    Mutation(name: "changed constant", file: "syscall_v0.xml",
             edits: [("<constant name=\"page_size\" type=\"u64\" value=\"4096\">", "<constant name=\"page_size\" type=\"u64\" value=\"8192\">")],
             severity: .breaking, message: "constant 'page_size' changed from 4096 (u64) to 8192 (u64)"),
    Mutation(name: "changed error code", file: "syscall_v0.xml",
             edits: [("<error name=\"peer_closed\" code=\"14\">", "<error name=\"peer_closed\" code=\"15\">")],
             severity: .breaking, message: "error 'peer_closed' changed from 14 to 15"),
    Mutation(name: "new syscall", file: "syscall_v0.xml",
             edits: [("  </syscalls>", "    <syscall name=\"cpu_count\" number=\"901\" since=\"1\" blocking=\"false\">\n      <doc>CPUs.</doc>\n      <returns type=\"u64\">How many.</returns>\n    </syscall>\n  </syscalls>")],
             severity: .compatible, message: "new syscall 901 'cpu_count'"),
    Mutation(name: "ABI version rose", file: "syscall_v0.xml",
             edits: [("<abi name=\"syscall\" version=\"2\">", "<abi name=\"syscall\" version=\"3\">"),
                     ("type=\"u32\" value=\"2\">The ABI version", "type=\"u32\" value=\"3\">The ABI version")],
             severity: .compatible, message: "ABI version rose from 2 to 3"),
    Mutation(name: "new protocol op", file: "block.xml",
             edits: [("</protocol>", "  <op name=\"trim\" code=\"6\" since=\"0\" idempotent=\"true\">\n    <doc>Discards.</doc>\n    <request/>\n    <reply/>\n  </op>\n</protocol>")],
             severity: .compatible, message: "new block op 'trim' = 6"),
    Mutation(name: "new constant", file: "syscall_v0.xml",
             edits: [("<constant name=\"handle_invalid\"", "<constant name=\"cpu_max\" type=\"u32\" value=\"64\">Most CPUs.</constant>\n    <constant name=\"handle_invalid\"")],
             severity: .compatible, message: "new constant 'cpu_max'"),
    Mutation(name: "reserved field renamed into use", file: "syscall_v0.xml",
             edits: [("<field name=\"reserved0\" type=\"u32\" reserved=\"true\">Zero.</field>\n      <field name=\"fault_address\"", "<field name=\"signal\" type=\"u32\">The signal.</field>\n      <field name=\"fault_address\"")],
             severity: .compatible, message: "struct apus_process_status: reserved field 'reserved0' is now 'signal'"),
    Mutation(name: "blocking changed", file: "syscall_v0.xml",
             edits: [("name=\"time_now\" number=\"1\" since=\"0\" blocking=\"false\"", "name=\"time_now\" number=\"1\" since=\"0\" blocking=\"true\"")],
             severity: .behavioural, message: "syscall 1 'time_now' may now block"),
    Mutation(name: "required rights changed", file: "syscall_v0.xml",
             edits: [("<arg name=\"process\" type=\"handle\" kind=\"process\" rights=\"wait\">", "<arg name=\"process\" type=\"handle\" kind=\"process\" rights=\"wait manage\">")],
             severity: .behavioural, message: "syscall 7 'process_wait': argument 'process' now requires rights [wait manage] instead of [wait]"),
    Mutation(name: "narrowed error set", file: "syscall_v0.xml",
             edits: [("      <error name=\"address_in_use\">With fixed: part of the range is already mapped.</error>\n", "")],
             severity: .behavioural, message: "syscall 9 'vm_map' no longer returns address_in_use"),
  ]

  /// The real spec, mutated, as a dump — through the same libclang pass as `check`.
  static func dump(_ edits: [(file: String, old: String, new: String)]) throws -> AbiDump {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    for name in try FileManager.default.contentsOfDirectory(atPath: Repo.path("spec")) where name.hasSuffix(".xml") {
      var text = try String(contentsOfFile: Repo.path("spec/\(name)"), encoding: .utf8)
      for edit in edits where edit.file == name {
        guard text.contains(edit.old) else { throw AbigenFailure("mutation text not found in \(name): \(edit.old)") }
        text = text.replacingOccurrences(of: edit.old, with: edit.new)
      }
      try folder.write(name, text)
    }
    let specs = try loadSpecs(folder.path, display: "spec")
    return try AbiDumpBuilder.build(specs, headers: Generator.outputs(for: specs))
  }

  @Test(arguments: mutations)
  func mutationIsClassified(_ mutation: Mutation) throws {
    let baseline = try Self.dump([])
    let mutated = try Self.dump(mutation.edits.map { (mutation.file, $0.0, $0.1) })
    let differences = AbiComparison.compare(baseline: baseline, current: mutated)
    let match = differences.first { $0.message == mutation.message }
    #expect(match?.severity == mutation.severity, "got: \(differences.map(\.description))")
    #expect(match?.location.hasPrefix("spec/\(mutation.file):") == true, "location: \(match?.location ?? "none")")
    if mutation.severity != .breaking {
      #expect(!differences.contains { $0.severity == .breaking }, "unexpected breaking: \(differences.map(\.description))")
    }
  }

  @Test func repositoryAbiHasNoBreakingChangeAgainstItsBaseline() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Repo.path("spec/baseline/abi_v0.json")))
    let baseline = try Generator.decodeDump(data, path: "spec/baseline/abi_v0.json")
    let differences = AbiComparison.compare(baseline: baseline, current: try Self.dump([]))
    #expect(!differences.contains { $0.severity == .breaking }, "\(differences)")
  }

  @Test func dumpSurvivesAJSONRoundTrip() throws {
    let dump = try Self.dump([])
    let json = try Generator.dumpJSON(dump)
    #expect(try Generator.decodeDump(Data(json.utf8), path: "memory") == dump)
  }

  @Test func dumpCarriesLayoutsFromLibclang() throws {
    let dump = try Self.dump([])
    let status = dump.structs.first { $0.name == "apus_process_status" }
    #expect(status?.size == 32)
    #expect(status?.fields.map(\.offset) == [0, 8, 12, 16, 24])
    let read = dump.structs.first { $0.name == "apus_block_read_request" }
    #expect(read?.fields.first?.name == "header")
    #expect(read?.size == 40)  // header 16, lba 8, count 4, flags 4, buffer_offset 8
  }
}
