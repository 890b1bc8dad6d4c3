"""Issue 21: endpoint_watch_caller and ipc_discard, the kernel's half of "a dead
client costs a server nothing" and "one bad message does not stop a server"
(user/tests/callerwatch.c has the cases). The program runs as an ordinary run=
program; leaks are checked by the program (system_info) and at the halt."""
from apus_qemu import EXIT_CLEAN_HALT


def test_caller_watch_and_discard(qemu):
    result = qemu(cmdline="run=tests/callerwatch")
    result.expect_match(r"CALLERWATCH: endpoint_watch_caller ok \(\d+ checks\)")
    result.expect("INIT: tests/callerwatch exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
