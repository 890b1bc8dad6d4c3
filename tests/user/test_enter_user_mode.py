"""M3: the kernel loads /init from the initrd and runs it in ring 3."""
from apus_qemu import EXIT_CLEAN_HALT


def test_init_says_hello_from_user_mode(qemu):
    result = qemu()
    result.expect("KERNEL: boot ok", "USER: hello", "INIT: done failures=0",
                  "KERNEL: init exited code=0 reason=0", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)


def test_smep_and_smap_are_on(qemu):
    result = qemu()
    result.expect("SYSCALL: entry ready; user memory protection: SMEP and SMAP")
