"""Host-side ext2 tools for the filesystem tests: images made by mke2fs from a
folder, judged by e2fsck and read back by debugfs — real e2fsprogs, not Apus."""
from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

from apus_qemu import ROOT

BIN = ROOT / "out" / "bin"


def make_image(image: Path, folder: Path, size_mib: int = 32, options: tuple[str, ...] = ()) -> Path:
    image.unlink(missing_ok=True)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", *options, "-d", str(folder), str(image), f"{size_mib}M"], check=True)
    return image


DISK_PROGRAMS = ("sh", "ping", "args", "net", "pkg", "spin")  # the Makefile's DISK_PROGRAMS


def hello_image(image: Path, folder: Path) -> Path:
    """A 32 MiB ext2 disk holding only /hello.txt ("hello\n"): what a client of another
    job reads (tests/fsclient hash) to show it is still served."""
    folder.mkdir(parents=True)
    (folder / "hello.txt").write_text("hello\n")
    return make_image(image, folder, size_mib=32)


def with_programs(folder: Path) -> Path:
    """Copies the disk programs (out/bin) into folder/bin."""
    (folder / "bin").mkdir(parents=True, exist_ok=True)
    for program in DISK_PROGRAMS:
        shutil.copy(BIN / program, folder / "bin" / program)
    return folder


def e2fsck(image: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["e2fsck", "-fn", str(image)], capture_output=True, text=True)


def debugfs(image: Path, request: str) -> bytes:
    return subprocess.run(["debugfs", "-R", request, str(image)], capture_output=True, check=True).stdout


def block_size(image: Path) -> int:
    for line in subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Block size:"):
            return int(line.split()[-1])
    raise AssertionError("dumpe2fs gave no block size")


def blocks_of(image: Path, path: str) -> list[int]:
    return [int(b) for b in debugfs(image, f"blocks {path}").split()]


def word_hash(data: bytes) -> int:
    """tests/fsclient's hash: FNV-1a over little-endian 64-bit words, the last padded."""
    padded = data + bytes(-len(data) % 8)
    value = 0xCBF29CE484222325
    for (word,) in struct.iter_unpack("<Q", padded):
        value = ((value ^ word) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value
