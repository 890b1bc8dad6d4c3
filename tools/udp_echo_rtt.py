#!/usr/bin/env python3
"""make bench's udp_echo_rtt: boots Apus on QEMU's user network (no -icount: this is
wall time), installs and starts udpecho, and times sequential 64-byte round trips
from a host socket through the forwarded loopback port: host socket -> QEMU slirp ->
virtio-net -> netd -> udpecho and back. Prints the BENCH line, labelled wall clock.
    tools/udp_echo_rtt.py SYSTEM_DISK MEDIA_DISK [COUNT]"""
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    system, media = Path(sys.argv[1]), Path(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        disk = Path(scratch) / "system.img"  # udpecho's install writes to it
        shutil.copy(system, disk)
        cmdline = f"run=/bin/pkg,install,/media/udpecho-1.0.pkg run=/pkg/udpecho/bin/udpecho,count={count + 10}"
        qemu = subprocess.Popen([str(ROOT / "tools/run_qemu.sh"), "--timeout", "300", "--disk", str(disk), "--disk-ro", str(media),
                                 "--net-port", str(port), "--cmdline", cmdline],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log: list[str] = []
        listening = threading.Event()

        def read():
            for line in qemu.stdout:
                log.append(line)
                if line.startswith("UDPECHO: listening"):
                    listening.set()

        threading.Thread(target=read, daemon=True).start()
        if not listening.wait(180):
            qemu.kill()
            print("BENCH udp_echo_rtt failed (udpecho did not start)\n" + "".join(log[-20:]))
            return 1
        rtts = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            payload = bytes(64)
            for number in range(count + 10):
                started = time.perf_counter()
                client.sendto(payload, ("127.0.0.1", port))
                client.recvfrom(2048)
                if number >= 10:  # the first few warm ARP and caches
                    rtts.append(time.perf_counter() - started)
        qemu.wait(120)
    rtts.sort()
    micro = [value * 1e6 for value in rtts]
    print(f"BENCH udp_echo_rtt_wall median_us={statistics.median(micro):.0f} p99_us={micro[int(len(micro) * 0.99)]:.0f} "
          f"min_us={micro[0]:.0f} (wall clock, host socket to udpecho and back, {count} round trips, QEMU TCG without -icount)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
