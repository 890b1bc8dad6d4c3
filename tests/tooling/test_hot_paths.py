"""The code that runs in trap context or on every switch never allocates and never
touches reference counts (STYLE: no allocation in trap context; no retain/release on
hot paths). Checked on the emitted machine code: the static call graph of kernel.elf
from each root must not reach an allocator or a refcounting entry point.

Indirect calls (the trap table) are not followed, so every handler is a root itself.
The system call entry is not a root: its inlined dispatcher reaches every handler,
and some (process_spawn) allocate by design; the null-call cost is in make bench.
The check is proven able to fail: rooted at MemorySelfTest.run it reports the chain
to swift_release."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(shutil.which("swiftc")).parent

# Demangled (simplified) names of the roots: trap handlers, the timer, the scheduler.
ROOTS = [
    "x86_trap_dispatch",
    "static ExceptionReport.pageFault(_:)",
    "static ExceptionReport.breakpoint(_:)",
    "static ExceptionReport.doubleFault(_:)",
    "static ExceptionReport.fatal(_:name:code:)",
    "static ExceptionReport.killUser(_:reason:name:address:)",
    "static Timer.interrupt()",
    "static Scheduler.tick()",
    "static Scheduler.switchTo(_:)",
    "static Scheduler.blockCurrent()",
    "closure #1 in static Scheduler.yield()",  # yield itself is always inlined
    "static Scheduler.exitDetached()",
    # The IPC call fast path (kernel/ipc): the one copy straight into a waiting
    # receiver, the caller's wait with its direct switch, the receiver's wait with the
    # direct switch back, and failing a call when a server is gone.
    "Endpoint.deliverDirectly(from:length:sender:senderManage:)",
    "Endpoint.waitForAnswer(switchingTo:)",
    "closure #1 in Endpoint.waitForMessage(buffer:capacity:answered:)",
    "static UserMemory.copy(from:count:to:in:)",
    "static CallReply.fail(_:serial:_:)",
    "static CallReply.answerWithoutHandles(_:serial:reply:held:)",
    # Device interrupts (kernel/dev/MessageInterrupts.swift): the handler, posting on
    # the driver's endpoint, and running the woken driver at once (inlined).
    "closure #1 in static MessageInterrupts.start()",
    # Console input: the UART's interrupt and its line discipline.
    "closure #2 in static ConsoleInput.start(_:)",
    "Endpoint.signal(_:)",
]
FORBIDDEN = {
    "swift_allocObject", "swift_slowAlloc", "posix_memalign", "swift_allocBox",
    "swift_retain", "swift_release", "swift_bridgeObjectRetain", "swift_bridgeObjectRelease",
    "free", "kernel_heap_free",
}


def call_graph():
    elf = ROOT / "out" / "kernel.elf"
    assert elf.is_file(), "out/kernel.elf missing: run make build"
    text = subprocess.run([str(BIN / "llvm-objdump"), "-d", "--no-show-raw-insn", str(elf)],
                          capture_output=True, text=True, check=True).stdout
    header = re.compile(r"^[0-9a-f]+ <(.+)>:$")
    call = re.compile(r"\s(?:callq|call|jmpq|jmp)\s+0x[0-9a-f]+ <([^+>]+)(?:\+0x[0-9a-f]+)?>")
    graph, current = {}, None
    for line in text.splitlines():
        match = header.match(line)
        if match:
            current = match.group(1)
            graph.setdefault(current, set())
            continue
        match = call.search(line)
        if match and current and match.group(1) != current:
            graph[current].add(match.group(1))
    names = list(graph)
    demangled = subprocess.run([str(BIN / "swift-demangle"), "--simplified", "--compact"],
                               input="\n".join(names) + "\n", capture_output=True, text=True, check=True).stdout.splitlines()
    return graph, dict(zip(names, demangled))


GRAPH, READABLE = call_graph() if (ROOT / "out" / "kernel.elf").is_file() else ({}, {})


@pytest.mark.parametrize("root", ROOTS)
def test_no_allocation_or_refcounting_reachable(root):
    starts = [name for name, nice in READABLE.items() if nice == root or name == root]
    assert starts, f"root {root!r} not found in kernel.elf (renamed? update the list)"
    seen, stack, parents = set(starts), list(starts), {}
    while stack:
        function = stack.pop()
        for callee in GRAPH.get(function, ()):
            if callee in FORBIDDEN:
                chain = [callee, function]
                while chain[-1] in parents:
                    chain.append(parents[chain[-1]])
                raise AssertionError(f"{root} reaches {callee}: " + " <- ".join(READABLE.get(c, c) for c in chain))
            if callee not in seen:
                seen.add(callee)
                parents[callee] = function
                stack.append(callee)
