"""M5, first step: PCI enumeration through ECAM (ACPI's MCFG). Every function on the
q35 machine gets one boot line with its ids, class, interrupt pin and capabilities,
and its sized BARs; a (modern-only) virtio-blk disk appears as 1af4:1042 with MSI-X,
the MSI-X table's BAR and a 64-bit memory BAR."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_every_function_gets_a_line(qemu, tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(8 << 20))
    result = qemu(disk=disk)
    lines = result.lines_starting("PCI: ")
    assert "PCI: 00:00.0 8086:29c0 class=06.00.00" in lines, result.report("the q35 host bridge")
    [virtio] = [line for line in lines if " 1af4:1042 " in line]
    assert re.fullmatch(r"PCI: 00:0[0-9a-f]\.0 1af4:1042 class=01\.00\.00 pin=INT1 msix "
                        r"mem1=0x[0-9a-f]+/4096 mem4=0x[0-9a-f]+/16384", virtio), result.report("virtio-blk")
    [summary] = [line for line in lines if " functions on buses " in line]
    count = int(re.search(r"PCI: (\d+) functions", summary).group(1))
    assert count == len(lines) - 1 and count >= 5, result.report("one line per function")
    result.expect("KERNEL: halt ok")
    result.expect_exit(EXIT_CLEAN_HALT)
