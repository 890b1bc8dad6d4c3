"""M3: hostile arguments to every system call each get their documented error; the
kernel never panics and never returns an error the spec does not declare."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_hostile_arguments(qemu):
    result = qemu(cmdline="run=tests/hostile")
    [ok] = result.lines_starting("SYSCALL: hostile ")
    match = re.fullmatch(r"SYSCALL: hostile ok checks=(\d+)", ok)
    assert match and int(match.group(1)) >= 60, result.report("hostile summary")
    assert not result.lines_starting("HOSTILE: ") or result.lines_starting("HOSTILE: ") == ["HOSTILE: starting"], \
        result.report("a check failed")
    assert not result.lines_starting("SYSCALL: BUG"), result.report("undeclared error returned")
    result.expect("INIT: tests/hostile exited code=0", "KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
