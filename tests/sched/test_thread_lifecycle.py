"""M2: 1,000 threads are created, run, exit and are joined; every page, heap byte and
thread record comes back (the kernel checks the counts before printing)."""
from apus_qemu import EXIT_CLEAN_HALT


def test_thousand_threads(qemu):
    result = qemu(cmdline="test=lifecycle", timeout=120)
    [line] = result.lines_starting("SCHED: lifecycle ok threads=1000 ")
    assert " free=" in line and " heap=" in line, result.report("lifecycle line")
    result.expect("KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)


def test_fpu_state_survives_switches(qemu):
    result = qemu(cmdline="test=fpu", timeout=60)
    result.expect("SCHED: fpu state preserved across 200 switches", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
