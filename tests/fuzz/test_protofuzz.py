"""Issues 14 and 21: the stateful protocol fuzzer (user/tests/protofuzz.c). Each server —
svcman (registry), blkdevd (block, on a scratch disk), fsd (fs), pkgd (pkg), netd (net, on
QEMU's user network) — gets spec-generated messages (known and unknown ops, short and
over-long bodies, random fields and handles, reply rooms with no space for the reply's
handles) interleaved with stateful steps: real files opened, written, truncated to sizes
near 2^64, read, listed and renamed; sockets bound, sent from, received on, pinged;
buffers attached and rewritten by a second thread while requests are in flight; names
looked up and added; children that hold files, sockets, waiting lookups and barrier
reads and are killed at random moments or exit holding them. Every reply must carry a
status the spec declares for its op; after the run a fresh client must be served with
the capacity it had before (files open at once, sockets, waiting lookups) and the
kernel's object count must be back.

A server that dies, is restarted or hangs fails the test: the supervisor's lines, the
fuzzer's FINDING lines (peer_closed, no answer for the patience, a second client
refused) and the QEMU timeout each fail it. make fuzz runs the same, long
(`make protofuzz MESSAGES=... SEED=...`)."""
import re

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import e2fsck, make_image, with_programs

PROTOCOLS = ("registry", "block", "fs", "pkg", "net")
MESSAGES = 1500
SUPERVISOR_TROUBLE = re.compile(r"SUPERVISOR: .*(died|restarted|gave up|not restarted)")


def test_every_server_survives_stateful_fuzzing(qemu, disk_image, tmp_path):
    system = make_image(disk_image(0, "-system"), with_programs(tmp_path / "root"))
    scratch = disk_image(8 << 20, "-scratch")
    # A system tool (init=tool=): block devices are not in an ordinary program's
    # registry (tests/supervisor/test_names.py checks that side).
    runs = "init=tool=tests/protofuzz " + " ".join(
        f"run=tests/protofuzz,seed=1,messages={MESSAGES},only={name}" for name in PROTOCOLS)
    result = qemu(disks=[system, scratch], cmdline=runs, timeout=240, runner_args=["--net"])
    findings = [line for line in result.lines if "FINDING" in line]
    assert not findings, result.report("findings:\n" + "\n".join(findings))
    trouble = [line for line in result.lines if SUPERVISOR_TROUBLE.search(line)]
    assert not trouble, result.report("a server died or was restarted:\n" + "\n".join(trouble))
    for name in PROTOCOLS:
        if name == "block" and "PROTOFUZZ: block: skipped, the lookup of block1 was refused" in result.log:
            continue  # a lookup-only registry does not hand out block devices
        summary = result.expect_match(
            rf"PROTOFUZZ: {name}: (\d+) messages \((\d+) malformed, (\d+) stateful\), (\d+) files opened, "
            rf"(\d+) sockets bound, (\d+) buffers attached, (\d+) calls without room for reply handles, "
            rf"(\d+) children \((\d+) killed, (\d+) exited\), (\d+) buffer rewrites, 0 findings")
        messages, malformed, stateful, files, sockets, buffers, capless, children, killed, exited, rewrites = map(int, summary.groups())
        assert malformed > 0 and stateful > 0 and children > 0 and killed > 0, result.report(f"{name}: {summary.group(0)}")
        if name == "fs":
            assert files > 0 and buffers > 0 and rewrites > 0, result.report(summary.group(0))
        if name == "net":
            assert sockets > 0 and buffers > 0, result.report(summary.group(0))
        if name == "registry":
            assert capless > 0, result.report(summary.group(0))
        result.expect_match(rf"PROTOFUZZ: {name}: a second client was served after the fuzzing \(capacity \d+, as before\), "
                            rf"kernel objects back to \d+")
    assert result.log.count("INIT: tests/protofuzz exited code=0") == len(PROTOCOLS), result.report("a fuzz run failed")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(system)
    assert check.returncode == 0, result.report(f"fsd left the disk inconsistent:\n{check.stdout}")
