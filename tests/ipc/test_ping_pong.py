"""M4: ping and pong find each other through the service registry. /init starts svcman
first and gives every program the registry endpoint as handle 1; tests/pingpong (ping)
starts pong, looks "pong" up waiting for it to register (a deferred reply in svcman),
calls it and gets its answer. Then the registry's rules: a taken name is refused while
its server lives, a server that is gone loses its name (svcman drops it), a sender
without the manage right cannot register, bad names are bad_request. svcman ends when
init closes the registry; nothing leaks."""
from apus_qemu import EXIT_CLEAN_HALT


def test_ping_pong_through_the_registry(qemu):
    result = qemu(cmdline="run=tests/pingpong", timeout=120)
    # The two ends finish in either order (whichever the scheduler runs first prints
    # first); everything after them is in order.
    result.expect("SVCMAN: ready", "PONG: ok")
    result.expect("SVCMAN: ready", "PING: ok", "SVCMAN: dropped a name whose server is gone",
                  "PING: registry ok (10 checks)", "INIT: tests/pingpong exited code=0", "INIT: done failures=0",
                  "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
