"""M0 under UEFI: the same ISO boots through OVMF with the same markers."""
from apus_qemu import EXIT_CLEAN_HALT


def test_uefi_boot_markers(qemu):
    result = qemu(uefi=True)
    result.expect("KERNEL: boot ok", "SWIFT: kmain ok", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
