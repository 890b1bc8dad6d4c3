"""M6a: writing through fsd — create, grow through indirect blocks, rename (over a
file, a directory across parents), truncate, delete, mkdir and rmdir, every answer
checked in the guest — and then the host judges: e2fsck -fn finds nothing wrong and
debugfs reads back exactly what was written. Every error status the spec names for
bad paths and ids comes back as it should."""
from apus_qemu import EXIT_CLEAN_HALT
from ext2image import debugfs, e2fsck, make_image


def pattern(size: int, seed: int) -> bytes:
    return bytes(((i * 7 + seed) & 0xFF) for i in range(size))


def test_writes_are_on_the_disk_and_e2fsck_finds_it_clean(qemu, disk_image, tmp_path):
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "hello.txt").write_text("hello\n")
    image = make_image(disk_image(0), folder)
    result = qemu(disk=image, cmdline="run=tests/fsclient,scenario")
    result.expect("FS: scenario ok", "INIT: tests/fsclient exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(image)
    assert check.returncode == 0, result.report(f"e2fsck -fn found problems:\n{check.stdout}{check.stderr}")
    expected = {
        "/work/big": pattern((9 << 20) + 123, 2),
        "/work/deep/file": pattern(70000, 3),
        "/work/deep/moved": pattern(1000, 1),
        "/replaced": pattern(2000, 6),
        "/work/cut": pattern(5000, 7),
    }
    for path, data in expected.items():
        assert debugfs(image, f"cat {path}") == data, result.report(f"debugfs reads {path} differently")
    listing = debugfs(image, "ls -p /").decode()
    for gone in ("/gone", "/replacement", "/tmpdir", "/emptydir"):
        assert f"/{gone[1:]}/" not in listing, result.report(f"{gone} is still there")
    assert b"emptied" in debugfs(image, "ls -p /work"), result.report("the moved directory")
    assert debugfs(image, "stat /work/emptied").find(b"Links: 2") >= 0, result.report("the moved directory's links")


def test_every_error_status(qemu, disk_image, tmp_path):
    folder = tmp_path / "root"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "a").write_text("a")
    (folder / "hello.txt").write_text("hello\n")
    image = make_image(disk_image(0), folder)
    before = image.read_bytes()
    result = qemu(disk=image, cmdline="run=tests/fsclient,errors")
    result.expect("FS: errors ok", "INIT: tests/fsclient exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    assert e2fsck(image).returncode == 0, result.report("e2fsck after failed requests")


def test_a_revision_0_image_mounts_reads_and_writes(qemu, disk_image, tmp_path):
    """ext2 revision 0 (the original layout Linux still mounts: 128-byte inodes, first
    inode 11, no feature fields, so no file types in entries and no large files): fsd
    refused it ("only revision 1"). Now the write scenario runs on one and e2fsck
    finds it clean."""
    folder = tmp_path / "root"
    folder.mkdir()
    (folder / "hello.txt").write_text("hello\n")
    image = make_image(disk_image(0), folder, options=("-r", "0"))
    result = qemu(disk=image, cmdline="run=tests/fsclient,scenario run=tests/fsclient,hash,/hello.txt,/work/cut")
    result.expect_match(r"FSD: mount ok .*")
    result.expect("FS: scenario ok", "INIT: tests/fsclient exited code=0")
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect_match(r"FS: hash /work/cut 5000 [0-9a-f]{16}")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(image)
    assert check.returncode == 0, result.report(f"e2fsck -fn found problems:\n{check.stdout}{check.stderr}")
    assert debugfs(image, "cat /work/big") == pattern((9 << 20) + 123, 2), result.report("debugfs reads /work/big differently")
    assert debugfs(image, "cat /work/cut") == pattern(5000, 7), result.report("debugfs reads /work/cut differently")
