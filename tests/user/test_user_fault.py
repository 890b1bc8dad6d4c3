"""M3: a user page fault kills that process only; init sees it die and goes on."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_fault_kills_only_the_process(qemu):
    result = qemu(cmdline="run=tests/fault run=tests/roundtrip")
    [killed] = result.lines_starting("KERNEL: killed pid=")
    assert re.fullmatch(r"KERNEL: killed pid=\d+ reason=page fault addr=0x10 rip=0x4[0-9a-f]{5}", killed), result.report("killed line")
    result.expect_absent("FAULT: still alive, which is wrong")
    [died] = result.lines_starting("INIT: tests/fault died ")
    assert died.startswith("INIT: tests/fault died reason=page fault addr=0x10 rip=0x4"), result.report("init's view")
    # init went on to the next program, and the kernel halted cleanly.
    result.expect(died, "INIT: tests/roundtrip exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_exit(EXIT_CLEAN_HALT)
