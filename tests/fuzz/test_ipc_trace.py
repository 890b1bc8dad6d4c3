"""Issue 14: the IPC tracer. With trace=ipc every message is printed decoded from the
generated tables (kernel/generated/ProtocolTrace.swift): the protocol its endpoint
speaks (endpoint_label), the op by name, every field by name with enum and flag names,
the status name on replies, and the handles moved."""
import re

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import make_image


def test_messages_are_printed_decoded(qemu, disk_image, tmp_path):
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "hello.txt").write_text("hello\n")
    image = make_image(disk_image(0), folder)
    result = qemu(disk=image, cmdline="trace=ipc run=tests/fsclient,list,/")
    result.expect_match(r"IPC call pid=\d+ registry\.add id=\d+ name=\"block0\" name_len=6 handles=1")
    result.expect_match(r"IPC reply to pid=\d+ registry\.lookup id=\d+ status=ok handles=1")
    result.expect_match(r"IPC reply to pid=\d+ block\.info id=\d+ status=ok block_size=512 flags=flush_supported "
                        r"block_count=\d+ generation=\d+")
    opened = result.expect_match(r"IPC call pid=(\d+) fs\.open id=(\d+) path_offset=0x0 path_len=1 flags=read\|directory mode=0")
    result.expect_match(rf"IPC reply to pid={opened.group(1)} fs\.open id={opened.group(2)} status=ok file=\d+ size=1024 "
                        r"kind=directory")
    assert re.search(r"^IPC reply to pid=\d+ fs\.readdir id=\d+ status=ok next_cookie=0 bytes=\d+ entries=4$", result.log, re.M), \
        result.report("readdir's reply")
    result.expect("INIT: tests/fsclient exited code=0")
    result.expect_exit(EXIT_CLEAN_HALT)
