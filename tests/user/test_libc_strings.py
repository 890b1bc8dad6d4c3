"""Issue 22: ulib's memcpy, memmove and memset use `rep movsq` / `rep stosq` (under
-icount a byte loop cost eight times as much); tests/strings checks them against plain
loops at every length 0-80 and alignment, overlapping both ways."""
from apus_qemu import EXIT_CLEAN_HALT


def test_libc_string_functions(qemu):
    result = qemu(cmdline="run=tests/strings")
    result.expect("STRINGS: ok", "INIT: tests/strings exited code=0", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
