"""A reply's handles leave the server on every path (user/tests/replyhandles.c, an
ordinary program started by init): 200 replies with a handle to a caller with
reply_handle_cap 0, through ipc_reply_recv and through a detached ipc_reply, and 40
replies of 4 handles to room for 2, are buffer_too_small with the count, and not one
handle stays in the server's table (it looks each up after the reply); a reply of 2
handles into a caller's table with one free slot leaves nothing in either table; a
caller killed while the server keeps its call gets a reply of 4 handles that are closed
(kernel objects and heap back to the start); 40 callers killed at random points of
replies with handles leave nothing behind; then another call is served and the server
exits 0. Before the fix the server's table filled after 128 refused replies."""
from apus_qemu import EXIT_CLEAN_HALT


def test_reply_handles_leave_the_server(qemu):
    result = qemu(cmdline="run=tests/replyhandles", timeout=120)
    [verdict] = result.lines_starting("REPLYH: reply handles ")
    assert verdict.startswith("REPLYH: reply handles ok"), result.report("reply handle checks")
    result.expect("INIT: tests/replyhandles exited code=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
