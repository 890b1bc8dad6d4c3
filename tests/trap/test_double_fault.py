"""M1: a kernel stack overflow hits the guard page; #DF is reported from its IST stack."""
import re

from apus_qemu import EXIT_PANIC


def test_stack_overflow_double_faults_on_ist(qemu):
    result = qemu(cmdline="test=stackoverflow")
    [df] = result.lines_starting("TRAP: #DF double fault")
    match = re.search(r"reported on IST stack (0x[0-9a-f]+) \(rsp now (0x[0-9a-f]+)\)", df)
    assert match, result.report("#DF line")
    ist_top, rsp_now = int(match.group(1), 16), int(match.group(2), 16)
    assert ist_top - 16 * 1024 <= rsp_now < ist_top, result.report("handler is not on the IST stack")
    assert any("kernel stack overflow into the boot stack's guard page" in line for line in result.lines), \
        result.report("overflow not diagnosed")
    result.expect("KERNEL: panic code=0x0a reason=double fault")
    result.expect_exit(EXIT_PANIC)
