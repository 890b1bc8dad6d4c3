"""Building packages on the host for the tests: the good way (mkpkg build) and, for
the hostile cases, by hand with Python's tarfile and mkpkg sign, so that a package
can be validly signed and still wrong in exactly one way."""
from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

from apus_qemu import ROOT

MKPKG = ROOT / ".build" / "debug" / "mkpkg"
TEST_KEY = ROOT / "keys" / "test-signing.key"
TEST_PUB = ROOT / "keys" / "test-signing.pub"
APPS = ROOT / "out" / "apps"


def mkpkg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(MKPKG), *args], capture_output=True, text=True)


def build(folder: Path, name: str, version: str, entry: str, output: Path, key: Path = TEST_KEY) -> Path:
    done = mkpkg("build", str(folder), "--name", name, "--version", version, "--summary", f"{name} for a test",
                 "--entry", entry, "--key", str(key), "-o", str(output))
    assert done.returncode == 0, done.stdout + done.stderr
    return output


def sign(data: bytes, scratch: Path, key: Path = TEST_KEY) -> bytes:
    scratch.write_bytes(data)
    done = mkpkg("sign", str(scratch), "--key", str(key))
    assert done.returncode == 0, done.stderr
    return bytes.fromhex(done.stdout.strip())


def manifest(name: str, version: str, entry: str, files: list[tuple[str, int, bytes]], sizes: dict | None = None) -> bytes:
    lines = ["apus-package 1", f"name {name}", f"version {version}", f"summary {name} for a test", f"entry {entry}"]
    for path, mode, data in files:
        size = (sizes or {}).get(path, len(data))
        lines.append(f"file {path} {mode:o} {size} {hashlib.sha256(data).hexdigest()}")
    return ("\n".join(lines) + "\n").encode()


def archive(entries: list[tuple[str, bytes, int]], links: list[tuple[str, str]] = ()) -> bytes:
    """A ustar archive of (name, data, mode) entries, then symbolic links (name, target)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return out.getvalue()
