"""M6b: packages. The shell installs the sample packages from the read-only media disk
(/media), runs them by name, lists, inspects and removes them; a newer version
replaces the older; every hostile package the test builds is refused before anything
is written, and the store is as it was; a staging leftover from a crash is cleaned
when pkgd starts. e2fsck judges the disk after each session."""
import re
import shutil

import pytest

from apus_qemu import EXIT_CLEAN_HALT, ROOT
from console_session import PROMPT, ConsoleSession
from ext2image import debugfs, e2fsck, make_image, with_programs
from pkgtools import APPS, archive, build, manifest, mkpkg, sign

PACKAGES = ROOT / "out" / "packages"


def system_disk(disk_image, tmp_path, extra=None):
    folder = with_programs(tmp_path / "root")
    if extra:
        extra(folder)
    return make_image(disk_image(0, "-system"), folder)


def media_disk(disk_image, tmp_path, packages: dict[str, bytes]):
    folder = tmp_path / "media"
    folder.mkdir()
    for source in PACKAGES.glob("*.pkg"):
        shutil.copy(source, folder / source.name)
    for name, data in packages.items():
        (folder / name).write_bytes(data)
    return make_image(disk_image(0, "-media"), folder, size_mib=16)


def session(request, disk, media):
    shell = ConsoleSession(request.node.name, cmdline="run=/bin/sh", disk=disk, media=media, timeout=150)
    shell.wait_for(PROMPT, 60)
    return shell


def end(shell, disk):
    shell.type("halt\r")
    shell.wait_for("sh: halting (filesystem synced)")
    result = shell.finish()
    result.expect("KERNEL: halt ok")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    check = e2fsck(disk)
    assert check.returncode == 0, check.stdout
    return result


def test_install_run_list_remove(request, disk_image, tmp_path):
    newer = tmp_path / "hello2"
    (newer / "bin").mkdir(parents=True)
    shutil.copy(APPS / "hello", newer / "bin" / "hello")
    (newer / "share").mkdir()
    (newer / "share" / "greeting.txt").write_text("hello, version 2\n")
    hello2 = build(newer, "hello", "2.0", "bin/hello", tmp_path / "hello-2.0.pkg").read_bytes()
    disk = system_disk(disk_image, tmp_path)
    media = media_disk(disk_image, tmp_path, {"hello-2.0.pkg": hello2})
    shell = session(request, disk, media)
    assert "hello-1.0.pkg" in shell.command("ls /media").splitlines()
    installed = shell.command("pkg install /media/hello-1.0.pkg")
    assert re.search(r"^pkg: installed hello 1\.0 \(1 files, \d+ bytes\)$", installed, re.M), installed
    assert shell.command("hello") == "APP: hello world\n"
    assert shell.command("echo $?") == "0\n"
    assert re.fullmatch(r"hello 1\.0 \(1 files, \d+ bytes\)\n", shell.command("pkg list"))
    assert re.search(r"installed greet 1\.0", shell.command("pkg install /media/greet-1.0.pkg"))
    assert shell.command("greet a b") == "APP: hello from Embedded Swift (2 arguments)\n"
    assert shell.command("pkg info hello").startswith("hello 1.0 (1 files")
    # A newer version replaces the older one.
    assert re.search(r"installed hello 2\.0 \(2 files", shell.command("pkg install /media/hello-2.0.pkg"))
    assert shell.command("cat /pkg/hello/share/greeting.txt") == "hello, version 2\n"
    listing = shell.command("pkg list").splitlines()
    assert [line.split()[:2] for line in listing] == [["greet", "1.0"], ["hello", "2.0"]], listing
    assert shell.command("hello") == "APP: hello world\n"
    assert shell.command("pkg remove hello") == "PKGD: removed hello\npkg: removed hello\n"
    assert shell.command("hello") == "sh: hello: command not found (try help)\n"
    assert shell.command("pkg remove hello").endswith("pkg: remove hello: not found\n")
    assert shell.command("ls /pkg/.staging") == ""
    end(shell, disk)
    assert b"greet" in debugfs(disk, "ls /pkg") and b"hello" not in debugfs(disk, "ls /pkg")


