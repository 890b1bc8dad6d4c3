"""Issue 9's stress test: 1,000 rounds of spawn, kill-while-busy and close from another
thread while the spawner waits; free pages, heap bytes and kernel objects end exactly
where they started."""
from apus_qemu import EXIT_CLEAN_HALT


def test_spawn_kill_close_thousand_rounds(qemu):
    result = qemu(cmdline="run=tests/stress", timeout=400)
    result.expect("STRESS: spawn, kill and close ok (1000 checks)", "INIT: tests/stress exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
