"""pytest wiring for the QEMU tests: `qemu` boots Apus with a log named after the test."""
import re

import pytest

from apus_qemu import boot


@pytest.fixture
def qemu(request):
    """Call as qemu(cmdline=..., uefi=...) -> BootResult."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    module = request.node.module.__name__

    def run(**options):
        return boot(f"{module}.{safe}", **options)

    return run
