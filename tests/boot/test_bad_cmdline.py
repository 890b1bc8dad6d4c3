"""A bad command line is rejected with a clear line, and the kernel still boots."""
from apus_qemu import EXIT_CLEAN_HALT

LIMIT = 512


def test_overlong_cmdline_is_rejected(qemu):
    result = qemu(cmdline="test=panic " + "x" * 1000)
    result.expect(
        "CMDLINE: rejected fw_cfg command line: 1011 bytes exceeds the 512-byte limit",
        'CMDLINE: ""', "KERNEL: boot ok", "SWIFT: kmain ok", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)  # the rejected test=panic never ran


def test_cmdline_at_the_limit_is_accepted(qemu):
    text = "test=bootinfo " + "y" * (LIMIT - len("test=bootinfo "))
    assert len(text) == LIMIT
    result = qemu(cmdline=text)
    result.expect("BOOTINFO: parser ok cases=10", "KERNEL: halt ok")


def test_garbage_bytes_are_rejected(qemu):
    result = qemu(cmdline_bytes=b"test=panic \x01\x7f\xff")
    result.expect(
        "CMDLINE: rejected fw_cfg command line: byte 0x01 at offset 11 is not printable ASCII",
        "KERNEL: boot ok", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)


def test_unknown_options_are_ignored_with_a_line(qemu):
    result = qemu(cmdline="verbose test=nosuchtest")
    result.expect(
        'CMDLINE: unknown option "verbose" ignored',
        'CMDLINE: unknown test "nosuchtest" ignored',
        "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
