#!/usr/bin/env bash
# ctest integration/debian-kernel(-qemu): the Debian kernel + busybox initramfs with 2 vCPUs and
# 512 MiB in osio (hardware KVM only) or QEMU TCG; /init must see 2 CPUs, the guest power off.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: debian-kernel.sh --vmm osio|qemu [--osio PATH] [--outdir DIR] [--timeout S]

  --vmm osio   boot in osio; skipped (exit 77) unless kvm_intel or kvm_amd is loaded
  --vmm qemu   boot in QEMU TCG: proves the artefacts and /init are right
  --osio PATH  the osio binary
  --outdir DIR keep the console output there (default: a new temporary directory)
  --timeout S  give up on the guest after S seconds (default 300)
The kernel and initramfs come from scripts/fetch-guest-artefacts.sh (Debian archive needed).
EOF
}

me=debian-kernel
timeout_s=300
mem=512M cpus=2
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
deb_parse_args "$@"
deb_check_vmm
deb_outdir
deb_fetch
echo "$me: $(basename "$kernel") + $(basename "$initramfs") in $vmm, $cpus vCPUs, $mem"

# panic=-1 turns a panic into a reboot, which ends both VMMs at once; the kernel's
# "reboot: Power down" line then tells a power-off from that.
append="console=ttyS0 panic=-1"
# shellcheck disable=SC2034 # deb_boot's extra arguments: none
no_args=()
deb_boot "$append" "$initramfs" no_args no_args
marker=$(grep -a -m 1 -o 'OSIO-GUEST-UP cpus=[0-9]* mem=[0-9]*' "$out.txt" || true)
[ -n "$marker" ] || fail "no OSIO-GUEST-UP line from /init after $secs s (status $status)"
seen_cpus=${marker#*cpus=}
seen_cpus=${seen_cpus%% *}
seen_mem=${marker##*mem=}
[ "$seen_cpus" = "$cpus" ] || fail "the guest saw $seen_cpus processors, not $cpus"
# MemTotal is RAM less what the kernel keeps for itself: a few tens of MiB of 512 MiB.
if [ "$seen_mem" -lt 400000 ] || [ "$seen_mem" -gt 524288 ]; then
	fail "the guest saw MemTotal $seen_mem kB, not what 512 MiB of RAM gives"
fi
deb_powered_off
echo "PASS: $marker, powered off, $vmm status 0, in $secs s"
