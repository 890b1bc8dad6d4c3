"""Issue 21: fsd against hostile clients, each an ordinary program (tests/fshostile,
started by init's run=, not init itself) followed by a second client that must still
be served; fsd must neither trap (the supervisor would say it died and restart it) nor
hang (the boot would time out). The host's e2fsck judges the disk after the writes."""
import pytest

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import e2fsck, make_image
from fsd_guard import expect_fsd_alive

SECOND_CLIENT = "run=tests/fsclient,hash,/hello.txt"


def served_again(result):
    result.expect_match(r"FS: hash /hello.txt 6 [0-9a-f]{16}")
    result.expect("INIT: tests/fsclient exited code=0")
    expect_fsd_alive(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def hello_image(disk_image, tmp_path, options=(), size_mib=32, files=0):
    folder = tmp_path / "root"
    (folder / "many").mkdir(parents=True)
    (folder / "hello.txt").write_text("hello\n")
    for index in range(files):
        (folder / "many" / f"file-with-a-longer-name-{index:04}").write_text(str(index))
    return make_image(disk_image(0), folder, size_mib=size_mib, options=options)


def test_sizes_and_offsets_near_2_64_are_bad_request(qemu, disk_image, tmp_path):
    """fs_truncate(file, UINT64_MAX) and writes ending past 2^64 trapped fsd on
    overflow; five of them made the supervisor give up on it for good."""
    image = hello_image(disk_image, tmp_path)
    result = qemu(disk=image, cmdline=f"run=tests/fshostile,huge {SECOND_CLIENT}")
    result.expect_match(r"FSHOSTILE: huge ok \(\d+ checks\)")
    result.expect("INIT: tests/fshostile exited code=0")
    served_again(result)
    check = e2fsck(image)
    assert check.returncode == 0, result.report(f"e2fsck -fn found problems:\n{check.stdout}")


def test_readdir_never_reads_back_the_clients_buffer(qemu, disk_image, tmp_path):
    """A client thread rewrites the readdir area with record_len 0 while fsd lists:
    fsd read record lengths back from it and looped for ever."""
    image = hello_image(disk_image, tmp_path, files=400)
    result = qemu(disk=image, cmdline=f"run=tests/fshostile,readdir,/many {SECOND_CLIENT}")
    result.expect_match(r"FSHOSTILE: listed 402 entries 40 times, \d+ rewrites")
    result.expect_match(r"FSHOSTILE: readdir ok \(\d+ checks\)")
    served_again(result)


def test_a_sparse_truncate_and_unlink_cost_what_is_allocated(qemu, disk_image, tmp_path):
    """A 1-byte write 1 TiB out (4 KiB blocks), truncated to 0, written again and
    unlinked: fsd walked every block index up to the old size (2^28 of them, minutes;
    the boot timed out). It now visits only the tables that are there."""
    image = hello_image(disk_image, tmp_path, options=("-b", "4096"))
    result = qemu(disk=image, cmdline=f"run=tests/fshostile,sparse,{1 << 40} {SECOND_CLIENT}")
    result.expect_match(r"FSHOSTILE: sparse ok \(\d+ checks\)")
    served_again(result)
    check = e2fsck(image)
    assert check.returncode == 0, result.report(f"e2fsck -fn found problems:\n{check.stdout}")


def test_open_files_are_limited_per_client_and_freed_when_it_ends(qemu, disk_image, tmp_path):
    """One table of 256 open files served every client: one client could take them
    all, and a client that ended kept its own for ever. Now one client holds at most
    open_max (64; one more is too_many_open) and fsd frees them when the client ends:
    five clients in turn, each leaving 64 open (320 in all), are all served."""
    image = hello_image(disk_image, tmp_path)
    many = " ".join(["run=tests/fshostile,many"] * 5)
    result = qemu(disk=image, cmdline=f"{many} {SECOND_CLIENT}")
    assert len(result.lines_starting("FSHOSTILE: many ok")) == 5, result.report("each client was served")
    served_again(result)


def linux_ext2_max_size(block: int, large_file: bool = True) -> int:
    """fs/ext2/super.c ext2_max_size: what the block map addresses, less what 32-bit
    i_blocks (512-byte sectors, tables included) can count; 2 GiB - 1 without large_file."""
    pointers = block // 4
    upper = ((1 << 32) - 1) // (block // 512) - (3 + 2 * pointers + pointers * pointers)
    mapped = 12 + pointers + pointers**2 + pointers**3
    largest = min(mapped, upper) * block
    return largest if large_file else min(largest, (1 << 31) - 1)


@pytest.mark.parametrize("block,large_file", [(1024, True), (4096, True), (1024, False)])
def test_the_largest_file_is_ext2s(qemu, disk_image, tmp_path, block, large_file):
    """fsd's limit is ext2's real one: a file of exactly the largest size is written,
    and e2fsck (which checks sizes against the same limit) finds the disk clean."""
    options = ("-b", str(block)) + (() if large_file else ("-O", "^large_file"))
    image = hello_image(disk_image, tmp_path, options=options)
    largest = linux_ext2_max_size(block, large_file)
    result = qemu(disk=image, cmdline=f"run=tests/fshostile,edge,{largest} {SECOND_CLIENT}")
    result.expect_match(r"FSHOSTILE: edge ok \(\d+ checks\)")
    served_again(result)
    check = e2fsck(image)
    assert check.returncode == 0, result.report(f"e2fsck -fn found problems:\n{check.stdout}")
