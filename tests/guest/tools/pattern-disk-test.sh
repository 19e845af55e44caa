#!/bin/bash
# ctest guest/disk-*: a guest disk program (idedisk, vblk) writes its checksummed pattern on a
# fresh image of one format, under QEMU TCG and under osio, each on an image of its own. Both
# must print the same lines (but "peer:") with RESULT: PASS; then each image must pass
# `qemu-img check` (formats that have one) and, converted to raw, hold exactly the sectors the
# guest says it wrote, each with its pattern, and zeroes everywhere else (pattern_check).
set -u

usage() {
	cat <<'EOF'
usage: pattern-disk-test.sh --osio PATH --kernel ELF --checker PATH --outdir DIR
                            --format raw|vhdx|vhd|qcow2 [--type dynamic|fixed]
                            [--bus ide|virtio] [--size SIZE] [--append ARGS]
                            [--cpus N] [--timeout S] [--vmm qemu|osio|both]

  --checker PATH  the pattern_check tool
  --type          VHDX/VHD subformat (default dynamic; raw and qcow2 ignore it)
  --size          the virtual disk's size (default 64M)
  --vmm           which VMMs run it (default both; the outputs are compared only with both)

Exit status 0 when everything holds, 1 on a failed check, 77 (skip) when /dev/kvm cannot be
used (QEMU alone still runs and must pass), 2 on bad usage.
EOF
}

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/guest/tools/pattern-lib.sh
. "$here/tools/pattern-lib.sh"
osio='' kernel='' checker='' outdir='' format='' type=dynamic bus=ide size=64M append='' cpus=1
timeout=120 vmms=both
while (($#)); do
	case $1 in
	--format) format=${2-}; shift 2 ;;
	--type) type=${2-}; shift 2 ;;
	--bus) bus=${2-}; shift 2 ;;
	--size) size=${2-}; shift 2 ;;
	--append) append=${2-}; shift 2 ;;
	--cpus) cpus=${2-}; shift 2 ;;
	--timeout) timeout=${2-}; shift 2 ;;
	--vmm) vmms=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*)
		pattern_opt "$1" "${2-}" ||
			{ usage >&2; echo "pattern-disk-test: unknown option '$1'" >&2; exit 2; }
		shift 2
		;;
	esac
done
bad() { echo "pattern-disk-test: $*" >&2; exit 2; }
[[ -n $kernel && -r $kernel ]] || bad "--kernel ELF is required and must be readable"
[[ -n $checker && -x $checker ]] || bad "--checker PATH (pattern_check) is required"
[[ -n $outdir ]] || bad "--outdir DIR is required"
[[ $format =~ ^(raw|vhdx|vhd|qcow2)$ ]] || bad "--format must be raw, vhdx, vhd or qcow2"
[[ $type =~ ^(dynamic|fixed)$ ]] || bad "--type must be dynamic or fixed"
[[ $bus =~ ^(ide|virtio)$ ]] || bad "--bus must be ide or virtio"
[[ $vmms =~ ^(qemu|osio|both)$ ]] || bad "--vmm must be qemu, osio or both"
command -v qemu-img >/dev/null || bad "qemu-img not found: install the Debian package qemu-utils"
mkdir -p "$outdir" || exit 2
rm -f "$outdir"/{qemu,osio}.{out,err,img,raw,check,pattern} "$outdir"/diff

# The image as qemu-img makes it: VHD is QEMU's "vpc" (force_size: the exact size, not one
# rounded to a CHS geometry).
create() {
	local img=$1 opts=()
	case $format in
	raw) opts=(-f raw) ;;
	qcow2) opts=(-f qcow2) ;;
	vhdx) opts=(-f vhdx -o "subformat=$type") ;;
	vhd) opts=(-f vpc -o "subformat=$type,force_size=on") ;;
	esac
	qemu-img create -q "${opts[@]}" "$img" "$size"
}
qemu_format() { [[ $format == vhd ]] && echo vpc || echo "$format"; }

