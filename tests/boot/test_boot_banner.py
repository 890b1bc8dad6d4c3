"""M0: the kernel boots from GRUB, prints its banner and halts cleanly (SeaBIOS)."""
from apus_qemu import EXIT_CLEAN_HALT


def test_boot_banner_and_clean_halt(qemu):
    result = qemu()
    result.expect("KERNEL: boot ok", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
    result.expect_absent("KERNEL: panic")


def test_boot_reports_what_the_loader_passed(qemu):
    result = qemu()
    # The summary comes from the parsed Multiboot2 tags, not from constants: a GRUB
    # name and a non-empty memory map.
    [summary] = result.lines_starting("BOOT: loader=")
    assert '"GRUB' in summary, result.report("boot loader name not parsed")
    assert " regions=0 " not in summary, result.report("memory map not parsed")
