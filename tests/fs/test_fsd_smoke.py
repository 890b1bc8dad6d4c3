"""M6a: fsd mounts an ext2 disk the host's mke2fs made from a folder and serves it:
the root listing is the folder's, and files of 0, 1, 4,096 and 9,000,000 bytes (the
last through double-indirect blocks) read back exactly as the host has them."""
import os
import re

from apus_qemu import EXIT_CLEAN_HALT
from ext2image import make_image, word_hash


def test_fsd_mounts_and_lists_the_folder_the_image_was_made_from(qemu, disk_image, tmp_path):
    folder = tmp_path / "root"
    (folder / "docs").mkdir(parents=True)
    (folder / "hello.txt").write_text("hello from the disk\n")
    (folder / "docs" / "notes.txt").write_text("notes\n")
    (folder / "empty").write_bytes(b"")
    image = make_image(disk_image(0), folder)
    result = qemu(disk=image, cmdline="run=tests/fsclient,list,/ run=tests/fsclient,list,/docs")
    result.expect_match(r"FSD: mount ok \(32768 blocks of 1024 bytes, \d+ free; \d+ inodes, \d+ free\)")
    root_part, docs_part = result.log.split("FS: listed status=0", 2)[:2]
    root = dict(re.findall(r"^FS: entry (\S+) (\d) \d+$", root_part, re.M))
    expected = {".": "2", "..": "2", "lost+found": "2"}
    expected.update({name: "2" if (folder / name).is_dir() else "1" for name in os.listdir(folder)})
    assert root == expected, result.report(f"root listing {root} is not the folder's {expected}")
    docs = dict(re.findall(r"^FS: entry (\S+) (\d) \d+$", docs_part, re.M))
    assert docs == {".": "2", "..": "2", "notes.txt": "1"}, result.report(f"/docs listing {docs}")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_files_of_every_size_read_back_as_the_host_has_them(qemu, disk_image, tmp_path):
    folder = tmp_path / "root"
    folder.mkdir()
    contents = {
        "/empty": b"",
        "/one": b"x",
        "/four": os.urandom(4096),
        "/large": os.urandom(9_000_000),
    }
    for path, data in contents.items():
        (folder / path[1:]).write_bytes(data)
    image = make_image(disk_image(0), folder)
    result = qemu(disk=image, cmdline="run=tests/fsclient,hash," + ",".join(contents))
    for path, data in contents.items():
        found = result.expect_match(rf"FS: hash {re.escape(path)} (\d+) ([0-9a-f]{{16}})")
        assert int(found.group(1)) == len(data), result.report(f"{path}: size")
        assert int(found.group(2), 16) == word_hash(data), result.report(f"{path}: contents differ from the host's")
    result.expect("INIT: tests/fsclient exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
