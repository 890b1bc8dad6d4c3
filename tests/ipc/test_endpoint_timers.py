"""endpoint_timer: a server's timeout is a key bit posted on its own endpoint at a
deadline (user/tests/timers.c has the checks: order, cancel, re-arm, bad arguments,
the 4-per-endpoint limit, timers left on closed endpoints). Timers are the endpoint's
own: the test (an ordinary program) arms 4 on each of 24 endpoints, more than the old
system-wide table of 64 held, and another program's timer still fires. Every endpoint
the test armed timers on is closed by the end: nothing may leak."""
from apus_qemu import EXIT_CLEAN_HALT


def test_endpoint_timers(qemu):
    result = qemu(cmdline="run=tests/timers", timeout=60)
    result.expect_match(r"TIMERS: 30 ms timer fired after \d+ us")
    result.expect_match(r"TIMERS: another program's timer fired after \d+ us")
    result.expect("TIMERS: endpoint timers ok", "INIT: tests/timers exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
