"""Issue 21: netd frees what a dead client kept and limits what one client may take.
tests/netlimits runs as an ordinary run= program with children as clients (they bind
and ping without a buffer): three children and the program itself hold netd's 32
sockets (8 each, the ninth busy), a fifth client gets none; when the children end
(exited or killed) their sockets are free for the next; four children hold netd's 8
ping slots (2 each, the third busy) with pings that would wait a minute, and killed,
their slots are free at once; a ping timeout past a minute is refused. netd must
neither die nor be restarted."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_dead_clients_sockets_and_pings_are_freed_and_limited_per_client(qemu):
    result = qemu(cmdline="run=tests/netlimits", runner_args=["--net"], timeout=120)
    result.expect_match(r"NETLIMITS: net limits ok \(\d+ checks\)")
    result.expect("NETD: ready", "INIT: tests/netlimits exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    # A trap prints no line of netd's own: the supervisor's lines say it died.
    deaths = re.findall(r"^SUPERVISOR: (?:netd died|restarted netd|gave up on netd).*$", result.log, re.M)
    assert not deaths, result.report(f"netd died: {deaths}")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
