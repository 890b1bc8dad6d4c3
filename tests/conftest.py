"""pytest wiring for the QEMU tests: `qemu` boots Apus with a log named after the test."""
import re

import pytest

from apus_qemu import ROOT, boot


@pytest.fixture
def qemu(request):
    """Call as qemu(cmdline=..., uefi=...) -> BootResult."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    module = request.node.module.__name__

    def run(**options):
        return boot(f"{module}.{safe}", **options)

    return run


@pytest.fixture
def disk_image(request):
    """Call as disk_image(size_bytes, suffix="") -> Path: a fresh zeroed raw image under
    out/test-disks/, named after the test, for the test to fill and read back."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    folder = ROOT / "out" / "test-disks"
    folder.mkdir(parents=True, exist_ok=True)

    def make(size: int, suffix: str = ""):
        path = folder / f"{request.node.module.__name__}.{safe}{suffix}.img"
        path.unlink(missing_ok=True)
        with path.open("wb") as image:
            image.truncate(size)
        return path

    return make
