"""M4: bulk data through shared memory. tests/ipc's writer fills 1 MiB of an shm
object, sends its handle in a message to a reader process, which maps it, sums it and
sends the checksum back (SHM: checksum ok); the reader's read-only grant of the same
object cannot be mapped writable. The same run is test_queued_ipc's; this test keeps
the milestone's named marker on its own."""
from apus_qemu import EXIT_CLEAN_HALT


def test_one_mebibyte_through_shared_memory(qemu):
    result = qemu(cmdline="run=tests/ipc", timeout=180)
    result.expect("SHM: checksum ok", "INIT: tests/ipc exited code=0", "KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
