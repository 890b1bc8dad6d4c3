"""M6a: fsd trusts nothing on the disk. Each kind of damage, made by the test on an
image mke2fs built, gives an error status for the operation that meets it and a log
line — never a crash, never a write (the image is byte for byte what it was) — and
fsd goes on serving. Feature flags it does not know: an incompatible one refuses the
mount, a read-only-compatible one mounts read-only; each says which flag."""
import re
import struct
import subprocess

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import blocks_of, block_size, e2fsck, make_image
from fsd_guard import expect_fsd_alive

CORRUPTED = 12


def image_with_files(disk_image, tmp_path):
    folder = tmp_path / "root"
    (folder / "d").mkdir(parents=True)
    (folder / "hello.txt").write_text("hello\n")
    (folder / "d" / "inner.txt").write_text("inner\n")
    return make_image(disk_image(0), folder, size_mib=8)


def debugfs_write(image, request):
    subprocess.run(["debugfs", "-w", "-R", request, str(image)], check=True, capture_output=True)


def boot_corrupt(qemu, image, path="/hello.txt"):
    before = image.read_bytes()
    # Twice, by two client processes: the second is served as the first was.
    result = qemu(disk=image, cmdline=f"run=tests/fsclient,corrupt,{path} run=tests/fsclient,corrupt,{path}")
    answers = result.lines_starting("FS: corrupt ")
    assert len(answers) == 2 and answers[0] == answers[1], result.report("a second client gets the same answers")
    found = result.expect_match(r"FS: corrupt open=(-?\d+) read=(-?\d+) list=(-?\d+) root-stat=(-?\d+)")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    expect_fsd_alive(result)  # a trap prints nothing itself: the supervisor would say fsd died
    assert image.read_bytes() == before, result.report("fsd wrote to a corrupt image")
    return result, [int(found.group(i)) for i in range(1, 5)]


def test_a_block_number_past_the_end(qemu, disk_image, tmp_path):
    image = image_with_files(disk_image, tmp_path)
    debugfs_write(image, "sif /hello.txt block[0] 9999999")
    result, (opened, read, listed, root) = boot_corrupt(qemu, image)
    assert (opened, read, listed, root) == (0, CORRUPTED, 0, 0), result.report("statuses")
    result.expect_match(r"FSD: block number 9999999 is outside the filesystem")


def test_a_size_near_2_64_on_the_disk(qemu, disk_image, tmp_path):
    """An inode whose size says 2^64 - 1: truncating it to 0 and unlinking it rounded
    the size up to blocks in 64 bits and trapped fsd. Both now walk the blocks that
    are there (one) and succeed, which also mends the image."""
    image = image_with_files(disk_image, tmp_path)
    debugfs_write(image, "sif /hello.txt size 0xffffffffffffffff")
    result = qemu(disk=image, cmdline="run=tests/fshostile,cut,/hello.txt run=tests/fsclient,list,/d")
    result.expect("FSHOSTILE: cut open=0 unlink=0", "INIT: tests/fshostile exited code=0")
    result.expect("FS: listed status=0", "INIT: tests/fsclient exited code=0")
    expect_fsd_alive(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(image)
    assert check.returncode == 0, result.report(f"e2fsck -fn found problems:\n{check.stdout}")


def test_a_directory_entry_that_overruns_its_block(qemu, disk_image, tmp_path):
    image = image_with_files(disk_image, tmp_path)
    size = block_size(image)
    [root_block] = blocks_of(image, "/")
    with image.open("r+b") as disk:
        disk.seek(root_block * size + 12 + 4)  # the second entry (".."): its rec_len
        disk.write(struct.pack("<H", size + 64))
    result, (opened, read, listed, root) = boot_corrupt(qemu, image)
    assert opened == CORRUPTED and listed == CORRUPTED and root == 0, result.report("statuses")
    result.expect_match(r"FSD: directory 2: a bad entry at block \d+ offset 12")


def test_a_bad_superblock_magic_refuses_the_mount(qemu, disk_image, tmp_path):
    image = image_with_files(disk_image, tmp_path)
    with image.open("r+b") as disk:
        disk.seek(1024 + 56)
        disk.write(b"\x00\x00")
    before = image.read_bytes()
    result = qemu(disk=image, cmdline="run=tests/fsclient,list")
    result.expect("FSD: cannot mount block0: bad superblock magic 0x0: not ext2", "INIT: services/fsd failed to start",
                  "FS: no filesystem to talk to")
    expect_refused_once(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    assert image.read_bytes() == before


def expect_refused_once(result):
    """A refused mount is not a crash: fsd exits by itself with code 2 and is not
    started again (the supervisor's side: user/init/supervisor.c)."""
    refusals = result.lines_starting("FSD: cannot mount block0: ")
    assert len(refusals) == 1, result.report("fsd said why once, and was not restarted into the same refusal")
    for line in result.lines:
        assert not line.startswith("SUPERVISOR: restarted fsd"), result.report("fsd was restarted after a refused mount")
        assert not line.startswith("SUPERVISOR: gave up on fsd"), result.report("a refused mount counted as crashes")


def test_a_directory_loop_ends(qemu, disk_image, tmp_path):
    """/d/l is a second link to /d: paths may go round it, but every walk is
    bounded (64 components), so a deep one is name_too_long, never a hang."""
    image = image_with_files(disk_image, tmp_path)
    debugfs_write(image, "ln /d /d/l")
    deep = "/d" + "/l" * 70 + "/inner.txt"
    result, (opened, read, listed, root) = boot_corrupt(qemu, image, path="/d/l/l/l/inner.txt")
    assert (opened, read, listed, root) == (0, 0, 0, 0), result.report("a short walk round the loop works")
    result2, (opened, _, _, _) = boot_corrupt(qemu, image, path=deep)
    assert opened == 8, result2.report("name_too_long for a walk of over 64 components")


def test_an_unknown_incompatible_feature_refuses_the_mount(qemu, disk_image, tmp_path):
    image = image_with_files(disk_image, tmp_path)
    debugfs_write(image, "feature extent")  # incompat 0x40
    result = qemu(disk=image, cmdline="run=tests/fsclient,list")
    result.expect("FSD: cannot mount block0: incompatible feature flags 0x40 are not supported", "INIT: services/fsd failed to start")
    expect_refused_once(result)
    result.expect_exit(EXIT_CLEAN_HALT)


def test_an_unknown_read_only_feature_mounts_read_only(qemu, disk_image, tmp_path):
    image = image_with_files(disk_image, tmp_path)
    debugfs_write(image, "feature huge_file")  # ro_compat 0x8
    before = image.read_bytes()
    result = qemu(disk=image, cmdline="run=tests/fsclient,hash,/hello.txt run=tests/fsclient,scenario")
    result.expect("FSD: read-only-compatible feature flags 0x8 are not supported: mounting read-only")
    result.expect_match(r"FSD: mount ok .* read-only")
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect("FSCLIENT: mkdir /work returned 11, expected 0")  # read_only
    result.expect_exit(EXIT_CLEAN_HALT)
    assert image.read_bytes() == before, result.report("a read-only mount wrote")
