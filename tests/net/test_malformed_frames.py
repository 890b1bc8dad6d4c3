"""netd against a hostile wire: QEMU's card is wired to a socket of this test
(--net-frames), which plays the whole network (no DHCP server: netd takes the
fallback address after its DHCP attempts). The test answers nothing it is not asked,
sends ARP, ping and UDP frames built from the RFCs (tests/net/ethernet.py) and checks
what netd sends back (checksums recomputed here), then every kind of malformed frame,
each of which must land in its own drop counter (netd's stats); then 500 seeded
random frames, sent 64 at a time with an ARP exchange after each batch (the card
has 128 receive buffers: a faster sender loses frames in QEMU and the host's socket
buffer, not in netd), so every frame is accounted for; udpecho still echoes
afterwards and the system halts clean."""
import random
import socket
import time

from apus_qemu import EXIT_CLEAN_HALT
from console_session import ConsoleSession
from ethernet import (ARP, BROADCAST, GUEST_IP, GUEST_MAC, HOST_IP, HOST_MAC, IPV4, arp, ethernet, icmp_echo, ipv4,
                      parse, udp)
from nettools import INSTALL_UDPECHO, free_udp_port, network_disks

UDPECHO_ONCE = "run=/pkg/udpecho/bin/udpecho,count=1"


