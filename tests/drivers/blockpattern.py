"""The pattern user/tests/blkclient.c writes: the 8-byte little-endian word at disk byte
offset o is mix(o ^ SEED), splitmix64's finaliser. The host recomputes it to check
what the guest wrote, and writes it into images the guest only reads."""
import struct

SEED = 0x41707573424C4B30  # "ApusBLK0"
MASK = (1 << 64) - 1
REGION_OFFSET = 2048 * 512  # blkclient's rw region: 8 MiB from 1 MiB
REGION_BYTES = 8 << 20


def mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def pattern(offset: int, length: int) -> bytes:
    return b"".join(struct.pack("<Q", mix((offset + i) ^ SEED)) for i in range(0, length, 8))
