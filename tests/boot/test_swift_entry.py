"""G0: Embedded Swift runs in the kernel and its self-check passes."""
from apus_qemu import EXIT_CLEAN_HALT


def test_swift_kmain_marker_between_boot_and_halt(qemu):
    result = qemu()
    result.expect("KERNEL: boot ok", "SWIFT: kmain ok", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
