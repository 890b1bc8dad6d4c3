"""M1: the kernel runs on page tables it built itself, with W^X and no identity map."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_paging_on_with_kernel_tables(qemu):
    result = qemu()
    [line] = result.lines_starting("MM: paging=on")
    assert re.fullmatch(
        r"MM: paging=on direct-map=\d+ MiB text=RX rodata=R data=RW-NX identity=off free=\d+ pages", line
    ), result.report("paging line malformed")
    free = int(re.search(r"free=(\d+)", line).group(1))
    assert free > 100_000, result.report("a 512 MiB guest should have over 100k free pages")
    result.expect("KERNEL: boot ok", line, "SWIFT: kmain ok", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)


def test_symbol_table_module_loaded(qemu):
    result = qemu()
    [line] = result.lines_starting("SYMBOLS:")
    assert int(line.split()[1]) > 100, result.report("too few kernel symbols")
