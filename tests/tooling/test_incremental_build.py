"""The build has real dependencies: after a rebuild, nothing is out of date.

Regression: swiftc keeps an unchanged object file's old mtime, so touching a kernel
source once left make rebuilding the kernel on every `make build` forever.
"""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make(*args):
    return subprocess.run(["make", "-C", str(ROOT), *args], capture_output=True, text=True)


def test_rebuild_after_touching_a_source_leaves_nothing_to_do():
    source = ROOT / "kernel" / "Kmain.swift"
    os.utime(source)  # newer than the object, contents unchanged
    built = make("out/kernel.elf", "out/apus.iso")
    assert built.returncode == 0, built.stdout + built.stderr
    for target in ("out/kernel.elf", "out/apus.iso"):
        question = make("-q", target)
        assert question.returncode == 0, f"{target} is still out of date after a rebuild"
