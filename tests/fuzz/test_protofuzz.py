"""Issue 14: protocol fuzzers generated from spec/ (apus/protocol_fuzz.h). Each server —
svcman (registry), blkdevd (block, on a scratch disk), fsd (fs), pkgd (pkg), netd (net,
on QEMU's user network) — gets
messages with known and unknown ops, short and over-long bodies, random fields, stale
ids and missing or extra handles; every reply must carry a status the spec declares
for that op, and the server must still serve a well-formed request after each."""
from apus_qemu import EXIT_CLEAN_HALT
from ext2image import e2fsck, make_image, with_programs

PROTOCOLS = ("registry", "block", "fs", "pkg", "net")


def test_every_server_survives_fuzzed_messages(qemu, disk_image, tmp_path):
    system = make_image(disk_image(0, "-system"), with_programs(tmp_path / "root"))
    scratch = disk_image(8 << 20, "-scratch")
    # Seed 1 found fs's undeclared unlink and rename statuses (issue 14's findings).
    # A system tool (init=tool=): block devices are not in an ordinary program's
    # registry, and the registry fuzz registers a name of its own for its probe.
    runs = "init=tool=tests/protofuzz " + " ".join(f"run=tests/protofuzz,seed=1,messages=3000,only={name}" for name in PROTOCOLS)
    result = qemu(disks=[system, scratch], cmdline=runs, timeout=300, runner_args=["--net"])
    findings = [line for line in result.lines if "FINDING" in line]
    assert not findings, result.report("findings:\n" + "\n".join(findings))
    for name in PROTOCOLS:
        result.expect_match(rf"PROTOFUZZ: {name}: 3000 messages, \d+ answered ok, \d+ refused, all with declared statuses")
    assert result.log.count("INIT: tests/protofuzz exited code=0") == len(PROTOCOLS), result.report("a fuzz run failed")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(system)
    assert check.returncode == 0, result.report(f"fsd left the disk inconsistent:\n{check.stdout}")
