"""tools/symbolize names kernel addresses with function and source line."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def swift_kmain(nm_output):
    """The address of Swift's kmain (not its compiler-generated C entry thunk)."""
    return [line.split()[0] for line in nm_output.splitlines() if line.split()[-1].startswith("$e6Kernel5kmain")]


def test_symbolize_names_kmain_with_its_source_line():
    elf = ROOT / "out" / "kernel.elf"
    assert elf.is_file(), "out/kernel.elf missing: run make build"
    symbols = subprocess.run([str(Path(__import__("shutil").which("swiftc")).parent / "llvm-nm"), "--defined-only", str(elf)], capture_output=True, text=True, check=True)
    [address] = swift_kmain(symbols.stdout)
    out = subprocess.run([str(ROOT / "tools" / "symbolize"), f"0x{address}"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith(f"0x{address} kmain(_:_:) at kernel/Kmain.swift:"), out.stdout


def test_symbolize_annotates_backtrace_lines_in_a_log():
    elf = ROOT / "out" / "kernel.elf"
    symbols = subprocess.run([str(Path(__import__("shutil").which("swiftc")).parent / "llvm-nm"), "--defined-only", str(elf)], capture_output=True, text=True, check=True)
    [address] = swift_kmain(symbols.stdout)
    log = f"KERNEL: boot ok\nBACKTRACE: #0 0x{address} kmain(_:_:)+0x0\n"
    out = subprocess.run([str(ROOT / "tools" / "symbolize")], input=log, capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    assert lines[0] == "KERNEL: boot ok"
    assert lines[1].startswith(f"BACKTRACE: #0 0x{address} kmain(_:_:)+0x0    [kmain(_:_:) at kernel/Kmain.swift:"), lines[1]