def hostile_packages(tmp_path):
    """name → (archive bytes, the status line pkg must print)."""
    payload = (APPS / "hello").read_bytes()
    files = [("bin/hello", 0o755, payload)]
    good_manifest = manifest("evil", "1.0", "bin/hello", files)
    signature = sign(good_manifest, tmp_path / "scratch")

    def signed(text):
        return sign(text, tmp_path / "scratch")

    def pack(text, sig, entries, links=()):
        head = [("MANIFEST", text, 0o644)] + ([("MANIFEST.sig", sig, 0o644)] if sig is not None else [])
        return archive(head + entries, links)

    tampered = bytearray(payload)
    tampered[len(tampered) // 2] ^= 1
    other_key = tmp_path / "other.key"
    assert mkpkg("keygen", "--out", str(other_key)).returncode == 0
    traversal = manifest("evil", "1.0", "../evil", [("../evil", 0o755, payload)])
    absolute = manifest("evil", "1.0", "/bin/evil", [("/bin/evil", 0o755, payload)])
    linked = manifest("evil", "1.0", "bin/hello", files + [("bin/link", 0o777, b"")])
    short = manifest("evil", "1.0", "bin/hello", files, sizes={"bin/hello": len(payload) + 1})
    tiny = [(f"t/{index}", 0o644, b"x") for index in range(10_000)]
    many = manifest("evil", "1.0", "t/0", tiny)
    huge = good_manifest.replace(b"summary evil for a test", b"summary " + b"x" * 70_000)
    good = pack(good_manifest, signature, [("bin/hello", payload, 0o755)])
    return {
        "tampered.pkg": (pack(good_manifest, signature, [("bin/hello", bytes(tampered), 0o755)]), "a file's SHA-256 differs"),
        "unsigned.pkg": (pack(good_manifest, None, [("bin/hello", payload, 0o755)]), "unsigned, or not signed by a trusted key"),
        "otherkey.pkg": (pack(good_manifest, sign(good_manifest, tmp_path / "scratch", other_key), [("bin/hello", payload, 0o755)]),
                         "unsigned, or not signed by a trusted key"),
        "resigned.pkg": (pack(good_manifest.replace(b"1.0", b"6.6"), signature, [("bin/hello", payload, 0o755)]),
                         "unsigned, or not signed by a trusted key"),
        "traversal.pkg": (pack(traversal, signed(traversal), [("../evil", payload, 0o755)]), "unsafe path or link"),
        "absolute.pkg": (pack(absolute, signed(absolute), [("/bin/evil", payload, 0o755)]), "unsafe path or link"),
        "link.pkg": (pack(linked, signed(linked), [("bin/hello", payload, 0o755)], links=[("bin/link", "/bin/sh")]),
                     "unsafe path or link"),
        "duplicate.pkg": (pack(good_manifest, signature, [("bin/hello", payload, 0o755), ("bin/hello", payload, 0o755)]),
                          "bad manifest"),
        "unlisted.pkg": (pack(good_manifest, signature, [("bin/hello", payload, 0o755), ("bin/extra", b"x", 0o644)]),
                         "bad manifest"),
        "size.pkg": (pack(short, signed(short), [("bin/hello", payload, 0o755)]), "a file's size differs"),
        "truncated.pkg": (good[:len(good) // 2], "not a valid package archive"),
        "many.pkg": (pack(many, signed(many), [(path, data, mode) for path, mode, data in tiny]), "bad manifest"),
        "hugemanifest.pkg": (pack(huge, signed(huge), [("bin/hello", payload, 0o755)]), "bad manifest"),
    }


def test_hostile_packages_are_refused_and_nothing_is_written(request, disk_image, tmp_path):
    hostile = hostile_packages(tmp_path)
    disk = system_disk(disk_image, tmp_path)
    media = media_disk(disk_image, tmp_path, {name: data for name, (data, _) in hostile.items()})
    shell = session(request, disk, media)
    assert "installed hello" in shell.command("pkg install /media/hello-1.0.pkg")
    for name, (_, why) in hostile.items():
        said = shell.command(f"pkg install /media/{name}")
        assert f"pkg: install /media/{name}: {why}" in said, f"{name}: {said}"
        assert shell.command("echo $?") == "1\n"
    assert re.fullmatch(r"hello 1\.0 \(1 files, \d+ bytes\)\n", shell.command("pkg list"))
    assert shell.command("ls /pkg") in ("hello/\n.staging/\n", ".staging/\nhello/\n")
    assert shell.command("ls /pkg/.staging") == ""
    assert shell.command("hello") == "APP: hello world\n"
    end(shell, disk)


def test_a_staging_leftover_is_cleaned_at_start(request, disk_image, tmp_path):
    def crashed_install(folder):
        leftover = folder / "pkg" / ".staging" / "hello" / "bin"
        leftover.mkdir(parents=True)
        (leftover / "hello").write_bytes(b"half a program")
    disk = system_disk(disk_image, tmp_path, crashed_install)
    media = media_disk(disk_image, tmp_path, {})
    shell = session(request, disk, media)
    assert shell.command("ls /pkg/.staging") == ""
    assert shell.command("pkg list") == "pkg: no packages installed\n"
    result = end(shell, disk)
    result.expect("PKGD: removed the leftover hello from staging")


def test_trusted_key_is_the_test_key():
    """The image trusts exactly keys/test-signing.pub (services/pkgd/TrustedKeys.swift)."""
    public = (ROOT / "keys" / "test-signing.pub").read_text().strip()
    trusted = re.findall(r'bytes\("([0-9a-f]{64})"\)', (ROOT / "services" / "pkgd" / "TrustedKeys.swift").read_text())
    assert trusted == [public]