class Wire:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.qemu_port = free_udp_port()

    def send(self, frame: bytes):
        self.sock.sendto(frame, ("127.0.0.1", self.qemu_port))

    def expect(self, match, timeout=10.0) -> dict:
        """The next frame from the guest that `match` accepts (others, like DHCP
        discovers, are skipped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                frame, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                break
            parsed = parse(frame)
            if match(parsed):
                return parsed
        raise AssertionError("the guest did not send the expected frame")


def stats(log: str, which: int) -> dict:
    lines = [line for line in log.splitlines() if line.startswith("NETSTAT: ")]
    assert len(lines) > which, f"no NETSTAT line {which}"
    return {key: int(value) for key, value in (pair.split("=") for pair in lines[which][len("NETSTAT: "):].split())}


def echo_round(wire: Wire, payload: bytes, source_port: int):
    wire.send(ethernet(ipv4(udp(payload, source_port, 7), 17)))
    echoed = wire.expect(lambda f: f.get("protocol") == 17 and f.get("destination_port") == source_port)
    assert echoed["destination"] == HOST_MAC and echoed["source"] == GUEST_MAC
    assert echoed["ip_ok"] and echoed["udp_ok"], "netd's echo has a bad checksum"
    assert echoed["ip_source"] == GUEST_IP and echoed["ip_destination"] == HOST_IP and echoed["source_port"] == 7
    assert echoed["payload"] == payload


def test_hostile_frames_are_counted_and_dropped(request, disk_image, tmp_path):
    system, media = network_disks(disk_image, tmp_path)
    wire = Wire()
    cmdline = f"{INSTALL_UDPECHO} {UDPECHO_ONCE} run=/bin/net,stats {UDPECHO_ONCE} run=/bin/net,stats"
    session = ConsoleSession(request.node.name, cmdline=cmdline, disk=system, media=media, timeout=180,
                             runner_args=("--net-frames", f"{wire.qemu_port}:{wire.port}"))
    try:
        session.wait_for("NET: no DHCP answer: fallback 10.0.2.15/24 gateway 10.0.2.2", 90)
        session.wait_for("UDPECHO: listening on 10.0.2.15 port 7", 60)
        sent = 0

        def send(frame):
            nonlocal sent
            wire.send(frame)
            sent += 1

        # ARP: who has 10.0.2.15? The answer names the card; netd learns us.
        send(ethernet(arp(1), ARP, BROADCAST))
        answer = wire.expect(lambda f: f["type"] == ARP and f.get("operation") == 2)
        assert answer["sender_mac"] == GUEST_MAC and answer["sender_ip"] == GUEST_IP
        assert answer["target_mac"] == HOST_MAC and answer["target_ip"] == HOST_IP
        # Ping the guest.
        send(ethernet(ipv4(icmp_echo(0x1234, 1, b"apus ping payload"), 1)))
        reply = wire.expect(lambda f: f.get("protocol") == 1 and f.get("icmp_type") == 0)
        assert reply["ip_ok"] and reply["icmp_ok"] and reply["identifier"] == 0x1234 and reply["sequence"] == 1
        assert reply["payload"] == b"apus ping payload"

        expected = {"malformed": 0, "checksum": 0, "fragments": 0, "ethertype": 0, "no_socket": 0, "other": 0}
        cases = [
            ("ethertype", ethernet(b"\x60" + b"\0" * 45, 0x86DD)),  # IPv6
            ("ethertype", ethernet(b"\0" * 46, 0x8100)),  # a VLAN tag
            ("checksum", ethernet(ipv4(udp(b"x", 5000, 7), 17, bad_checksum=True))),
            ("malformed", ethernet(ipv4(udp(b"x", 5000, 7), 17, total=1000))),  # longer than the frame
            ("malformed", ethernet(ipv4(udp(b"x", 5000, 7), 17, total=10))),  # shorter than its header
            ("malformed", ethernet(ipv4(udp(b"x", 5000, 7), 17, ihl=4))),
            ("malformed", ethernet(ipv4(udp(b"x", 5000, 7), 17, version=6))),
            ("fragments", ethernet(ipv4(udp(b"x" * 100, 5000, 7), 17, flags_fragment=0x2000))),  # more fragments
            ("fragments", ethernet(ipv4(b"y" * 100, 17, flags_fragment=0x0010))),  # an offset
            ("checksum", ethernet(ipv4(udp(b"x" * 30, 5000, 7, bad_checksum=True), 17))),
            ("malformed", ethernet(ipv4(udp(b"x" * 30, 5000, 7, length=200), 17))),  # UDP longer than IP
            ("malformed", ethernet(ipv4(udp(b"x" * 30, 5000, 7, length=4), 17))),  # shorter than its header
            ("malformed", ethernet(ipv4(b"\x08\0\0\0", 1))),  # ICMP of 4 bytes
            ("checksum", ethernet(ipv4(icmp_echo(1, 1, b"z" * 20, bad_checksum=True), 1))),
            ("malformed", ethernet(arp(3), ARP)),  # no such ARP operation
            ("malformed", ethernet(b"\0\x06" + arp(1)[2:], ARP)),  # hardware type 6
            ("malformed", ethernet(ipv4(udp(b"j" * 1500, 5000, 7), 17, total=1500))),  # a 1,542-byte frame
            ("no_socket", ethernet(ipv4(udp(b"nobody", 5000, 9), 17))),
            ("other", ethernet(ipv4(udp(b"x", 5000, 7), 17, destination=bytes([10, 0, 2, 99])))),  # not ours
            ("other", ethernet(ipv4(b"\0" * 20, 6))),  # TCP
            ("other", ethernet(ipv4(udp(b"x", 5000, 7), 17, ttl=0))),
        ]
        # An oversized datagram (3,000 bytes) arrives as the fragments a host sends.
        big = udp(bytes(range(256)) * 11 + b"tail" * 46, 5000, 7)
        for offset in range(0, len(big), 1480):
            more = 0x2000 if offset + 1480 < len(big) else 0
            cases.append(("fragments", ethernet(ipv4(big[offset:offset + 1480], 17, flags_fragment=more | offset // 8,
                                                     total=20 + len(big[offset:offset + 1480]), identification=77))))
        for counter, frame in cases:
            send(frame)
            expected[counter] += 1
        send(b"\x52\x54\x00\x12\x34\x56\x01\x02")  # 8 bytes (QEMU may pad it to 60)
        echo_round(wire, b"first echo after the malformed frames", 41000)

        session.wait_for("UDPECHO: listening on 10.0.2.15 port 7", 60)
        first = stats(session.text(), 0)
        for counter, count in expected.items():
            slack = 1 if counter in ("malformed", "ethertype") else 0  # the short frame, padded or not
            assert count <= first[counter] <= count + slack, f"{counter}: {first[counter]}, expected {count}"
        assert first["malformed"] + first["ethertype"] == expected["malformed"] + expected["ethertype"] + 1
        assert first["received"] == sent + 1, "every frame reached netd and was counted once"
        assert first["echo_replies"] == 1 and first["arp_replies"] == 1

        # Junk: random bytes and random headers with correct checksums.
        rng = random.Random(15)
        junk = 0
        for number in range(500):
            if number % 64 == 63:  # wait until netd has taken everything sent so far
                wire.send(ethernet(arp(1), ARP, BROADCAST))
                junk += 1
                wire.expect(lambda f: f["type"] == ARP and f.get("operation") == 2)
            kind = number % 4
            if kind == 0:
                frame = GUEST_MAC + HOST_MAC + rng.randbytes(rng.randint(2, 1500))
            elif kind == 1:
                frame = ethernet(rng.randbytes(rng.randint(0, 1500)), rng.choice([IPV4, ARP]))
            elif kind == 2:
                payload = rng.randbytes(rng.randint(0, 1400))
                frame = ethernet(ipv4(payload, rng.choice([1, 17, 6, 255]), ttl=rng.randint(0, 255),
                                      flags_fragment=rng.choice([0, 0x4000, 0x2000, rng.randint(0, 0xFFFF)])))
            else:
                port = rng.choice([7, 9, 68, rng.randint(1, 65535)])
                frame = ethernet(ipv4(udp(rng.randbytes(rng.randint(0, 1400)), rng.randint(1, 65535), port,
                                          length=rng.randint(0, 1500)), 17))
                if port == 7 and udp_length_fits(frame):
                    continue  # a valid datagram for udpecho: not junk
            wire.send(frame)
            junk += 1
        echo_round(wire, b"second echo after 500 random frames", 41001)
        session.wait_for("INIT: done", 60)
    finally:
        result = session.finish()
        wire.sock.close()

    second = stats(result.log, 1)
    assert second["received"] == first["received"] + junk + 1, "every junk frame reached netd and was counted"
    assert second["arp_replies"] == first["arp_replies"] + 7
    result.expect("INIT: done failures=0", "KERNEL: halt ok")
    result.expect_absent("KERNEL: panic", "NETD: reply to", "NETD: stopped")
    result.expect_nothing_leaked()
    result.expect_exit(EXIT_CLEAN_HALT)


def udp_length_fits(frame: bytes) -> bool:
    """Whether a junk UDP frame would be a well-formed datagram (its length field fits)."""
    ip = frame[14:]
    udp_length = int.from_bytes(ip[24:26], "big")
    return 8 <= udp_length <= len(ip) - 20
