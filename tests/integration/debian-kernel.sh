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
here=$(cd "$(dirname "$0")" && pwd)
fetch=$here/../../scripts/fetch-guest-artefacts.sh
vmm='' osio='' outdir='' timeout_s=300
mem=512M cpus=2
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--timeout) timeout_s=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
case $vmm in
osio | qemu) ;;
*) usage >&2; echo "$me: --vmm must be osio or qemu" >&2; exit 2 ;;
esac
if ! [[ $timeout_s =~ ^[1-9][0-9]*$ ]]; then
	echo "$me: --timeout '$timeout_s' is not a number of seconds" >&2
	exit 2
fi

if [ "$vmm" = osio ]; then
	# On kvm_pvm every guest kernel instruction is emulated: hours in the decompressor.
	if [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
		why="a stock Debian kernel cannot boot in useful time here"
		if [ -d /sys/module/kvm_pvm ]; then
			echo "SKIP: /dev/kvm is kvm_pvm (no hardware virtualization): $why"
		else
			echo "SKIP: /dev/kvm is not hardware-backed (no kvm_intel, kvm_amd): $why"
		fi
		exit 77
	fi
	if [ -z "$osio" ] || [ ! -x "$osio" ]; then
		echo "FAIL: no osio binary (pass --osio PATH)"
		exit 1
	fi
else
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "FAIL: qemu-system-x86_64 not found: install qemu-system-x86 (install-deps.sh)"
		exit 1
	fi
fi

if [ -z "$outdir" ]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/debian-kernel.XXXXXX")
fi
mkdir -p "$outdir"
out=$outdir/$vmm.out err=$outdir/$vmm.err
rm -f "$out" "$err"

if ! paths=$("$fetch" 2>"$outdir/fetch.err"); then
	echo "FAIL: cannot get the Debian guest artefacts: $(tail -n 1 "$outdir/fetch.err")"
	exit 1
fi
kernel=$(sed -n 's/^kernel=//p' <<<"$paths")
initramfs=$(sed -n 's/^initramfs=//p' <<<"$paths")
if [ ! -r "$kernel" ] || [ ! -r "$initramfs" ]; then
	echo "FAIL: fetch-guest-artefacts.sh gave no kernel/initramfs"
	exit 1
fi
echo "$me: $(basename "$kernel") + $(basename "$initramfs") in $vmm, $cpus vCPUs, $mem"

# panic=-1 turns a panic into a reboot, which ends both VMMs at once; the kernel's
# "reboot: Power down" line then tells a power-off from that.
append="console=ttyS0 panic=-1"
case $vmm in
osio)
	cmd=("$osio" run --kernel "$kernel" --initrd "$initramfs" --append "$append"
		--memory "$mem" --cpus "$cpus" --on-reboot exit)
	;;
qemu)
	cmd=(qemu-system-x86_64 -accel tcg -M pc -m "$mem" -smp "$cpus" -nodefaults
		-display none -serial stdio -monitor none -no-reboot
		-kernel "$kernel" -initrd "$initramfs" -append "$append")
	;;
esac
start=$(date +%s)
set +e
timeout -k 10 "$timeout_s" "${cmd[@]}" </dev/null >"$out" 2>"$err"
status=$?
set -e
secs=$(($(date +%s) - start))
tr -d '\r' <"$out" >"$out.txt"

fail() {
	echo "FAIL: $*"
	echo "--- last console lines ($out):"
	tail -n 25 "$out.txt"
	if [ -s "$err" ]; then
		echo "--- $vmm messages ($err):"
		tail -n 10 "$err"
	fi
	exit 1
}

if [ "$status" = 124 ] || [ "$status" = 137 ]; then
	fail "the guest did not finish within $timeout_s s"
fi
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
grep -aq 'reboot: Power down' "$out.txt" || fail "the guest did not power off (panic or reboot?)"
[ "$status" = 0 ] || fail "$vmm exited with status $status after the guest powered off"
echo "PASS: $marker, powered off, $vmm status 0, in $secs s"
