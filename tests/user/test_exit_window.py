"""Regression: a user thread that is switched away after its process's page tables
were freed must resume on the kernel's tables.

It once hung init's exit about one boot in twelve: a timer tick between freeing the
address space and the thread's final switch left the thread naming freed page tables,
which the next process could already have reused. test=exitwindow makes that happen
on every exit: it reuses the freed page at once and switches away in the window."""
from apus_qemu import EXIT_CLEAN_HALT


def test_exit_survives_a_switch_after_the_address_space_is_freed(qemu):
    result = qemu(cmdline="test=exitwindow run=tests/child run=tests/roundtrip run=tests/fault")
    result.expect("INIT: tests/child exited code=7", "INIT: tests/roundtrip exited code=0",
                  "INIT: done failures=1", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
