"""M1: #BP is reported and execution resumes; #DE is reported and the kernel stops
through the panic path (a clean, reported stop — not a triple fault or a hang)."""
from apus_qemu import EXIT_CLEAN_HALT, EXIT_PANIC


def test_breakpoint_resumes(qemu):
    result = qemu(cmdline="test=breakpoint")
    [bp] = result.lines_starting("TRAP: #BP breakpoint at rip=")
    assert bp.endswith(", resuming"), result.report("breakpoint line")
    result.expect("TEST: running breakpoint", bp, "TEST: resumed after the breakpoint", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)


def test_divide_error_reported(qemu):
    result = qemu(cmdline="test=divzero")
    [trap] = result.lines_starting("TRAP: #DE divide error")
    assert "vector=0 err=0x0 rip=0xffffffff8" in trap, result.report("#DE line")
    assert len(result.lines_starting("REGS: ")) == 5, result.report("register dump")
    assert "TestHooks.run(_:)" in result.lines_starting("BACKTRACE: #0")[0], result.report("frame 0")
    panic = [line for line in result.lines if line.startswith("KERNEL: panic code=0x09 reason=#DE divide error")]
    assert panic, result.report("panic line")
    result.expect_absent("KERNEL: halt ok")
    result.expect_exit(EXIT_PANIC)
