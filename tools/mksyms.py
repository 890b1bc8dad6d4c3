#!/usr/bin/env python3
"""Writes the kernel symbol table boot module that backtraces are named from.

Reads `llvm-nm -n --defined-only` output for kernel.elf on stdin, keeps the code
symbols (t/T) in the higher half, demangles Swift names with the toolchain's
swift-demangle, and writes the format kernel/trap/KernelSymbols.swift reads:

    "APUSSYM1", u32 count, u32 strings offset,
    count x { u64 address, u32 name offset, u32 name length }  (sorted by address),
    names (UTF-8, not terminated)

Usage: llvm-nm -n --defined-only out/kernel.elf | tools/mksyms.py SWIFT_DEMANGLE OUT
"""
import struct
import subprocess
import sys

KERNEL_MINIMUM = 0xFFFF800000000000  # the higher half; the 32-bit trampoline is unnamed


def main() -> None:
    demangler, output = sys.argv[1], sys.argv[2]
    symbols = []
    for line in sys.stdin:
        fields = line.split()
        if len(fields) != 3 or fields[1] not in ("t", "T"):
            continue
        address = int(fields[0], 16)
        if address >= KERNEL_MINIMUM:
            symbols.append((address, fields[2]))
    mangled = "\n".join(name for _, name in symbols) + "\n"
    demangled = subprocess.run(
        [demangler, "--simplified", "--compact"], input=mangled, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    if len(demangled) != len(symbols):
        sys.exit(f"mksyms: {demangler} returned {len(demangled)} names for {len(symbols)} symbols")

    # Several names at one address (aliases): keep the first, they are equivalent.
    entries, strings, seen = [], bytearray(), set()
    for (address, _), name in sorted(zip(symbols, demangled), key=lambda item: item[0][0]):
        if address in seen:
            continue
        seen.add(address)
        encoded = name.encode("utf-8")
        entries.append((address, len(strings), len(encoded)))
        strings += encoded
    header_size, entry_size = 16, 16
    strings_offset = header_size + entry_size * len(entries)
    with open(output, "wb") as out:
        out.write(b"APUSSYM1" + struct.pack("<II", len(entries), strings_offset))
        for address, offset, length in entries:
            out.write(struct.pack("<QII", address, offset, length))
        out.write(strings)


if __name__ == "__main__":
    main()
