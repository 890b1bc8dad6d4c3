"""Typing into Apus's serial console: boots QEMU with its stdin a pipe, waits for
output (the shell's prompt), sends lines and control characters, and ends with the
same BootResult the other tests use. Output is collected by a reader thread, so a
wait never blocks QEMU."""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from apus_qemu import ISO, LOG_DIR, RUNNER, BootResult

PROMPT = "apus$ "


class ConsoleSession:
    def __init__(self, name: str, *, cmdline: str, disk: Path, media: Path | None = None, timeout: int = 90,
                 runner_args: tuple[str, ...] = ()):
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        self.args = [str(RUNNER), "--iso", str(ISO), "--timeout", str(timeout), "--cmdline", cmdline, "--disk", str(disk)]
        if media is not None:
            self.args += ["--disk-ro", str(media)]
        self.args += list(runner_args)  # --net-port P, --net-frames Q:H, ...
        self.started = time.monotonic()
        # A session of its own, so kill() can end QEMU and not only the runner script.
        self.process = subprocess.Popen(self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.output = bytearray()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.seen = 0  # how much output earlier waits consumed

    def _read(self):
        while chunk := self.process.stdout.read1(4096):
            with self.lock:
                self.output += chunk

    def text(self) -> str:
        with self.lock:
            return self.output.decode("utf-8", errors="replace").replace("\r\n", "\n")

    def wait_for(self, marker: str, timeout: float = 30) -> str:
        """Waits until `marker` appears after what earlier waits consumed; returns the
        output between."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            found = text.find(marker, self.seen)
            if found >= 0:
                between = text[self.seen:found]
                self.seen = found + len(marker)
                return between
            if self.process.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{marker!r} did not appear; the console showed:\n{self.text()[-3000:]}")

    def type(self, text: str) -> None:
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def command(self, line: str, timeout: float = 30) -> str:
        """Types `line` at the prompt and returns what it printed (its echo removed, and
        the kernel's one-second TICK line, which can land anywhere, taken out)."""
        self.type(line + "\r")
        output = self.wait_for(PROMPT, timeout).replace("TICK: 100\n", "")
        echoed = line + "\n"
        return output[len(echoed):] if output.startswith(echoed) else output

    def kill(self) -> None:
        """Ends QEMU at once, like pulling the plug: SIGKILL to the runner and every
        process under it (`timeout` puts QEMU in a process group of its own), then waits
        until they are gone, and their locks on the disk images with them."""
        family = [self.process.pid] + descendants(self.process.pid)
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and not zombie(pid) for pid in family):
            self.process.poll()
            time.sleep(0.05)

    def finish(self, timeout: float = 60) -> BootResult:
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        log = self.text()
        self.log_path.write_text(log)
        return BootResult(log, self.process.returncode, " ".join(self.args), self.log_path, time.monotonic() - self.started)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
