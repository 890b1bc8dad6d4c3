"""M3: a system call whose return address is not a user address goes back to ring 3
through IRETQ (SYSRET is used only for user addresses), and what follows is that
process's own fault.

tests/edge places its `syscall` so it ends exactly at USER_SPACE_END: the return
address is the kernel's heap window. The kill line proves the return reached ring 3
(it is printed only for a ring-3 CS) at exactly that rip, from the IRETQ frame."""
from apus_qemu import EXIT_CLEAN_HALT


def test_return_above_user_space(qemu):
    result = qemu(cmdline="run=tests/edge run=tests/roundtrip")
    [killed] = result.lines_starting("KERNEL: killed pid=")
    assert killed.endswith("reason=page fault addr=0x7f8000000000 rip=0x7f8000000000"), result.report("edge kill")
    result.expect(killed, "INIT: tests/roundtrip exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_exit(EXIT_CLEAN_HALT)
