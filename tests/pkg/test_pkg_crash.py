"""M6b: an install is atomic across a crash. hello 1.0 is installed; QEMU is killed at
ten points spread over `pkg install` of hello 2.0 (a 2 MiB payload, so the install
takes a while); after each, the next boot (pkgd recovers /pkg/.staging at start) finds
exactly hello 1.0 or exactly hello 2.0, whole, and runs it — never a half-installed
package and never none."""
import io
import re
import shutil
import tarfile
import time

from apus_qemu import ROOT
from console_session import PROMPT, ConsoleSession
from ext2image import make_image, with_programs
from pkgtools import APPS, build

KILL_POINTS = 10


def test_a_crash_during_install_leaves_the_old_or_the_new_package(request, disk_image, tmp_path):
    # The system disk with hello 1.0 installed as pkgd would leave it.
    root = with_programs(tmp_path / "root")
    installed = root / "pkg" / "hello"
    with tarfile.open(ROOT / "out" / "packages" / "hello-1.0.pkg") as package:
        for member in package.getmembers():
            if member.name != "MANIFEST.sig":
                target = installed / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(package.extractfile(member).read())
    (root / "pkg" / ".staging").mkdir()
    base = make_image(disk_image(0, "-base"), root)
    newer = tmp_path / "hello2"
    (newer / "bin").mkdir(parents=True)
    shutil.copy(APPS / "hello", newer / "bin" / "hello")
    (newer / "share").mkdir()
    (newer / "share" / "data.bin").write_bytes(bytes(range(256)) * 8192)  # 2 MiB
    media_folder = tmp_path / "media"
    media_folder.mkdir()
    build(newer, "hello", "2.0", "bin/hello", media_folder / "hello-2.0.pkg")
    media = make_image(disk_image(0, "-media"), media_folder, size_mib=16)

    outcomes = []
    for point in range(KILL_POINTS):
        disk = disk_image(0, f"-run{point}")
        shutil.copy(base, disk)
        crash = ConsoleSession(f"{request.node.name}-crash{point}", cmdline="run=/bin/sh", disk=disk, media=media)
        crash.wait_for(PROMPT, 60)
        crash.type("pkg install /media/hello-2.0.pkg\r")
        time.sleep(0.05 + point * 0.12)  # from the start of the install to past its end
        crash.kill()
        crash.finish()
        after = ConsoleSession(f"{request.node.name}-after{point}", cmdline="run=/bin/sh", disk=disk, media=media)
        after.wait_for(PROMPT, 60)
        listed = after.command("pkg list")
        found = re.fullmatch(r"hello (1\.0|2\.0) \((\d) files, (\d+) bytes\)\n", listed)
        assert found, f"kill point {point}: pkg list says {listed!r}"
        version, files = found.group(1), int(found.group(2))
        assert (version, files) in (("1.0", 1), ("2.0", 2)), f"kill point {point}: {listed!r}"
        assert after.command("hello") == "APP: hello world\n", f"kill point {point}"
        data = after.command("ls /pkg/hello/share")
        assert (data == "data.bin\n") == (version == "2.0"), f"kill point {point}: share holds {data!r} for {version}"
        assert after.command("ls /pkg/.staging") == "", f"kill point {point}: staging not cleaned"
        after.type("halt\r")
        after.wait_for("synced)")
        result = after.finish()
        outcomes.append(version)
        assert result.exit_code == 33
    print(f"kill points: {outcomes}")
