"""Issue 9: kernel objects and handles. tests/objects runs one regression check per
defect of the M3 object model (placeholder handles seen by siblings, waits without a
reference, handle tables never closed, the exit-code race, spinning threads keeping a
dying process alive) plus handle generations, process_kill and the spec's limits."""
from apus_qemu import EXIT_CLEAN_HALT


def test_object_model(qemu):
    result = qemu(cmdline="run=tests/objects", timeout=180)
    result.expect("OBJECTS: 64 threads, then error 9", "OBJECTS: 128 handles, then error 9")
    result.expect("INIT: tests/objects exited code=0", "KERNEL: halt ok")
    [verdict] = result.lines_starting("OBJECTS: handles and processes ")
    assert verdict.startswith("OBJECTS: handles and processes ok"), result.report("objects")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
