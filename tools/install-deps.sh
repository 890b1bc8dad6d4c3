#!/usr/bin/env bash
# Installs whatever Apus needs from Debian's packages and PyPI that is not here yet.
# Idempotent and silent when nothing is missing: `make` calls it on every run through a
# cheap stamp check (see the Makefile's `deps` target), so a fresh machine needs no step.
set -euo pipefail

DEBIAN_PACKAGES=(
  qemu-system-x86   # the emulator every boot test runs in
  grub-pc-bin       # GRUB for BIOS (SeaBIOS) boot
  grub-efi-amd64-bin # GRUB for UEFI (OVMF) boot
  grub-common       # grub-mkrescue
  xorriso           # ISO 9660 writer behind grub-mkrescue
  mtools            # FAT image for the EFI system partition inside the ISO
  ovmf              # UEFI firmware for QEMU
  libclang-dev      # the generator reads C layout through libclang
  libxml2-dev       # the generator reads and validates spec/*.xml
  e2fsprogs         # mke2fs/e2fsck for the ext2 disk images (M6)
  gdb               # make debug, and the test that gdb stops at Swift source lines
  cpio
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  # `dpkg-query` is the cheap check: no network, no lock.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import pytest' 2>/dev/null; then
  echo "install-deps: installing pytest" >&2
  python3 -m pip install --quiet pytest
fi
