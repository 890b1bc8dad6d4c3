"""Issue 21: pkgd's attached buffers. It had 8, handed out round robin, so 8 other
processes attaching stripped a client of its buffer. tests/pkgbuffers (an ordinary
run= program) attaches, then 40 children attach one after another (32 exit, 8 are
killed): each is accepted, since an ended client's buffer is freed at its end, and
the first client's buffer is still its own. pkgd must not die."""
import re

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import make_image, with_programs


def test_pkgd_keeps_each_clients_buffer_and_frees_an_ended_ones(qemu, disk_image, tmp_path):
    system = make_image(disk_image(0, "-system"), with_programs(tmp_path / "root"))
    result = qemu(disk=system, cmdline="run=tests/pkgbuffers", timeout=120)
    result.expect_match(r"PKGBUFFERS: pkg buffers ok \(\d+ checks\)")
    result.expect("INIT: tests/pkgbuffers exited code=0", "INIT: done failures=0", "KERNEL: halt ok")
    deaths = re.findall(r"^SUPERVISOR: (?:pkgd died|restarted pkgd|gave up on pkgd).*$", result.log, re.M)
    assert not deaths, result.report(f"pkgd died: {deaths}")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
