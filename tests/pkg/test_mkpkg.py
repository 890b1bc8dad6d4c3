"""M6b: the host tool. mkpkg's packages are reproducible (same input, same bytes),
readable by GNU tar, and verified by mkpkg itself; a tampered one is not."""
import shutil
import subprocess

from apus_qemu import ROOT
from pkgtools import APPS, TEST_PUB, build, mkpkg


def test_reproducible_and_gnu_tar_reads_it(tmp_path):
    folder = tmp_path / "app"
    (folder / "bin").mkdir(parents=True)
    shutil.copy(APPS / "hello", folder / "bin" / "hello")
    first = build(folder, "hello", "1.0", "bin/hello", tmp_path / "a.pkg").read_bytes()
    second = build(folder, "hello", "1.0", "bin/hello", tmp_path / "b.pkg").read_bytes()
    assert first == second
    listing = subprocess.run(["tar", "-tvf", str(tmp_path / "a.pkg")], capture_output=True, text=True, check=True).stdout
    assert [line.split()[-1] for line in listing.splitlines()] == ["MANIFEST", "MANIFEST.sig", "bin/hello"]
    extracted = tmp_path / "x"
    extracted.mkdir()
    subprocess.run(["tar", "-xf", str(tmp_path / "a.pkg"), "-C", str(extracted)], check=True)
    assert (extracted / "bin" / "hello").read_bytes() == (APPS / "hello").read_bytes()
    assert mkpkg("verify", str(tmp_path / "a.pkg"), "--pubkey", str(TEST_PUB)).returncode == 0
    tampered = bytearray(first)
    tampered[-2048] ^= 1
    (tmp_path / "t.pkg").write_bytes(bytes(tampered))
    refused = mkpkg("verify", str(tmp_path / "t.pkg"), "--pubkey", str(TEST_PUB))
    assert refused.returncode == 1 and "SHA-256 differs" in refused.stdout, refused.stdout


def test_the_sample_packages_verify():
    for package in sorted((ROOT / "out" / "packages").glob("*.pkg")):
        assert mkpkg("verify", str(package), "--pubkey", str(TEST_PUB)).returncode == 0, package
