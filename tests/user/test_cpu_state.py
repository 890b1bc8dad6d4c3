"""Issue 9: every piece of CPU state a user program controls, against the kernel's
entry and exit paths (docs/design.md, "CPU state a user program controls"). Defect 10
(NT set with POPF made the next IRETQ in the kernel fault) and defect 11 (SYSCALL from
32-bit code entered at an unset IA32_CSTAR) panicked the M3 kernel from ring 3."""
from apus_qemu import EXIT_CLEAN_HALT


def test_user_controlled_cpu_state(qemu):
    result = qemu(cmdline="run=tests/cpustate", timeout=120)
    result.expect("CPUSTATE: df copy ok", "CPUSTATE: entry and exit paths ok (11 checks)",
                  "INIT: tests/cpustate exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
