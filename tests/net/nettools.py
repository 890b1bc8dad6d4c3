"""What the network tests share: free loopback ports, the disks a network boot
needs (the system disk with /bin, the media disk with the packages, udpecho among
them), and the cmdline that installs and starts udpecho."""
import shutil
import socket

from apus_qemu import ROOT
from ext2image import make_image, with_programs

PACKAGES = ROOT / "out" / "packages"
GUEST = "10.0.2.15"
GATEWAY = "10.0.2.2"
INSTALL_UDPECHO = "run=/bin/pkg,install,/media/udpecho-1.0.pkg"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def network_disks(disk_image, tmp_path):
    """(system disk, media disk) for a boot that installs packages from /media."""
    system = make_image(disk_image(0, "-system"), with_programs(tmp_path / "root"))
    folder = tmp_path / "media"
    folder.mkdir()
    for package in PACKAGES.glob("*.pkg"):
        shutil.copy(package, folder / package.name)
    media = make_image(disk_image(0, "-media"), folder, size_mib=16)
    return system, media


def udpecho(count: int) -> str:
    return f"{INSTALL_UDPECHO} run=/pkg/udpecho/bin/udpecho,count={count}"
