// ulib/swift/generated/<Name>Protocol.swift: a protocol's messages as Swift structs
// (C layout, checked by <Name>ProtocolLayout.verify()), a typed client over any
// MessageTransport, and a Server protocol with a `serve` function that decodes a
// request, calls the server's handler for its op and encodes the reply. The generic
// message plumbing is hand-written once, in ulib/swift/runtime/MessageTransport.swift.

struct SwiftProtocolEmitter {
  let specs: SpecSet

  func protocolFile(_ spec: ProtocolSpec) -> GeneratedFile {
    let scope = NameScope.forProtocol(spec, abi: specs.abi)
    let namespace = scope.swiftNamespace!
    let types = SwiftTypesEmitter(specs: specs, access: "public ")
    let out = SourceWriter()
    out.lines(GeneratedText.slashMarker(for: [spec.file]))
    out.line("//")
    out.doc("The \(spec.name) protocol v\(spec.version): messages, client and server.", style: .line)
    out.line()
    out.doc(spec.doc, style: .swift)
    out.block("public enum \(namespace)") {
      out.line("public static let version: UInt32 = \(spec.version)")
      out.line()
      types.openEnum(out, name: "Op", backing: .u32, doc: "Operation codes (MsgHeader.op).",
                     conformances: [], cases: spec.ops.map { ($0.name, Int128($0.code), $0.doc) })
      types.openEnum(out, name: "Status", backing: .u32, doc: "Reply statuses (MsgHeader.status).",
                     conformances: [], cases: spec.statuses.map { ($0.name, Int128($0.code), $0.doc) })
      out.doc("Why a client call failed.", style: .swift)
      out.block("public enum Failure: Error") {
        out.doc("The server answered with a status other than ok.", style: .swift)
        out.line("case status(Status)")
        out.doc("The IPC call itself failed.", style: .swift)
        out.line("case transport(AbiError)")
        out.doc("The reply was too short, or its op or id did not match the request.", style: .swift)
        out.line("case malformedReply")
      }
      out.line()
      types.constants(out, namespace: nil, spec.types.constants, doc: "")
      types.declarations(spec.types, scope, out)
      for op in spec.ops {
        for (suffix, fields) in [("Request", op.request), ("Reply", op.reply)] {
          types.structure(out, name: Names.upperCamel(op.name) + suffix, doc: "\(op.name) \(suffix.lowercased()).",
                          fields: [CHeaderEmitter.headerField] + fields, scope, conformances: ["ProtocolMessage"])
        }
      }
      client(spec, scope, out)
      server(spec, scope, out)
      let layouts = spec.types.structs.map { (scope.swiftTypeName($0.name), scope.layout.layout(of: $0)) }
        + spec.ops.flatMap { op in
          [("Request", op.request), ("Reply", op.reply)].map { suffix, fields in
            (Names.upperCamel(op.name) + suffix, scope.layout.messageLayout(name: op.name, fields: fields))
          }
        }
      types.layoutCheck(out, name: "Layout", structs: layouts)
    }
    return GeneratedFile(path: "ulib/swift/generated/\(namespace).swift", contents: out.text)
  }

