"""Ethernet, ARP, IPv4, ICMP and UDP frames built and parsed by the tests, written
from the RFCs (826, 791, 792, 768) and independent of netd's code: the test is the
guest's whole network when QEMU's card is wired to a host socket (--net-frames)."""
import struct

GUEST_MAC = bytes.fromhex("525400123456")
HOST_MAC = bytes.fromhex("52550a000202")
BROADCAST = b"\xff" * 6
GUEST_IP = bytes([10, 0, 2, 15])
HOST_IP = bytes([10, 0, 2, 2])
IPV4, ARP = 0x0800, 0x0806


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ethernet(payload: bytes, ethertype: int = IPV4, destination: bytes = GUEST_MAC) -> bytes:
    frame = destination + HOST_MAC + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def arp(operation: int, target_ip: bytes = GUEST_IP, target_mac: bytes = b"\0" * 6) -> bytes:
    return struct.pack("!HHBBH", 1, IPV4, 6, 4, operation) + HOST_MAC + HOST_IP + target_mac + target_ip


def ipv4(payload: bytes, protocol: int, *, source=HOST_IP, destination=GUEST_IP, ttl=64, flags_fragment=0,
         total=None, ihl=5, version=4, bad_checksum=False, identification=1) -> bytes:
    length = total if total is not None else 20 + len(payload)
    header = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0, length, identification, flags_fragment, ttl, protocol, 0,
                         source, destination)
    value = checksum(header) ^ (0x5555 if bad_checksum else 0)
    return header[:10] + struct.pack("!H", value) + header[12:] + payload


def udp(payload: bytes, source_port: int, destination_port: int, *, source=HOST_IP, destination=GUEST_IP,
        length=None, bad_checksum=False) -> bytes:
    size = length if length is not None else 8 + len(payload)
    header = struct.pack("!HHHH", source_port, destination_port, size, 0)
    pseudo = source + destination + struct.pack("!BBH", 0, 17, 8 + len(payload))
    value = checksum(pseudo + header + payload) or 0xFFFF
    if bad_checksum:
        value ^= 0x0F0F
    return header[:6] + struct.pack("!H", value) + payload


def icmp_echo(identifier: int, sequence: int, payload: bytes, kind: int = 8, bad_checksum=False) -> bytes:
    header = struct.pack("!BBHHH", kind, 0, 0, identifier, sequence)
    value = checksum(header + payload) ^ (0x00FF if bad_checksum else 0)
    return header[:2] + struct.pack("!H", value) + header[4:] + payload


def parse(frame: bytes) -> dict:
    """What the guest sent: Ethernet fields and, for IPv4, checked headers."""
    out = {"destination": frame[0:6], "source": frame[6:12], "type": struct.unpack("!H", frame[12:14])[0]}
    if out["type"] == ARP:
        fields = struct.unpack("!HHBBH6s4s6s4s", frame[14:42])
        out.update(operation=fields[4], sender_mac=fields[5], sender_ip=fields[6], target_mac=fields[7], target_ip=fields[8])
    elif out["type"] == IPV4:
        ip = frame[14:]
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        out.update(ip_ok=checksum(ip[:ihl]) == 0, protocol=ip[9], ttl=ip[8], ip_source=ip[12:16], ip_destination=ip[16:20])
        body = ip[ihl:total]
        if ip[9] == 17:
            pseudo = ip[12:20] + struct.pack("!BBH", 0, 17, len(body))
            out.update(udp_ok=checksum(pseudo + body) == 0, source_port=struct.unpack("!H", body[0:2])[0],
                       destination_port=struct.unpack("!H", body[2:4])[0], payload=body[8:])
        elif ip[9] == 1:
            out.update(icmp_ok=checksum(body) == 0, icmp_type=body[0], identifier=struct.unpack("!H", body[4:6])[0],
                       sequence=struct.unpack("!H", body[6:8])[0], payload=body[8:])
    return out
