"""M1: pages and heap blocks are really freed: counts return to where they started."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_page_and_heap_selftest(qemu):
    result = qemu(cmdline="test=mm", timeout=120)
    [pages] = result.lines_starting("MM: pages exhausted after ")
    taken = int(re.search(r"after (\d+)", pages).group(1))
    result.expect(f"MM: selftest ok free={taken} pages", "KERNEL: halt ok")
    [heap] = result.lines_starting("MM: heap ")
    assert re.fullmatch(r"MM: heap 480 blocks of 12 sizes grew by \d+ pages and returned all \(\d+ page-table pages kept\)", heap), \
        result.report("heap line")
    result.expect_exit(EXIT_CLEAN_HALT)
