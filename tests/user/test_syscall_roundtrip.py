"""M3: debug_write and time_now from user space; the kernel prints SYSCALL: ok only
after it saw both return success with sane values. (init is audited too since its
supervisor reads the clock: every audited process must pass, and tests/roundtrip,
the one that calls time_now exactly twice, must be among them.)"""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_roundtrip(qemu):
    result = qemu(cmdline="test=audit run=tests/roundtrip")
    result.expect("ROUNDTRIP: hello")
    assert not result.lines_starting("SYSCALL: wrong"), result.report("an audited process saw a wrong result")
    lines = result.lines_starting("SYSCALL: ok ")
    roundtrip = [line for line in lines if re.fullmatch(r"SYSCALL: ok pid=\d+ debug_write=\d+ bytes time_now=2 calls monotonic", line)]
    assert len(roundtrip) == 1, result.report("SYSCALL line of tests/roundtrip")
    result.expect("INIT: tests/roundtrip exited code=0", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
