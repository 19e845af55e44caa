#!/bin/bash
# ctest guest/tools-selftest: the screenshot comparator and the disk checker of the boot-media
# tests must tell equal from different (so that a passing differential test means something).
set -u

if (($# != 3)); then
	echo "usage: selftest.sh IMGCMP MKMEDIA WORKDIR" >&2
	exit 2
fi
imgcmp=$1 mkmedia=$2 dir=$3
mkdir -p "$dir" && rm -f "$dir"/*
failures=0

# expect STATUS WHAT COMMAND...: the command must exit with STATUS.
expect() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$dir/last.out" 2>&1
	rc=$?
	if ((rc == want)); then
		echo "ok: $what (status $rc)"
	else
		echo "FAIL: $what: status $rc, expected $want"
		sed 's/^/    /' "$dir/last.out"
		failures=$((failures + 1))
	fi
}

# ppm FILE W H [X Y RRGGBB]: a grey W x H picture, optionally with one pixel changed.
ppm() {
	local f=$1 w=$2 h=$3 x=${4--1} y=${5--1} rgb=${6-000000}
	{
		printf 'P6\n%u %u\n255\n' "$w" "$h"
		for ((j = 0; j < h; j++)); do
			for ((i = 0; i < w; i++)); do
				if ((i == x && j == y)); then
					printf "\\x${rgb:0:2}\\x${rgb:2:2}\\x${rgb:4:2}"
				else
					printf '\x80\x80\x80'
				fi
			done
		done
	} >"$f"
}

ppm "$dir/a.ppm" 16 8
ppm "$dir/b.ppm" 16 8
ppm "$dir/c.ppm" 16 8 5 3 ff0000
ppm "$dir/d.ppm" 8 8
expect 0 "imgcmp: identical pictures" "$imgcmp" "$dir/a.ppm" "$dir/b.ppm"
expect 1 "imgcmp: one pixel differs" "$imgcmp" "$dir/a.ppm" "$dir/c.ppm"
expect 0 "imgcmp: ... inside a mask" "$imgcmp" "$dir/a.ppm" "$dir/c.ppm" --mask 4,2,2,2
expect 1 "imgcmp: ... just outside a mask" "$imgcmp" "$dir/a.ppm" "$dir/c.ppm" --mask 6,2,2,2
expect 1 "imgcmp: sizes differ" "$imgcmp" "$dir/a.ppm" "$dir/d.ppm"
expect 0 "imgcmp: probe right" "$imgcmp" "$dir/c.ppm" --probe 5,3,ff0000
expect 1 "imgcmp: probe wrong" "$imgcmp" "$dir/c.ppm" --probe 5,3,00ff00
expect 1 "imgcmp: expected size wrong" "$imgcmp" "$dir/a.ppm" --size 640x480
expect 1 "imgcmp: a plain picture has too few colours" "$imgcmp" "$dir/a.ppm" --min-colours 2
expect 0 "imgcmp: PNG round trip" "$imgcmp" "$dir/c.ppm" --png "$dir/c.png"
expect 0 "imgcmp: the PNG equals the PPM" "$imgcmp" "$dir/c.ppm" "$dir/c.png"
expect 2 "imgcmp: a missing file is an error" "$imgcmp" "$dir/none.ppm" "$dir/a.ppm"

# A disk: 2 sectors of boot image, header, pattern; write range 40+8.
head -c 1000 /dev/zero >"$dir/boot.bin"
expect 0 "mkmedia: builds a disk" "$mkmedia" disk "$dir/disk.img" "$dir/boot.bin" 64 40 8
cp "$dir/disk.img" "$dir/copy.img"
expect 1 "mkmedia: an unwritten write range is reported" "$mkmedia" check-disk "$dir/copy.img" \
	"$dir/disk.img"
cp "$dir/disk.img" "$dir/copy.img"
printf 'x' | dd of="$dir/copy.img" bs=1 seek=$((20 * 512 + 7)) conv=notrunc status=none
expect 1 "mkmedia: a change outside the write range is reported" "$mkmedia" check-disk \
	"$dir/copy.img" "$dir/disk.img"
expect 1 "mkmedia: a write range past the end is refused" "$mkmedia" disk "$dir/bad.img" \
	"$dir/boot.bin" 64 60 8

if ((failures)); then
	echo "FAIL: $failures tool checks"
	exit 1
fi
echo "PASS: imgcmp and mkmedia tell equal from different"
