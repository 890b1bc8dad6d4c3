"""The chaos run, shared by make test's short version (tests/supervisor/test_chaos.py)
and make chaos's 100 kills (tools/chaos.py): the kernel kills blkdevd at seeded random
requests (chaos=...) while tests/chaos writes and fsyncs files through fsd; afterwards
the host reads every file whose fsync returned ok back from the disk image and
e2fsck judges the filesystem."""
import re
import subprocess
from pathlib import Path

from apus_qemu import EXIT_CLEAN_HALT, boot
from ext2image import debugfs, e2fsck

DURABLE = re.compile(r"CHAOS: durable f(\d+) size=(\d+)")


def expected_content(number: int) -> bytes:
    """tests/chaos's file N: lines "file N line L\\n" cut at 1 to 8 KiB."""
    size = 1024 + (number * 1237) % 7168
    text = bytearray()
    line = 0
    while len(text) < size:
        text += f"file {number} line {line}\n".encode()
        line += 1
    return bytes(text[:size])


def run_chaos(name: str, disk: Path, *, seed: int, kills: int, files: int, timeout: int):
    cmdline = (f"chaos=services/blkdevd,seed={seed},max=40,kills={kills} init=restart-limit=100000 "
               f"init=restart-backoff-ms=10 run=tests/chaos,{files}")
    result = boot(name, disk=disk, cmdline=cmdline, timeout=timeout)
    killed = re.findall(r"CHAOS: killed services/blkdevd pid=\d+ at request \d+ \(kill (\d+)\)", result.log)
    assert len(killed) == kills, result.report(f"{len(killed)} kills, not {kills}: make the run longer")
    restarted = re.findall(r"SUPERVISOR: restarted blkdevd \(exit reason=killed, count=\d+\)", result.log)
    assert len(restarted) >= kills - 1, result.report("every kill but perhaps the last is followed by a restart")
    durable = [(int(number), int(size)) for number, size in DURABLE.findall(result.log)]
    summary = result.expect_match(r"CHAOS: (\d+) files, (\d+) durable, (\d+) failed")
    assert int(summary[2]) == len(durable) and len(durable) > 0
    result.expect("INIT: done failures=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    # The host's word: every promised byte is on the disk, and the filesystem is clean.
    for number, size in durable:
        data = debugfs(disk, f"cat /chaos/f{number}")
        assert data == expected_content(number), f"/chaos/f{number}: fsync said ok, the disk holds something else"
        assert len(data) == size
    check = e2fsck(disk)
    assert check.returncode == 0, result.report(f"e2fsck after {kills} kills:\n{check.stdout}")
    restarts = [(int(t), int(us)) for t, us in re.findall(r"SUPERVISOR: blkdevd serves again, (\d+) ticks \((\d+) us\) after its restart",
                                                        result.log)]
    return result, durable, restarts
