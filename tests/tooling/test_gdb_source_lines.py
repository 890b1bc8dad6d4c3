"""Issue 9: source-level debugging of the Swift kernel. `make debug` boots paused with
QEMU's gdb stub; gdb must stop at a breakpoint named by Swift file and line and show a
backtrace with files and lines. The M3 kernel.elf carried a linked .debug_names index
that lists none of Swift's line tables, and gdb, trusting it, found no Swift lines;
the build now removes it (Makefile, kernel.elf rule)."""
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "kernel/sched/Scheduler.swift"


def line_of(text: str) -> int:
    for number, line in enumerate((ROOT / SOURCE).read_text().splitlines(), start=1):
        if line.strip() == text:
            return number
    raise AssertionError(f"{text!r} not found in {SOURCE}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gdb_stops_at_a_swift_line_and_shows_the_stack():
    assert shutil.which("gdb"), "gdb missing: tools/install-deps.sh installs it"
    line = line_of("CPU.this.current = boot")  # in Scheduler.start(): kmain becomes thread 0
    port = free_port()
    qemu = subprocess.Popen(
        [str(ROOT / "tools/run_qemu.sh"), "--iso", str(ROOT / "out/apus.iso"), "--timeout", "60",
         "--", "-S", "-gdb", f"tcp:127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        gdb = subprocess.run(
            ["gdb", "-batch", "-nx", str(ROOT / "out/kernel.elf"),
             "-ex", f"target remote 127.0.0.1:{port}",
             "-ex", f"break {SOURCE}:{line}",
             "-ex", "continue",
             "-ex", "bt"],
            capture_output=True, text=True, timeout=60)
    finally:
        qemu.kill()
        qemu.wait()
    output = gdb.stdout + gdb.stderr
    # gdb says "at ADDR: FILE:LINE. (N locations)" or "at ADDR: file FILE, line LINE."
    set_by_line = f": {SOURCE}:{line}." in output or f": file {SOURCE}, line {line}." in output
    assert set_by_line, f"the breakpoint was not set by file and line:\n{output}"
    frames = [text for text in output.splitlines() if text.startswith("#")]
    assert frames and frames[0].endswith(f" at {SOURCE}:{line}"), f"the stop is not at {SOURCE}:{line}:\n{output}"
    assert any(" at kernel/Kmain.swift:" in frame for frame in frames), f"the backtrace does not show kmain's source:\n{output}"
    assert len(frames) <= 6, f"the backtrace runs on past the boot entry:\n{output}"
