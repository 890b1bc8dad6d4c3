"""Issue 21, the second hostile-client review (tests/attack2): an ORDINARY program
(init's run=, the lookup-only registry handle) whose children outlive it, against what
the first review (test_attack.py) did not try. Each test ends with a client of another
job (the next run= program) that must be served, and fails while the hole is there."""
import re

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import hello_image
from fsd_guard import expect_fsd_alive

SECOND_CLIENT = "run=tests/fsclient,hash,/hello.txt"
NO_MEMORY = 8  # spec/syscall_v0.xml no_memory


def held_memory(result):
    found = result.expect_match(r"ATTACK2: (\d+) fill children hold (\d+) MiB \(MiB each:([^)]*)\); "
                                r"the next spawn: (-?\d+); a 1 MiB vm_map: (-?\d+)")
    return int(found.group(1)), int(found.group(2)), found.group(0)


def test_attack2_children_take_all_memory_from_another_job(qemu, disk_image, tmp_path):
    """User memory was limited per process (256 MiB), not per job: two children of one
    program mapped the machine's 512 MiB down to the page reserve, and the next run=
    program (another job) could not even be started (no_memory). A job's processes
    now share three quarters of the user memory free at boot."""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"run=tests/attack2,memory {SECOND_CLIENT}", timeout=120)
    result.expect("INIT: tests/attack2 exited code=0")
    children, mib, line = held_memory(result)
    print(line)
    assert f"INIT: cannot start tests/fsclient: error {NO_MEMORY}" not in result.log, result.report(
        f"one job's children hold {mib} MiB and another job gets no_memory")
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect("INIT: tests/fsclient exited code=0")
    expect_fsd_alive(result)
    result.expect("INIT: done failures=0")


def test_attack2_fsd_restarts_while_children_hold_memory(qemu, disk_image, tmp_path):
    """The same children while fsd dies (chaos= kills it at one of the attacker's
    requests): what fsd's death frees is enough for its restart, which serves the
    attacker 3 s later. (This one held: the restart reuses fsd's own pages. The
    next run= program still cannot start; the test above shows it.)"""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"chaos=services/fsd,seed=1,max=40,kills=1 run=tests/attack2,memory", timeout=120)
    result.expect("INIT: tests/attack2 exited code=0")
    held_memory(result)
    result.expect("ATTACK2: fsd died: 1")
    assert "SUPERVISOR: no room to start fsd" not in result.log, result.report(
        "fsd's restart was refused for want of memory another job holds")
    result.expect_match(r"SUPERVISOR: restarted fsd \(exit reason=killed, count=1\) after \d+ ms")
    result.expect("ATTACK2: 3 s after fsd died, while the children hold the memory: fs_connect and stat: 0")
    assert "gave up on fsd" not in result.log, result.report("fsd was given up")
    result.expect("INIT: done failures=0")


def test_attack2_a_child_left_waiting_keeps_init_from_halting(qemu, disk_image, tmp_path):
    """A program's child that keeps a copy of the registry handle and waits for ever:
    init, after its run= programs, closes its registry handle and waits for svcman,
    which ends only when no registry handle is left, so the machine never halts."""
    result = qemu(disk=hello_image(disk_image(0), tmp_path / "root"),
                  cmdline=f"run=tests/attack2,linger {SECOND_CLIENT}", timeout=60)
    result.expect("ATTACK2: a child that waits for ever: 0")
    result.expect("INIT: tests/attack2 exited code=0")
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    assert "INIT: done" in result.log, result.report("init never finished: svcman waits for the child's registry handle")
    result.expect_exit(EXIT_CLEAN_HALT)
