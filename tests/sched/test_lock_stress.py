"""M2: 8 threads x 10,000 increments lose nothing under the spinlock or the mutex,
with the timer preempting them; the mutex really puts waiters to sleep."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_lock_stress(qemu):
    result = qemu(cmdline="test=lockstress", timeout=120)
    result.expect("SCHED: lock stress ok total=80000 lock=spinlock")
    [mutex] = result.lines_starting("SCHED: lock stress ok total=80000 lock=mutex")
    assert int(re.search(r"contended=(\d+)", mutex).group(1)) > 0, result.report("mutex never blocked")
    result.expect("KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
