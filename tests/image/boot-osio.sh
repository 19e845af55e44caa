#!/usr/bin/env bash
# ctest image/osio-*: the osio workstation image (scripts/make-root-image.sh) booted in osio
# itself, a Generation 1 VM with SeaBIOS: from osio-root.iso in the DVD drive, or from a copy of
# osio-root.img on an IDE or a virtio disk. The image's console must come up on its serial port
# (COM1, a file here) and on its VGA text screen (osio run --screen-text) listing the demo VM, and
# say that KVM is unavailable (osio offers its guests no VMX/SVM). That needs hardware-backed
# KVM: on kvm_pvm the Debian kernel cannot boot in useful time, so there the test checks what can
# run (SeaBIOS boots the medium and the image's GRUB boots its entry) and then SKIPs (exit 77)
# with the reason. Without the image it SKIPs.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: boot-osio.sh --medium dvd|ide|virtio --osio PATH --outdir DIR [--image DIR]
                   [--timeout S]

  --medium M    dvd: osio-root.iso in the DVD drive; ide, virtio: a copy of osio-root.img
                as the disk on that bus
  --osio PATH   the osio binary
  --outdir DIR  the vmconfig, serial log and screen text go there
  --image DIR   the folder with osio-root.iso and osio-root.img (default: build/root-image;
                $OSIO_ROOT_IMAGE, a folder or one of the two files, overrides it)
  --timeout S   seconds the boot may take to show the console (default 300)
EOF
}

me=boot-osio
here=$(cd "$(dirname "$0")" && pwd)
medium='' osio='' outdir='' image=$here/../../build/root-image timeout_s=300
while (($#)); do
	case $1 in
	--medium) medium=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--image) image=${2-}; shift 2 ;;
	--timeout) timeout_s=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
case $medium in
dvd | ide | virtio) ;;
*) usage >&2; echo "$me: --medium must be dvd, ide or virtio" >&2; exit 2 ;;
esac
[ -n "$outdir" ] && [ -n "$osio" ] || { usage >&2; exit 2; }
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { echo "$me: --timeout '$timeout_s' is not seconds" >&2; exit 2; }

# shellcheck source=tests/image/lib.sh
. "$here/lib.sh"
image_find
hardware=yes
[ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ] || hardware=''
[ -x "$osio" ] || { echo "FAIL: no osio binary at $osio"; exit 1; }

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
rm -f "$outdir"/*.serial "$outdir"/*.txt "$outdir"/*.png "$outdir"/*.img "$outdir"/*.vmconfig \
	"$outdir"/*.out

fail() {
	echo "FAIL: $*"
	[ -s "$outdir/$medium.serial" ] && tail -c 2000 "$outdir/$medium.serial" | tr -d '\033' |
		sed 's/^/    serial: /'
	exit 1
}

# The VM: 2 GiB and 2 vCPUs as the README suggests, the console's serial port in a file.
cfg=$outdir/$medium.vmconfig
{
	printf '[vm]\nname = osio-image\nmemory = 2G\ncpus = 2\n\n'
	if [ "$medium" = dvd ]; then
		printf '[boot]\norder = dvd\n\n[dvd "live"]\nfile = "%s"\n\n' "$iso"
	else
		# A copy: the image's store partition is written by the boot.
		cp --sparse=always "$img" "$outdir/$medium.img"
		printf '[boot]\norder = disk\n\n[disk "system"]\nfile = "%s"\nformat = raw\nbus = %s\n\n' \
			"$outdir/$medium.img" "$medium"
	fi
	printf '[serial "com1"]\nbackend = file\npath = %s\n' "$outdir/$medium.serial"
} >"$cfg"

# kvm_pvm: the firmware and GRUB in about a minute, then the kernel's decompressor for hours.
if [ -z "$hardware" ]; then
	"$osio" run --quiet --timeout 100s --screen-text "$outdir/$medium.screen.txt" "$cfg" \
		>"$outdir/$medium.out" 2>&1 && rc=0 || rc=$?
	[ "$rc" = 124 ] || fail "osio run ended with status $rc before its timeout:" \
		"$(tail -3 "$outdir/$medium.out" | tr '\n' ' ')"
	grep -q "Booting \`osio workstation'" "$outdir/$medium.screen.txt" ||
		fail "SeaBIOS did not boot the image's GRUB from the $medium in 100 s (see" \
			"$outdir/$medium.screen.txt)"
	echo "ok: $medium: osio's SeaBIOS booted the image's GRUB, which boots its entry"
	echo "SKIP: /dev/kvm is not hardware-backed (no kvm_intel, kvm_amd$([ -d /sys/module/kvm_pvm ] &&
		echo '; it is kvm_pvm')): the image's Debian kernel cannot boot in osio in useful" \
		"time here (image/boot-* boot it in QEMU)"
	exit 77
fi

# The boot: osio run in the background; the screen's text is taken when the VM ends (below, or
# at the timeout).
start=$SECONDS
"$osio" run --quiet --timeout "${timeout_s}s" --screen-text "$outdir/$medium.screen.txt" "$cfg" >"$outdir/$medium.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
seen=''
while kill -0 $pid 2>/dev/null && ((SECONDS - start < timeout_s)); do
	sleep 5
	if [ -s "$outdir/$medium.serial" ] && strip "$outdir/$medium.serial" | grep -q 'KVMisunavailable' &&
		strip "$outdir/$medium.serial" | grep -q 'demo'; then
		seen=$((SECONDS - start))
		break
	fi
done
[ -n "$seen" ] || fail "no osio console listing demo on the serial port in ${timeout_s} s" \
	"($(tail -3 "$outdir/$medium.out" | tr '\n' ' '))"
echo "ok: $medium: the console on COM1 after $seen s, listing demo and saying KVM is unavailable"

# The VGA screen: osio's text-mode reader, when the VM is turned off a few seconds on (SIGINT).
sleep 5
kill -INT $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
trap - EXIT
[ -s "$outdir/$medium.screen.txt" ] ||
	fail "osio run left no screen text in $outdir/$medium.screen.txt"
grep -q 'demo' "$outdir/$medium.screen.txt" ||
	fail "the VGA screen does not list demo (see $outdir/$medium.screen.txt)"
grep -q 'KVM is unavailable' "$outdir/$medium.screen.txt" ||
	fail "the VGA screen does not say KVM is unavailable (see $outdir/$medium.screen.txt)"
echo "ok: $medium: the VGA text screen lists demo and says KVM is unavailable"
echo "$me: $medium passed"
