"""Regression: a child that exits before its spawner returns must not take its process
record with it.

spawn() used to make the child runnable before the parent's handle held a reference
on its record; a child that ran to completion in that window freed the record, and the
parent waited forever on a free one (spawn200 hung about one run in fifteen).
test=spawnwindow lets every new process run first."""
from apus_qemu import EXIT_CLEAN_HALT


def test_child_that_exits_first(qemu):
    result = qemu(cmdline="test=spawnwindow run=tests/child run=tests/spawn200", timeout=120)
    result.expect("INIT: tests/child exited code=7", "SPAWN: 200 processes spawned and reaped",
                  "INIT: tests/spawn200 exited code=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
