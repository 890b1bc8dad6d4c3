"""M0: a controlled panic prints its code and reason and exits QEMU with failure."""
import re

from apus_qemu import EXIT_PANIC

PANIC_LINE = re.compile(r"^KERNEL: panic code=0x[0-9a-f]+ reason=\S.*$")


def test_requested_panic(qemu):
    result = qemu(cmdline="test=panic")
    result.expect("KERNEL: boot ok", "TEST: running panic")
    panics = [line for line in result.lines if PANIC_LINE.match(line)]
    assert panics == ["KERNEL: panic code=0x03 reason=test=panic requested on the command line"], \
        result.report("panic line missing or malformed")
    result.expect_exit(EXIT_PANIC)
    result.expect_absent("KERNEL: halt ok")


def test_malformed_boot_info_panics_through_the_boot_path(qemu):
    result = qemu(cmdline="test=bootinfo-panic")
    result.expect(
        "KERNEL: panic code=0x04 reason=boot info: tag at offset 8 with size 900 runs past total_size")
    result.expect_exit(EXIT_PANIC)


def test_multiboot2_parser_rejects_each_malformed_list(qemu):
    result = qemu(cmdline="test=bootinfo")
    result.expect("BOOTINFO: parser ok cases=10", "KERNEL: halt ok")
