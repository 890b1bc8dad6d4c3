#!/usr/bin/env bash
# The one QEMU runner: `make run`, the pytest harness and `make bench` all boot Apus
# through this script, so a flag changed here changes it everywhere.
#
# Exit status is QEMU's own: 33 = the kernel halted cleanly, 35 = kernel panic (both
# from isa-debug-exit, DESIGN.md §3), 124 = --timeout expired, anything else = QEMU
# failed or the guest reset (a triple fault, with -no-reboot).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: tools/run_qemu.sh [options] [-- extra qemu args]
  --iso FILE           image to boot (default: out/apus.iso)
  --uefi               boot through OVMF (UEFI) instead of SeaBIOS
  --cmdline STR        kernel options, passed as fw_cfg file opt/apus/cmdline
  --cmdline-file FILE  the same, read from a file (any bytes, for hostile tests)
  --disk FILE          attach FILE as a virtio-blk disk (raw, modern virtio-blk-pci;
                       repeat for more disks: block0, block1, ... in order)
  --disk-ro FILE       the same, read-only (the device offers VIRTIO_BLK_F_RO)
  --net                add a virtio-net card (modern, mac 52:54:00:12:34:56) on QEMU's
                       user network (10.0.2.0/24, DHCP, gateway 10.0.2.2) with
                       hostfwd=udp:127.0.0.1:PORT-:7: host datagrams to PORT reach
                       the guest's port 7 (udpecho); the port is announced on stderr
  --net-port PORT      that PORT (default: a free one)
  --net-frames Q:H     instead of the user network, a raw Ethernet wire to the host:
                       QEMU takes frames for the card as UDP datagrams on
                       127.0.0.1:Q and sends the card's frames to 127.0.0.1:H
  --timeout S          kill QEMU after S seconds (exit 124)
  --gdb                start paused with a gdb stub on tcp::1234
  --icount             -icount shift=0: the guest TSC counts instructions (benchmarks)
  --dry-run            print the QEMU command and exit
USAGE
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
iso="$root/out/apus.iso"
uefi=0 gdb=0 icount=0 dry_run=0
timeout_s="" cmdline="" cmdline_file="" have_cmdline=0
net=0 net_port="" net_frames=""
disks=()
extra=()

while (($#)); do
  case "$1" in
    --iso) iso=$2; shift 2 ;;
    --uefi) uefi=1; shift ;;
    --cmdline) cmdline=$2; have_cmdline=1; shift 2 ;;
    --cmdline-file) cmdline_file=$2; shift 2 ;;
    --disk) disks+=("rw:$2"); shift 2 ;;
    --disk-ro) disks+=("ro:$2"); shift 2 ;;
    --net) net=1; shift ;;
    --net-port) net=1; net_port=$2; shift 2 ;;
    --net-frames) net_frames=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --gdb) gdb=1; shift ;;
    --icount) icount=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run_qemu: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -f "$iso" ]] || { echo "run_qemu: $iso not found (run: make image)" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/apus-qemu.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

qemu=(qemu-system-x86_64
  -machine q35 -cpu qemu64,+smep,+smap -m 512M
  -serial stdio -display none -monitor none -no-reboot
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -cdrom "$iso" -boot d)

if ((uefi)); then
  # OVMF wants a writable copy of its variable store; each run gets its own so
  # parallel runs never share one.
  code="" vars=""
  for pair in "OVMF_CODE_4M.fd OVMF_VARS_4M.fd" "OVMF_CODE.fd OVMF_VARS.fd"; do
    set -- $pair
    if [[ -f /usr/share/OVMF/$1 && -f /usr/share/OVMF/$2 ]]; then
      code=/usr/share/OVMF/$1 vars=/usr/share/OVMF/$2; break
    fi
  done
  [[ -n "$code" ]] || { echo "run_qemu: OVMF not found (run: make deps)" >&2; exit 2; }
  cp "$vars" "$scratch/vars.fd"
  qemu+=(-drive "if=pflash,format=raw,readonly=on,file=$code"
         -drive "if=pflash,format=raw,file=$scratch/vars.fd")
fi

# The command line travels as a file, so any byte (even a comma, which QEMU's option
# syntax would split on) reaches the kernel unchanged.
if ((have_cmdline)); then
  printf '%s' "$cmdline" > "$scratch/cmdline"
  cmdline_file="$scratch/cmdline"
fi
if [[ -n "$cmdline_file" ]]; then
  qemu+=(-fw_cfg "name=opt/apus/cmdline,file=$cmdline_file")
fi

# Each disk is a virtio-blk-pci device with the modern interface only
# (disable-legacy=on: id 1af4:1042), which is all blkdevd speaks.
index=0
for entry in "${disks[@]}"; do
  mode=${entry%%:*} file=${entry#*:}
  readonly_opt=""
  [[ $mode == ro ]] && readonly_opt=",readonly=on"
  qemu+=(-drive "if=none,id=disk$index,format=raw,file=$file$readonly_opt"
         -device "virtio-blk-pci,drive=disk$index,disable-legacy=on")
  index=$((index + 1))
done
# The network card: modern virtio-net only (disable-legacy=on: id 1af4:1041), which is
# all netd speaks.
nic=(-device "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
if [[ -n "$net_frames" ]]; then
  qemu+=(-netdev "socket,id=net0,udp=127.0.0.1:${net_frames#*:},localaddr=127.0.0.1:${net_frames%%:*}" "${nic[@]}")
elif ((net)); then
  if [[ -z "$net_port" ]]; then
    net_port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  fi
  echo "run_qemu: host udp 127.0.0.1:$net_port -> guest port 7" >&2
  qemu+=(-netdev "user,id=net0,hostfwd=udp:127.0.0.1:$net_port-:7" "${nic[@]}")
fi
((gdb)) && qemu+=(-s -S)
((icount)) && qemu+=(-icount shift=0)
qemu+=("${extra[@]}")

if ((dry_run)); then
  printf '%q ' "${qemu[@]}"; echo
  exit 0
fi

if [[ -n "$timeout_s" ]]; then
  status=0
  timeout --kill-after=5 "$timeout_s" "${qemu[@]}" || status=$?
  exit "$status"
fi
status=0
"${qemu[@]}" || status=$?
exit "$status"
