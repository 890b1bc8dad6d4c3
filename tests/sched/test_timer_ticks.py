"""M2: the local APIC timer ticks at 100 Hz; a sleeping thread wakes on time."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_hundredth_tick(qemu):
    result = qemu(cmdline="test=ticks", timeout=60)
    [timer] = result.lines_starting("TIMER: local APIC timer at 100 Hz")
    assert "calibrated against the PIT" in timer, result.report("timer line")
    result.expect("TEST: running ticks", "TICK: 100")
    # Exactly Timer.hz ticks asleep, whenever the boot let the first tick in.
    [slept] = result.lines_starting("TIMER: kmain slept from tick ")
    match = re.fullmatch(r"TIMER: kmain slept from tick (\d+) until tick (\d+)", slept)
    assert match and int(match.group(2)) - int(match.group(1)) == 100, result.report("sleep length")
    result.expect("KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
