"""Boots Apus in QEMU through tools/run_qemu.sh and hands back what happened.

Every QEMU test goes through `boot()`: it runs the one runner with the options given,
keeps the whole serial log in out/test-logs/<test>.log, and returns a BootResult. The
result's `expect_*` helpers fail with the serial tail and the exact QEMU command, so a
red test says what the guest printed without anyone rerunning it.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tools" / "run_qemu.sh"
ISO = Path(os.environ.get("APUS_ISO", ROOT / "out" / "apus.iso"))
LOG_DIR = ROOT / "out" / "test-logs"

# QEMU exit statuses (DESIGN.md §3): isa-debug-exit writes 0x10 / 0x11, QEMU exits
# (value << 1) | 1; `timeout` exits 124.
EXIT_CLEAN_HALT = 33
EXIT_PANIC = 35
EXIT_TIMEOUT = 124

DEFAULT_TIMEOUT = 60  # seconds; a BIOS boot takes under 1 s, a UEFI boot about 5


@dataclass
class BootResult:
    log: str
    exit_code: int
    command: str
    log_path: Path
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.log.splitlines()

    def tail(self, count: int = 30) -> str:
        return "\n".join(self.lines[-count:])

    def report(self, problem: str) -> str:
        return (
            f"{problem}\n"
            f"--- QEMU exit status: {self.exit_code} after {self.seconds:.1f} s\n"
            f"--- command: {self.command}\n"
            f"--- serial log: {self.log_path}\n"
            f"--- last lines of serial output:\n{self.tail()}"
        )

    def expect(self, *markers: str) -> None:
        """Each marker must appear as a whole line, in the order given."""
        position = 0
        lines = self.lines
        for marker in markers:
            for index in range(position, len(lines)):
                if lines[index] == marker:
                    position = index + 1
                    break
            else:
                raise AssertionError(self.report(f"serial line {marker!r} not found (in order)"))

    def expect_match(self, pattern: str) -> "re.Match[str]":
        """The first whole line that matches `pattern` (a regular expression)."""
        compiled = re.compile(pattern)
        for line in self.lines:
            if found := compiled.fullmatch(line):
                return found
        raise AssertionError(self.report(f"no serial line matches {pattern!r}"))

    def expect_absent(self, *markers: str) -> None:
        for marker in markers:
            if marker in self.lines:
                raise AssertionError(self.report(f"serial line {marker!r} must not appear"))

    def expect_exit(self, code: int) -> None:
        if self.exit_code != code:
            raise AssertionError(self.report(f"expected QEMU exit status {code}"))

    def lines_starting(self, prefix: str) -> list[str]:
        return [line for line in self.lines if line.startswith(prefix)]

    def accounting(self) -> tuple[dict[str, int], dict[str, int]]:
        """What the kernel held before init and after it ended (UserLand.Accounting):
        free pages, heap bytes and live kernel objects, each as a dict."""
        pattern = re.compile(r"MM: free=(\d+) pages heap=(\d+) bytes objects=(\d+) (before|after) init")
        found = {}
        for line in self.lines:
            match = pattern.fullmatch(line)
            if match:
                found[match.group(4)] = {"free pages": int(match.group(1)), "heap bytes": int(match.group(2)),
                                         "objects": int(match.group(3))}
        if set(found) != {"before", "after"}:
            raise AssertionError(self.report("the MM: before/after init lines are missing"))
        return found["before"], found["after"]

    def expect_nothing_leaked(self) -> None:
        """Pages, heap bytes and kernel objects are back where they were before init."""
        before, after = self.accounting()
        if before != after:
            raise AssertionError(self.report(f"kernel resources not returned: before {before}, after {after}"))


def boot(
    name: str,
    *,
    cmdline: str | None = None,
    cmdline_bytes: bytes | None = None,
    uefi: bool = False,
    disk: Path | None = None,
    disks: list[Path] | None = None,
    readonly_disks: list[Path] | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    qemu_args: list[str] | None = None,
    runner_args: list[str] | None = None,
) -> BootResult:
    """Boots the ISO once; `name` names the log file (usually the test's name)."""
    if not ISO.is_file():
        raise AssertionError(f"{ISO} is missing: run `make image` (make test does)")
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    args = [str(RUNNER), "--iso", str(ISO), "--timeout", str(timeout)]
    if uefi:
        args.append("--uefi")
    if cmdline is not None:
        args += ["--cmdline", cmdline]
    if cmdline_bytes is not None:
        raw = LOG_DIR / f"{name}.cmdline"
        raw.write_bytes(cmdline_bytes)
        args += ["--cmdline-file", str(raw)]
    for each in ([disk] if disk is not None else []) + list(disks or []):
        args += ["--disk", str(each)]
    for each in readonly_disks or []:
        args += ["--disk-ro", str(each)]
    args += runner_args or []  # --net, ...
    if qemu_args:
        args += ["--", *qemu_args]
    started = time.monotonic()
    completed = subprocess.run(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=timeout + 30,
    )
    seconds = time.monotonic() - started
    # The UART carries bytes, not text; a stray byte must not hide the rest.
    log = completed.stdout.decode("utf-8", errors="replace").replace("\r\n", "\n")
    log_path.write_text(log)
    return BootResult(log, completed.returncode, shlex.join(args), log_path, seconds)
