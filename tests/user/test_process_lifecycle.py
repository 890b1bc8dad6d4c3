"""M3: 200 processes spawned, run and reaped; free pages, heap bytes and
kernel objects return to their counts."""
from apus_qemu import EXIT_CLEAN_HALT


def test_two_hundred_processes(qemu):
    result = qemu(cmdline="run=tests/spawn200", timeout=120)
    result.expect("SPAWN: 200 processes spawned and reaped", "INIT: tests/spawn200 exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
