"""M5: blkdevd serves the block protocol with data in shared memory, and what it writes
is really on the disk image the host holds. Each test makes its own image, boots,
and reads the image back on the host where that is the judge."""
import hashlib
import re

from apus_qemu import EXIT_CLEAN_HALT
from blockpattern import REGION_BYTES, REGION_OFFSET, pattern


def test_a_client_writes_flushes_and_reads_back_and_the_host_agrees(qemu, disk_image):
    image = disk_image(32 << 20)
    result = qemu(disk=image, cmdline="init=tool=tests/blkclient run=tests/blkclient,rw")
    result.expect_match(r"BLK: rw ok bytes=8388608 hash=[0-9a-f]{16} threads=4 \(\d+ ms\)")
    result.expect("INIT: tests/blkclient exited code=0")
    expect_blkdevd_never_died(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    # The host's own reading of the image: the pattern, at the same offsets, and
    # nothing written outside the region.
    data = image.read_bytes()
    expected = pattern(REGION_OFFSET, REGION_BYTES)
    written = data[REGION_OFFSET:REGION_OFFSET + REGION_BYTES]
    assert hashlib.sha256(written).digest() == hashlib.sha256(expected).digest(), \
        result.report(f"image bytes differ from the pattern first at offset "
                      f"{REGION_OFFSET + next(i for i in range(len(expected)) if written[i] != expected[i])}")
    assert data[:REGION_OFFSET] == bytes(REGION_OFFSET), result.report("bytes before the region changed")
    assert data[REGION_OFFSET + REGION_BYTES:] == bytes(len(data) - REGION_OFFSET - REGION_BYTES), \
        result.report("bytes after the region changed")


def expect_blkdevd_never_died(result):
    """A trap prints no line of blkdevd's own: the supervisor's lines say it died or
    was started again, and init's says a driver had ended."""
    deaths = re.findall(r"^(?:SUPERVISOR: (?:blkdevd died|restarted blkdevd|gave up on blkdevd)|INIT: driver .*had ended).*$",
                        result.log, re.M)
    assert not deaths, result.report(f"blkdevd died: {deaths}")
    result.expect_absent("KERNEL: panic")


def test_every_bad_request_gets_its_status(qemu, disk_image):
    """tests/blkclient,bad checks each malformed request's status itself (a wrong or
    missing one fails it), and the good requests after them; blkdevd must not die."""
    image = disk_image(8 << 20)
    result = qemu(disk=image, cmdline="init=tool=tests/blkclient run=tests/blkclient,bad")
    result.expect("BLK: bad requests ok", "INIT: tests/blkclient exited code=0")
    checks = result.expect_match(r"BLKCLIENT: bad requests ok \((\d+) checks\)")
    assert int(checks.group(1)) >= 20, result.report("every bad request was checked")
    expect_blkdevd_never_died(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_flooding_client_is_limited_and_its_death_frees_its_requests(qemu, disk_image):
    """Issue 21: threads of barrier reads (250 of them, in several processes) once filled blkdevd's handle table (a
    reply capability per request) and stopped it. Now one client holds at most
    requests_per_client (the rest busy), another client is served meanwhile (an
    attach, whose handle needs room, too), and when the flooding client is killed its
    waiting requests and buffer go (no kernel object left) and blkdevd goes on."""
    image = disk_image(8 << 20)
    result = qemu(disk=image, cmdline="init=tool=tests/blkclient run=tests/blkclient,flood", timeout=120)
    result.expect("BLK: flood ok (a dead client's requests freed, another client served)",
                  "INIT: tests/blkclient exited code=0", "INIT: done failures=0")
    expect_blkdevd_never_died(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_read_only_disk_refuses_writes(qemu, disk_image):
    image = disk_image(4 << 20)
    with image.open("r+b") as disk:
        disk.write(pattern(0, 4096))
    before = image.read_bytes()
    result = qemu(readonly_disks=[image], cmdline="init=tool=tests/blkclient run=tests/blkclient,ro")
    result.expect_match(r"BLK: found virtio-blk .* read-only .*")
    result.expect("BLK: read-only ok", "INIT: tests/blkclient exited code=0")
    expect_blkdevd_never_died(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
    assert image.read_bytes() == before, result.report("the read-only image changed")


def test_without_the_device_handle_there_is_no_bar_interrupt_or_dma(qemu, disk_image):
    image = disk_image(4 << 20)
    result = qemu(disk=image, cmdline="init=tool=tests/blkclient run=tests/blkclient,grants")
    result.expect("BLK: grants refused ok", "INIT: tests/blkclient exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_blkdevd_killed_mid_stream_leaks_nothing(qemu, disk_image):
    """The driver dies inside a request with several at the device (its crash-after test
    hook); the kernel quiesces the device before its DMA memory goes, the clients get
    peer_closed, init's supervisor sees the death (and would start the driver again
    after its backoff), and every page, heap byte and object comes back."""
    image = disk_image(8 << 20)
    result = qemu(disk=image, cmdline="init=tool=tests/blkclient init=driver-arg=crash-after=300 run=tests/blkclient,stream")
    crash = result.expect_match(r"BLKDEVD: crash-after=300: dying with (\d+) requests in flight")
    assert int(crash.group(1)) >= 2, result.report("several requests at the device when it died")
    gone = result.expect_match(r"BLK: server gone after (\d+) requests \(error 14\)")
    assert int(gone.group(1)) >= 290, result.report("the stream ran until the crash")
    result.expect("SUPERVISOR: blkdevd died (reason=invalid opcode code=0)", "INIT: tests/blkclient exited code=0")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_each_grant_needs_its_right_and_stays_in_range(qemu, disk_image):
    """tests/devgrants runs as the disk's driver (init's --driver option), holding the
    real device handle: each grant call without its right is access_denied, the MSI-X
    table's BAR is refused, out-of-range BARs, keys, sizes and config ranges are
    invalid_argument, and DMA memory is zeroed, page-aligned and its size told."""
    image = disk_image(4 << 20)
    result = qemu(disk=image, cmdline="init=driver=1af4:1042=tests/devgrants")
    result.expect_match(r"INIT: started tests/devgrants for 00:0[0-9a-f]\.0 \(1af4:1042\) as test0")
    result.expect_match(r"DEVGRANTS: device grants ok \(\d+ checks\)")
    assert "INIT: driver tests/devgrants had ended" not in result.log, result.report("it served until init stopped it")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def test_a_device_error_is_io_error_and_the_server_goes_on(qemu, disk_image, tmp_path):
    """QEMU's blkdebug layer fails every read of sector 4096 with EIO: those requests
    get io_error, a read elsewhere and a write there still succeed."""
    image = disk_image(8 << 20)
    rules = tmp_path / "blkdebug.cfg"
    rules.write_text('[inject-error]\nevent = "read_aio"\niotype = "read"\nerrno = "5"\nsector = "4096"\n')
    result = qemu(cmdline="init=tool=tests/blkclient run=tests/blkclient,ioerror",
                  qemu_args=["-drive", f"if=none,id=failing,format=raw,file=blkdebug:{rules}:{image}",
                             "-device", "virtio-blk-pci,drive=failing,disable-legacy=on"])
    result.expect("BLK: io errors ok", "INIT: tests/blkclient exited code=0")
    expect_blkdevd_never_died(result)
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)
