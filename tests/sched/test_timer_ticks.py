"""M2: the local APIC timer ticks at 100 Hz; a sleeping thread wakes on time."""
from apus_qemu import EXIT_CLEAN_HALT


def test_hundredth_tick(qemu):
    result = qemu(cmdline="test=ticks", timeout=60)
    [timer] = result.lines_starting("TIMER: local APIC timer at 100 Hz")
    assert "calibrated against the PIT" in timer, result.report("timer line")
    result.expect("TEST: running ticks", "TICK: 100", "TIMER: kmain slept until tick 100", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