run() {
	local vmm=$1 img=$outdir/$1.img rc
	create "$img" || { fail "$vmm: qemu-img create failed"; return 1; }
	"$here/run-guest.sh" --vmm "$vmm" --osio "$osio" --kernel "$kernel" --cpus "$cpus" \
		--timeout "$timeout" --append "$append" --disk "$img,bus=$bus,format=$format" \
		>"$outdir/$vmm.out" 2>"$outdir/$vmm.err"
	rc=$?
	echo "== $vmm: status $rc: $(grep '^RESULT:' "$outdir/$vmm.out" | tail -n1)"
	if ((rc != 0)) || ! grep -q '^RESULT: PASS' "$outdir/$vmm.out"; then
		fail "$vmm: the guest did not pass (status $rc); its output:"
		cat "$outdir/$vmm.out"
		sed 's/^/  /' "$outdir/$vmm.err" | tail -n 20
		return 1
	fi
	return 0
}

# The host's view of the image a VMM's guest wrote.
host_check() {
	local vmm=$1 img=$outdir/$1.img rc written
	qemu-img check -f "$(qemu_format)" "$img" >"$outdir/$vmm.check" 2>&1
	rc=$?
	# 63: the format has no check (raw, VHD).
	if ((rc == 63)); then
		echo "$vmm: qemu-img check: not supported for $format"
	elif ((rc != 0)); then
		fail "$vmm: qemu-img check finds the image wrong (status $rc):"
		cat "$outdir/$vmm.check"
	else
		echo "$vmm: qemu-img check: clean"
	fi
	if ! qemu-img convert -f "$(qemu_format)" -O raw "$img" "$outdir/$vmm.raw" \
		>"$outdir/$vmm.pattern" 2>&1; then
		fail "$vmm: qemu-img convert cannot read the image:"
		cat "$outdir/$vmm.pattern"
		return
	fi
	# idedisk says "written: N sectors"; vblk writes its whole "range: LBA S+N".
	written=$(sed -n 's/^written: \([0-9]*\) sectors.*/\1/p' "$outdir/$vmm.out" | tail -n1)
	[[ -n $written ]] ||
		written=$(sed -n 's/^range: LBA [0-9]*+\([0-9]*\).*/\1/p' "$outdir/$vmm.out" | tail -n1)
	if [[ -z $written ]]; then
		fail "$vmm: the guest printed neither 'written: N sectors' nor 'range: LBA S+N'"
		return
	fi
	pattern_verify "$outdir/$vmm.raw" "$written" "$outdir/$vmm.pattern" "$vmm: "
	rm -f "$outdir/$vmm.raw"
}

kvm_ok=1
[[ -r /dev/kvm && -w /dev/kvm ]] || kvm_ok=0
ran=()
for vmm in qemu osio; do
	[[ $vmms == both || $vmms == "$vmm" ]] || continue
	if [[ $vmm == osio ]] && ((!kvm_ok)); then
		echo "osio: skipped: /dev/kvm cannot be used here"
		continue
	fi
	run "$vmm" && host_check "$vmm"
	ran+=("$vmm")
done
if ((${#ran[@]} == 2)) && [[ -s $outdir/qemu.out && -s $outdir/osio.out ]]; then
	if diff <(grep -v '^peer:' "$outdir/qemu.out") <(grep -v '^peer:' "$outdir/osio.out") \
		>"$outdir/diff"; then
		echo "the same output from QEMU and osio"
	else
		fail "QEMU and osio printed different lines (< QEMU, > osio):"
		cat "$outdir/diff"
	fi
fi
if ((failures)); then
	echo "RESULT: FAIL $failures"
	exit 1
fi
if [[ $vmms != qemu ]] && ((!kvm_ok)); then
	exit 77
fi
echo "RESULT: PASS"
exit 0
