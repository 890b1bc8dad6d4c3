"""M3: 200 processes spawned, run and reaped; free pages return to their count."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_two_hundred_processes(qemu):
    result = qemu(cmdline="run=tests/spawn200", timeout=120)
    result.expect("SPAWN: 200 processes spawned and reaped", "INIT: tests/spawn200 exited code=0")
    [before] = result.lines_starting("MM: free=") [:1]
    [after] = [line for line in result.lines if line.endswith("pages after init")]
    count = lambda line: int(re.search(r"free=(\d+)", line).group(1))
    assert before.endswith("pages before init") and count(before) == count(after), result.report("pages not returned")
    result.expect_exit(EXIT_CLEAN_HALT)
