"""M4: ping and pong find each other through the service registry. /init starts svcman
first and gives every program the registry endpoint as handle 1. Names are
capabilities (issue 21): pong registers "pong" as a server init supervises
(init=service=tests/pingpong,pong), ping is an ordinary program (run=tests/pingpong)
that looks it up and calls it. Each side prints its own marker after it checked its
own work. Then the registry's rules as an ordinary program meets them: it cannot add a
name (a live server's or a new one), a device's name does not exist for it, bad names
are bad_request; a taken name is refused to pong itself; and when pong quits, its name
stays reserved and leads ping to the restarted pong. svcman ends when init closes the
registry; nothing leaks."""
from apus_qemu import EXIT_CLEAN_HALT


def test_ping_pong_through_the_registry(qemu):
    result = qemu(cmdline="init=service=tests/pingpong,pong run=tests/pingpong", timeout=120)
    # pong prints its marker after its reply went out, ping after it checked the
    # answer: the two are in either order.
    result.expect("SVCMAN: ready", "PONG: ok")
    result.expect("SVCMAN: ready", "PING: ok", "SUPERVISOR: pingpong died (reason=exited code=0)",
                  "SUPERVISOR: restarted pingpong (exit reason=exited, count=1) after 10 ms", "PONG: ok",
                  "PING: registry ok (8 checks)", "INIT: tests/pingpong exited code=0", "INIT: done failures=0",
                  "KERNEL: halt ok")
    assert result.log.count("PONG: ok") == 2, result.report("pong answered the first ping and, restarted, the second")
    assert "SUPERVISOR: svcman died" not in result.log, result.report("svcman died")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
