"""M3: debug_write and time_now from user space; the kernel prints SYSCALL: ok only
after it saw both return success with sane values."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_roundtrip(qemu):
    result = qemu(cmdline="test=audit run=tests/roundtrip")
    result.expect("ROUNDTRIP: hello")
    [ok] = result.lines_starting("SYSCALL: ok ")
    assert re.fullmatch(r"SYSCALL: ok pid=\d+ debug_write=\d+ bytes time_now=2 calls monotonic", ok), result.report("SYSCALL line")
    result.expect("INIT: tests/roundtrip exited code=0", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
