"""M3: an Embedded Swift program on the generated bindings runs in user space."""
from apus_qemu import EXIT_CLEAN_HALT


def test_swift_user_program(qemu):
    result = qemu(cmdline="run=hello_swift")
    result.expect("SWIFT-USER: hello", "INIT: hello_swift exited code=0", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