  private func client(_ spec: ProtocolSpec, _ scope: NameScope, _ out: SourceWriter) {
    let hasNotReady = spec.statuses.contains { $0.name == "not_ready" }
    out.doc("Calls a \(spec.name) server over `transport`. Each call numbers its request and checks that the reply answers it. Handles go with a request through its `handles` argument; the last reply's are in `replyHandles`, the caller's to keep or close. A server that restarts is survived with `reconnect`: idempotent requests without handles are sent again after it.", style: .swift)
    out.block("public struct Client<Transport: \(GeneratedText.messageTransport)>") {
      out.line("public var transport: Transport")
      out.line("public private(set) var replyHandles = MessageHandles()")
      out.line("private var nextID: UInt64 = 1")
      out.doc("Restores the session when the server went away\(hasNotReady ? " or restarted (peer_closed, not_ready)" : " (peer_closed)"): looks it up again, puts the new transport in place, attaches again. False when it cannot. An idempotent request that carried no handles is then sent again, at most `retries` times; other requests report the failure.", style: .swift)
      out.line("public var reconnect: ((inout Client) -> Bool)? = nil")
      out.line("public var retries = 3")
      out.line()
      out.line("public init(transport: Transport) { self.transport = transport }")
      for op in spec.ops {
        out.line()
        let settable = op.request.filter { !$0.reserved }
        let parameters = (settable.map { "\(Names.lowerCamel($0.name)): \(scope.swiftFieldType($0))" } + ["handles: MessageHandles = MessageHandles()"]).joined(separator: ", ")
        out.doc("\(op.name): \(op.doc)\(op.shm.map { " Shared buffer (\($0.direction.rawValue)): \($0.doc)" } ?? "")", style: .swift)
        for use in op.errors { out.doc("- Fails with `.\(Names.lowerCamel(use.name))`: \(use.doc)", style: .swift) }
        out.block("public mutating func \(Names.swiftIdentifier(Names.lowerCamel(op.name)))(\(parameters)) throws(Failure) -> \(Names.upperCamel(op.name))Reply") {
          let arguments = settable.map { "\(Names.lowerCamel($0.name)): \(Names.swiftIdentifier(Names.lowerCamel($0.name)))" }.joined(separator: ", ")
          out.line("var request = \(Names.upperCamel(op.name))Request(\(arguments))")
          out.line("request.header.op = Op.\(Names.swiftIdentifier(Names.lowerCamel(op.name))).rawValue")
          out.line("return try call(request, handles: handles, expecting: \(Names.upperCamel(op.name))Reply.self, idempotent: \(op.idempotent))")
        }
      }
      out.line()
      out.block("private mutating func call<Request: ProtocolMessage, Reply: ProtocolMessage>(_ request: Request, handles: MessageHandles, expecting: Reply.Type, idempotent: Bool) throws(Failure) -> Reply") {
        out.line("var request = request")
        out.line("var attempt = 0")
        out.block("while true") {
          out.line("request.header.id = nextID")
          out.line("nextID &+= 1")
          out.line("do { return try exchange(request, handles: handles, expecting: Reply.self) } catch {")
          out.line("  guard idempotent, handles.count == 0, attempt < retries, Self.isRestart(error), let reconnect else { throw error }")
          out.line("  attempt += 1")
          out.line("  _ = reconnect(&self)  // if it failed, the next attempt fails at once and reconnects again")
          out.line("}")
        }
      }
      out.line()
      out.doc("Whether `failure` says the server went away\(hasNotReady ? " or restarted" : "").", style: .swift)
      out.block("public static func isRestart(_ failure: Failure) -> Bool") {
        out.block("switch failure") {
          out.line("case .transport(let error): return error.rawValue == AbiError.peerClosed.rawValue")
          if hasNotReady { out.line("case .status(let status): return status == .notReady") }
          out.line("default: return false")
        }
      }
      out.line()
      out.block("private mutating func exchange<Request: ProtocolMessage, Reply: ProtocolMessage>(_ request: Request, handles: MessageHandles, expecting: Reply.Type) throws(Failure) -> Reply") {
        out.line("let reply: Reply?")
        out.line("replyHandles = MessageHandles()")
        out.line("do { reply = try transport.exchange(request, handles: handles, expecting: Reply.self, replyHandles: &replyHandles) } catch { throw .transport(error) }")
        out.block("guard let reply, reply.header.op == request.header.op, reply.header.id == request.header.id else") {
          out.line("throw .malformedReply")
        }
        out.line("let status = Status(rawValue: reply.header.status)")
        out.line("guard status == .ok else { throw .status(status) }")
        out.line("return reply")
      }
    }
    out.line()
  }

  private func server(_ spec: ProtocolSpec, _ scope: NameScope, _ out: SourceWriter) {
    out.doc("What a \(spec.name) server implements: one handler per op. A handler fills in the reply's fields (the header is set for it) and returns the status. It takes the request's handles it keeps out of `handles` (MessageHandles.take; the serving loop closes the rest) and puts handles for the reply in `replyHandles`.", style: .swift)
    out.block("public protocol Server") {
      for op in spec.ops {
        out.doc("\(op.name): \(op.doc)", style: .swift)
        out.line("mutating func \(Names.swiftIdentifier(Names.lowerCamel(op.name)))(_ request: \(Names.upperCamel(op.name))Request, handles: inout MessageHandles, reply: inout \(Names.upperCamel(op.name))Reply, replyHandles: inout MessageHandles) -> Status")
      }
    }
    out.line()
    out.doc("Serves one request: decodes it, runs the handler for its op and encodes the reply into `reply`. Returns the reply's length. A request that is too short or names an unknown op is answered with badRequest. Request handles the handler does not take stay in `handles`, for the caller to close.", style: .swift)
    out.block("public static func serve<S: Server>(_ server: inout S, request: UnsafeRawBufferPointer, handles: inout MessageHandles, reply: UnsafeMutableRawBufferPointer, replyHandles: inout MessageHandles) -> Int") {
      out.block("guard let header = MessageCodec.decode(MsgHeader.self, from: request) else") {
        out.line("return MessageCodec.reject(MsgHeader(), status: Status.badRequest.rawValue, into: reply)")
      }
      out.block("switch Op(rawValue: header.op)") {
        for op in spec.ops {
          let name = Names.upperCamel(op.name)
          out.line("case .\(Names.swiftIdentifier(Names.lowerCamel(op.name))):")
          out.indented {
            out.block("guard let message = MessageCodec.decode(\(name)Request.self, from: request) else") {
              out.line("return MessageCodec.reject(header, status: Status.badRequest.rawValue, into: reply)")
            }
            out.line("var answer = \(name)Reply()")
            out.line("answer.header = MsgHeader(op: header.op, status: 0, id: header.id)")
            out.line("answer.header.status = server.\(Names.swiftIdentifier(Names.lowerCamel(op.name)))(message, handles: &handles, reply: &answer, replyHandles: &replyHandles).rawValue")
            out.line("return MessageCodec.encode(answer, into: reply)")
          }
        }
        out.line("default:")
        out.indented {
          out.line("return MessageCodec.reject(header, status: Status.badRequest.rawValue, into: reply)")
        }
      }
    }
    out.line()
  }
}
