"""M1: kernel text is read-only to the kernel itself (CR0.WP, W^X)."""
import re

from apus_qemu import EXIT_PANIC


def test_write_to_kernel_text_faults(qemu):
    result = qemu(cmdline="test=writeprotect")
    [attempt] = result.lines_starting("TEST: writing to kernel text at ")
    address = attempt.rsplit(" ", 1)[1]
    [pf] = result.lines_starting("PF: addr=")
    assert re.fullmatch(rf"PF: addr={address} err=0x3 rip=0x[0-9a-f]+", pf), result.report("PF line")
    result.expect("PF: present=1 write=1 user=0 reserved=0 fetch=0")
    result.expect_exit(EXIT_PANIC)
