"""Issue 9: address spaces as regions over memory objects. tests/memory fills all of
memory from nested processes (user memory stops at the kernel's reserve, so the
kernel's own allocations never fail: defects 5 and 12), unmaps a 127 TiB range at
once (defect 6), churns vm_map/vm_unmap and gets the same address back (defect 13),
and checks hints, holes and the mapping limit."""
from apus_qemu import EXIT_CLEAN_HALT


def test_address_spaces(qemu):
    result = qemu(cmdline="run=tests/memory", timeout=180)
    result.expect("MEMORY: address spaces ok (13 checks)", "INIT: tests/memory exited code=0", "KERNEL: halt ok")
    fills = result.lines_starting("MEMORY: process ")
    assert len(fills) >= 4, result.report("expected two rounds of at least two nested fillers")
    verdicts = result.lines_starting("MEMORY: full memory ")
    assert len(verdicts) == 2 * (len(fills) // 2) and all(" ok (" in line for line in verdicts), result.report("fillers")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_images_that_would_collide_or_overflow_are_refused(qemu):
    """Defect 9: a segment over the stack area made spawn fail with address_in_use,
    which the spec does not declare; image size had no cap. Both are bad_image now."""
    result = qemu(cmdline="run=tests/overstack run=tests/bigimage run=tests/child")
    result.expect('ELF: rejected "tests/overstack": segment overlaps the stack area',
                  "INIT: cannot start tests/overstack: error 11",
                  'ELF: rejected "tests/bigimage": segments larger than 64 MiB in all',
                  "INIT: cannot start tests/bigimage: error 11",
                  "INIT: tests/child exited code=7", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
