"""M5: init matches the virtio-blk disk to services/blkdevd and starts it with that
device's handle; blkdevd brings the device up over the modern virtio PCI transport and
reports the image's capacity, and a client in its own process gets the same figures
through the block protocol (info). A legacy-only device is refused with a line."""
import re

from apus_qemu import EXIT_CLEAN_HALT


def test_blkdevd_finds_the_disk_and_its_capacity(qemu, disk_image):
    image = disk_image(48 << 20)
    result = qemu(disk=image, cmdline="init=tool=tests/blkclient run=tests/blkclient,identify")
    found = result.expect_match(r"BLK: found virtio-blk 00:0[0-9a-f]\.0 capacity=(\d+) sectors \((\d+) bytes\).*")
    assert int(found.group(1)) == (48 << 20) // 512 and int(found.group(2)) == 48 << 20, result.report("capacity")
    result.expect_match(r"INIT: started services/blkdevd for 00:0[0-9a-f]\.0 \(1af4:1042\) as block0")
    info = result.expect_match(r"BLK: info block_size=512 blocks=(\d+) flags=(\d+) generation=(\d+)")
    assert int(info.group(1)) == (48 << 20) // 512, result.report("info's block count")
    assert int(info.group(2)) & 2, result.report("QEMU's disk has a volatile cache: flush_supported")
    result.expect("INIT: tests/blkclient exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_two_disks_get_two_names(qemu, disk_image):
    first, second = disk_image(8 << 20, "-a"), disk_image(16 << 20, "-b")
    result = qemu(disks=[first, second])  # init runs nothing until both are ready
    result.expect_match(r"INIT: started .* as block0")
    result.expect_match(r"INIT: started .* as block1")
    capacities = sorted(int(m) for m in re.findall(r"BLK: found virtio-blk \S+ capacity=(\d+)", result.log))
    assert capacities == [(8 << 20) // 512, (16 << 20) // 512], result.report("both disks")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_legacy_only_device_is_refused(qemu, disk_image):
    image = disk_image(8 << 20)
    result = qemu(qemu_args=["-drive", f"if=none,id=legacy,format=raw,file={image}",
                             "-device", "virtio-blk-pci,drive=legacy,disable-modern=on"])
    result.expect_match(r"BLK: 00:0[0-9a-f]\.0 offers only the legacy virtio interface: refused")
    result.expect("SUPERVISOR: gave up on blkdevd: 5 crashes within 10000 ms (last: exited); trying again in 10000 ms",
                  "INIT: services/blkdevd for block0 failed to start")
    assert "BLKDEVD: ready" not in result.log, result.report("no server for a refused device")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
