#!/bin/bash
# Makes seed images of one format (with qemu-img, qemu-io and osio) and runs
# the mutation fuzzer on them for a bounded time.
# usage: run.sh FORMAT OSIO BLKIO FUZZ WORKDIR SECONDS
set -euo pipefail
fmt=$1 OSIO=$2 BLKIO=$3 FUZZ=$4 WORK=$5 SECONDS_=$6
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	echo "SKIP: qemu-img and qemu-io are needed for the seeds (Debian package qemu-utils)"
	exit 77
fi
# The inputs are written and synced thousands of times: on tmpfs where
# there is one (failures are copied to WORKDIR to be kept).
rm -rf "$WORK"
mkdir -p "$WORK"
KEEP=$WORK
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	WORK=$(mktemp -d /dev/shm/osio-fuzz-$fmt.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
fi
cd "$WORK"

# seed NAME: the image exists and becomes a seed; a missing one fails.
seeds=()
seed() {
	[ -s "$1" ] || {
		echo "FAIL: seed $1 was not made" >&2
		exit 1
	}
	seeds+=("$1")
}
# A little data through qemu-io, spread over several blocks, and a zero
# range: small, so that most sectors that are not zero are metadata, where
# the fuzzer aims.
qio() {
	qemu-io -f "$1" -c "write -P 0x11 0 4k" -c "write -P 0x22 1M 512" -c "write -P 0x33 5M 4k" \
		-c "write -P 0x44 3M 512" -c "write -z 2M 64k" "$2" >/dev/null
}
# the same through osio
oio() {
	"$BLKIO" "$1" w:0:4K:1 w:1M:512:2 w:5M:4K:3 w:8384512:4096:4 flush
}

case $fmt in
qcow2)
	qemu-img create -q -f qcow2 q-base.qcow2 8M && qio qcow2 q-base.qcow2 && seed q-base.qcow2
	qemu-img create -q -f qcow2 -b q-base.qcow2 -F qcow2 q-over.qcow2 &&
		qemu-io -f qcow2 -c "write -P 0x44 64k 128k" -c "write -z 5M 64k" q-over.qcow2 >/dev/null &&
		seed q-over.qcow2
	qemu-img convert -c -O qcow2 q-base.qcow2 q-comp.qcow2 && seed q-comp.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=4096 q-4k.qcow2 8M && qio qcow2 q-4k.qcow2 &&
		seed q-4k.qcow2
	qemu-img create -q -f qcow2 -o refcount_bits=1,lazy_refcounts=on q-rc1.qcow2 8M &&
		qio qcow2 q-rc1.qcow2 && seed q-rc1.qcow2
	"$OSIO" disk create o.qcow2 --size 8M && oio o.qcow2 && seed o.qcow2
	"$OSIO" disk create o-child.qcow2 --parent o.qcow2 && "$BLKIO" o-child.qcow2 w:2M:64K:5 &&
		seed o-child.qcow2
	;;
vhdx)
	qemu-img create -q -f vhdx -o block_size=1M q-dyn.vhdx 8M && qio vhdx q-dyn.vhdx &&
		seed q-dyn.vhdx
	qemu-img create -q -f vhdx -o subformat=fixed,block_size=1M q-fixed.vhdx 8M &&
		qio vhdx q-fixed.vhdx && seed q-fixed.vhdx
	qemu-img create -q -f vhdx q-default.vhdx 8M && qio vhdx q-default.vhdx && seed q-default.vhdx
	"$OSIO" disk create o.vhdx --size 8M --block-size 1M && oio o.vhdx && seed o.vhdx
	"$OSIO" disk create o-4k.vhdx --size 8M --block-size 1M --sector-size 4096 && oio o-4k.vhdx &&
		seed o-4k.vhdx
	"$OSIO" disk create o-child.vhdx --parent o.vhdx && "$BLKIO" o-child.vhdx w:2M:64K:5 &&
		seed o-child.vhdx
	;;
vhd)
	qemu-img create -q -f vpc -o force_size=on q-dyn.vhd 8M && qio vpc q-dyn.vhd && seed q-dyn.vhd
	qemu-img create -q -f vpc -o subformat=fixed,force_size=on q-fixed.vhd 8M &&
		qio vpc q-fixed.vhd && seed q-fixed.vhd
	qemu-img create -q -f vpc q-chs.vhd 8M && qio vpc q-chs.vhd && seed q-chs.vhd
	"$OSIO" disk create o.vhd --size 8M && oio o.vhd && seed o.vhd
	"$OSIO" disk create o-fixed.vhd --size 8M --type fixed && oio o-fixed.vhd && seed o-fixed.vhd
	;;
raw)
	# raw files, and the first 64 KiB of each other format: what probing sees
	qemu-img create -q -f raw r.img 4M && qio raw r.img && seed r.img
	head -c 1536 /dev/urandom >r-odd.img && seed r-odd.img
	for f in qcow2 vhdx vpc; do
		qemu-img create -q -f $f h.$f 8M && qio $f h.$f && head -c 65536 h.$f >head-$f.img &&
			seed head-$f.img
	done
	tail -c 512 h.vpc >tail-vpc.img && seed tail-vpc.img
	;;
*)
	echo "unknown format $fmt" >&2
	exit 2
	;;
esac

args=(--dir "$WORK" --seconds "$SECONDS_")
[ "$fmt" = raw ] || args+=(--format "$fmt")
st=0
"$FUZZ" "${args[@]}" "${seeds[@]}" || st=$?
if [ "$st" != 0 ] && [ "$WORK" != "$KEEP" ]; then
	cp -a "$WORK"/. "$KEEP"/
	echo "fuzz: the seeds and the failing input are kept in $KEEP" >&2
fi
exit "$st"
