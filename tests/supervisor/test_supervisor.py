"""Issue 16: init's supervisor. process_watch posts a process's end on an endpoint
(tests/watch checks it); a server that dies at every start is given up after five
crashes, with a line, and the system goes on; the give-up decays (issue 21: it is
tried again a window later, then two windows); a server that exits with code 2 refused
to start and is not restarted; fsd killed in the middle of a client's
operation: the client gets an error, the supervisor starts fsd again, it mounts, the
client connects again and what it fsyncs afterwards is on the disk (host read-back,
e2fsck clean); svcman killed: the names come back from init's journal."""
import re

from apus_qemu import EXIT_CLEAN_HALT
from chaos import DURABLE, expected_content
from ext2image import debugfs, e2fsck, make_image, with_programs


def test_process_watch(qemu):
    result = qemu(cmdline="run=tests/watch")
    result.expect_match(r"WATCH: process_watch ok \(\d+ checks\)")
    result.expect("INIT: tests/watch exited code=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_server_that_dies_at_every_start_is_given_up(qemu):
    result = qemu(cmdline="init=service=tests/crashstart run=tests/roundtrip")
    deaths = re.findall(r"SUPERVISOR: crashstart died \(reason=page fault code=0\)", result.log)
    assert len(deaths) == 5, result.report("five starts, five deaths")
    backoffs = [int(ms) for ms in re.findall(r"SUPERVISOR: restarted crashstart \(exit reason=page fault, count=\d\) after (\d+) ms",
                                             result.log)]
    assert backoffs == [10, 20, 40, 80], result.report("the backoff doubles")
    result.expect("SUPERVISOR: gave up on crashstart: 5 crashes within 10000 ms (last: page fault); trying again in 10000 ms",
                  "INIT: tests/crashstart failed to start", "INIT: tests/roundtrip exited code=0", "INIT: done failures=0",
                  "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_give_up_decays(qemu):
    """Issue 21: giving up was for good (five crashes of fsd from a hostile client and
    the filesystem stayed down). Now a given-up server is tried again after a pause of
    one window, two after a second give-up in a row; tests/spinner keeps init busy for
    about five seconds of guest time while the 500 ms window passes again and again."""
    result = qemu(cmdline="init=service=tests/crashstart init=restart-window-ms=500 run=tests/spinner", timeout=120)
    result.expect("SUPERVISOR: gave up on crashstart: 5 crashes within 500 ms (last: page fault); trying again in 500 ms",
                  "INIT: tests/crashstart failed to start", "SUPERVISOR: trying crashstart again after giving up",
                  "SUPERVISOR: crashstart died (reason=page fault code=0)")
    result.expect_match(r"SUPERVISOR: gave up on crashstart: \d crashes within 500 ms \(last: page fault\); trying again in 1000 ms")
    result.expect("INIT: tests/spinner exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_server_that_refuses_to_start_is_not_restarted(qemu):
    """Exit code 2 is "refused to start" (fsd when its disk does not mount): restarting
    it would only refuse again, five times, and then give up in silence about why."""
    result = qemu(cmdline="init=service=tests/crashstart,refuse run=tests/roundtrip")
    result.expect("SUPERVISOR: crashstart refused to start (exit code 2): not restarted", "INIT: tests/crashstart failed to start",
                  "INIT: tests/roundtrip exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    assert "SUPERVISOR: restarted crashstart" not in result.log, result.report("a refusal was restarted")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_fsd_killed_mid_operation_comes_back_and_mounts(qemu, disk_image, tmp_path):
    disk = make_image(disk_image(0), with_programs(tmp_path / "root"), size_mib=64)
    result = qemu(disk=disk, cmdline="chaos=services/fsd,seed=2,max=60,kills=1 run=tests/chaos,30", timeout=120)
    result.expect_match(r"CHAOS: killed services/fsd pid=\d+ at request \d+ \(kill 1\)")
    result.expect_match(r"CHAOS: f\d+ not promised: fsd is gone")
    result.expect("SUPERVISOR: fsd died (reason=killed code=0)", "SUPERVISOR: restarted fsd (exit reason=killed, count=1) after 10 ms")
    mounts = [line for line in result.lines if line.startswith("FSD: mount ok")]
    assert len(mounts) == 2, result.report("the restarted fsd mounted the disk again")
    result.expect("CHAOS: connected to fsd again", "INIT: done failures=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    durable = [(int(n), int(size)) for n, size in DURABLE.findall(result.log)]
    after = result.log.index("CHAOS: connected to fsd again")
    assert any(f"CHAOS: durable f{n} " in result.log[after:] for n, _ in durable), "files fsynced after the restart"
    for number, size in durable:
        assert debugfs(disk, f"cat /chaos/f{number}") == expected_content(number)
    check = e2fsck(disk)
    assert check.returncode == 0, check.stdout


def test_svcman_killed_the_names_come_back(qemu, disk_image, tmp_path):
    """svcman dies taking the 8th registry request (seed 3: the second program's lookup
    of fs, which fails); init queues the journal's names (block0, fs, pkg) for the new
    svcman before it starts, so the third program finds fs though no server registered
    again."""
    disk = make_image(disk_image(0), with_programs(tmp_path / "root"), size_mib=64)
    result = qemu(disk=disk, cmdline="chaos=services/svcman,seed=3,max=8,kills=1 run=tests/chaos,2 run=tests/chaos,2 run=tests/chaos,2")
    result.expect("CHAOS: killed services/svcman pid=2 at request 8 (kill 1)", "CHAOS: no filesystem",
                  "SUPERVISOR: svcman died (reason=killed code=0)",
                  "SUPERVISOR: queued 3 names for the new svcman (0 of servers that are gone dropped, 0 lost)",
                  "SUPERVISOR: restarted svcman (exit reason=killed, count=1) after 10 ms")
    assert result.log.count("CHAOS: 2 files, 2 durable, 0 failed") == 2, result.report("the first and the third program")
    assert result.log.count("FSD: mount ok") == 1, result.report("fsd never restarted: its name came back without it")
    result.expect("INIT: done failures=1", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
