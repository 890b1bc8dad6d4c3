"""M4: the generated protocol code over real IPC. tests/swift_ipc (Embedded Swift) is a
client of the generated BlockProtocol.Client over IpcTransport (ipc_call); a copy of
it runs a toy block server on the generated BlockProtocol.serve inside IpcServer
(ipc_reply_recv). A shared buffer's handle goes with attach_buffer, a read-only
duplicate comes back with the reply (and cannot be mapped writable), read data lands
in the shared buffer, statuses come back typed, and closing the endpoint ends the
server. Nothing leaks."""
from apus_qemu import EXIT_CLEAN_HALT


def test_generated_block_client_and_server_over_ipc(qemu):
    result = qemu(cmdline="run=tests/swift_ipc", timeout=120)
    result.expect("SWIFT-IPC: ok", "INIT: tests/swift_ipc exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
