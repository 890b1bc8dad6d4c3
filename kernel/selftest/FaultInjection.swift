// Fault injection for the supervisor's tests (issue 16): `chaos=NAME,seed=S,max=M,kills=K`
// kills the process started as NAME (services/blkdevd, ...) when it takes its N-th
// request, N drawn from 1...M by a generator seeded with S, afresh for every new
// instance, until K instances have died. The kill lands while a request is taken and
// unanswered, so its caller sees the server vanish mid-request (peer_closed), as with
// a crash. Off unless the option is given: one flag test per receive.

enum FaultInjection {
  nonisolated(unsafe) private(set) static var armed = false
  nonisolated(unsafe) private static var target: [UInt8] = []
  nonisolated(unsafe) private static var state: UInt64 = 0
  nonisolated(unsafe) private static var maximum: UInt64 = 100
  nonisolated(unsafe) private static var killsLeft = 0
  nonisolated(unsafe) private static var killed = 0
  nonisolated(unsafe) private static var instance: UInt32 = 0
  nonisolated(unsafe) private static var countdown: UInt64 = 0
  nonisolated(unsafe) private static var taken: UInt64 = 0

  /// Parses the option's value: NAME,seed=S,max=M,kills=K; false when it is malformed.
  static func configure(_ value: ArraySlice<UInt8>) -> Bool {
    let parts = value.split(separator: UInt8(ascii: ","))
    guard let name = parts.first, !name.isEmpty else { return false }
    var seed: UInt64 = 1
    var kills: UInt64 = 100
    for part in parts.dropFirst() {
      let pair = part.split(separator: UInt8(ascii: "="), maxSplits: 1)
      guard pair.count == 2, let number = decimal(pair[1]) else { return false }
      if pair[0].elementsEqual("seed".utf8) { seed = number }
      else if pair[0].elementsEqual("max".utf8) { maximum = max(number, 1) }
      else if pair[0].elementsEqual("kills".utf8) { kills = number }
      else { return false }
    }
    target = Array(name)
    state = seed &* 0x9e37_79b9_7f4a_7c15 | 1
    killsLeft = Int(min(kills, 1_000_000))
    armed = killsLeft > 0
    kprint("CHAOS: will kill \(escaping: target) \(killsLeft) times, each after 1 to \(maximum) requests (seed \(seed))")
    return true
  }

  /// `process` took a request (not an interrupt): maybe its number is up.
  static func received(by process: Process) {
    guard armed, process.nameLength == target.count else { return }
    for index in 0..<target.count where process.name[index] != target[index] { return }
    if process.pid != instance {
      instance = process.pid
      taken = 0
      countdown = 1 + next() % maximum
    }
    taken += 1
    countdown -= 1
    guard countdown == 0 else { return }
    killed += 1
    killsLeft -= 1
    armed = killsLeft > 0
    kprint("CHAOS: killed \(escaping: target) pid=\(process.pid) at request \(taken) (kill \(killed))")
    process.end(ProcessStatus(code: 0, reason: .killed, faultAddress: 0, faultIp: 0))
  }

  private static func next() -> UInt64 {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }

  private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
    guard !digits.isEmpty, digits.count <= 18 else { return nil }
    var value: UInt64 = 0
    for digit in digits {
      guard digit >= 48 && digit <= 57 else { return nil }
      value = value * 10 + UInt64(digit - 48)
    }
    return value
  }
}
