"""Kernel memory a program causes is charged to that program (user/tests/memcharge.c,
an ordinary program started by init): its unmapped shm objects stop at its 256 MiB
user memory limit with no_memory (the old kernel let it take the machine's memory),
one handed to another program stays charged to it until that program lets it go, and
another program still gets memory; process_spawn_image reads the image in place, so a
48 MiB image starts when fillers have left 8 MiB of user memory (the old kernel's
48 MiB heap copy did not fit). Every page, heap byte and object is given back."""
from apus_qemu import EXIT_CLEAN_HALT


def test_memory_is_charged_to_its_program(qemu):
    result = qemu(cmdline="run=tests/memcharge", timeout=180)
    result.expect_match(r"MEMCHARGE: \d+ MiB of unmapped shm made, then -\d+")
    [verdict] = result.lines_starting("MEMCHARGE: memory charged ")
    assert verdict.startswith("MEMCHARGE: memory charged ok"), result.report("memory charge checks")
    result.expect("INIT: tests/memcharge exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
