"""M4: synchronous RPC. tests/rpc is a client; a copy of it (tests/rpc server) answers
with ipc_reply_recv. 10,000 calls of 1 to 4,096 bytes are answered exactly (most go
the fast path: straight into the waiting server's buffer, with a direct switch);
handles travel both ways; a reply too large for its buffer is buffer_too_small; bad
pointers and lengths are refused; a caller killed while the server holds its call
ends, and so does the server holding it; a server that exits holding a call answers
peer_closed; a server detaches a call's reply capability into a handle, serves another
call, then answers the first (ipc_reply_detach, ipc_reply), and a detached capability
closed unanswered answers peer_closed. Free pages, heap bytes and kernel objects end where they started."""
from apus_qemu import EXIT_CLEAN_HALT


def test_calls_and_replies(qemu):
    result = qemu(cmdline="run=tests/rpc", timeout=180)
    [verdict] = result.lines_starting("RPC: calls and replies ")
    assert verdict.startswith("RPC: calls and replies ok"), result.report("rpc checks")
    result.expect("INIT: tests/rpc exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
