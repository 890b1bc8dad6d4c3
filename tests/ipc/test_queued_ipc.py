"""M4, first part: endpoints with ipc_send/ipc_recv (ABI v0), handle transfer,
shared memory, and handles granted to a child (process_spawn_handles). tests/ipc
runs the checks; its peers are copies of itself:
- ping-pong: 1,000 requests of 1 to 4,096 bytes answered exactly by another process;
- shm: 1 MiB written by one process, its handle sent in a message, mapped and summed
  by another (which also finds a read-only grant of it cannot map writable);
- rights: a handle without `transfer` cannot be sent, grants never add rights;
- a full queue blocks its sender until drained; a flooding sender blocks at the
  queue's depth (kernel memory stays bounded) and dies when killed; a receiver
  blocked forever dies when killed;
- hostile arguments: bad pointers, oversized lengths, bad handles, an endpoint sent
  through itself;
- 10,000 send/recv exchanges and 1,000 shm create/map/unmap/close cycles, after which
  free pages, heap bytes and kernel objects are exactly where they started."""
from apus_qemu import EXIT_CLEAN_HALT


def test_queued_ipc_and_shared_memory(qemu):
    result = qemu(cmdline="run=tests/ipc", timeout=180)
    result.expect("PING: ok", "PONG: ok", "SHM: checksum ok")
    [verdict] = result.lines_starting("IPC: queued IPC and shared memory ")
    assert verdict.startswith("IPC: queued IPC and shared memory ok"), result.report("ipc checks")
    result.expect("INIT: tests/ipc exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
