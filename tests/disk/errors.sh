#!/bin/bash
# `osio disk` as users meet it: each mistake gets one line that names the
# file (or option) and the fix, and the documented exit status; --help.
source "$(dirname "$0")/lib.sh" "$@"

# expect STATUS PATTERN CMD...: CMD exits STATUS and its stderr matches PATTERN
expect() {
	local want=$1 pat=$2 st=0
	shift 2
	"$@" >out.txt 2>err.txt || st=$?
	[ "$st" = "$want" ] || bad "'$*': exit status $st, not $want ($(cat err.txt))"
	grep -Eq -- "$pat" err.txt || bad "'$*': the message '$(cat err.txt)' does not match '$pat'"
	[ "$(wc -l <err.txt)" -le 1 ] || bad "'$*': more than one line: $(cat err.txt)"
}

"$OSIO" disk create a.vhdx --size 1M || fail "osio disk create a.vhdx"
expect 1 "a.vhdx: exists already; choose another name or delete it first" \
	"$OSIO" disk create a.vhdx --size 1M
expect 2 "b.vhdx: how large\? Give --size" "$OSIO" disk create b.vhdx
expect 2 "--size: '20X' is not a size" "$OSIO" disk create b.vhdx --size 20X
expect 2 "--size: 1000 is not a multiple of 512 bytes; round it, e.g. to 1024" \
	"$OSIO" disk create b.vhdx --size 1000
expect 2 "b.img: unknown format 'vmdk'; use vhdx, vhd, qcow2 or raw" \
	"$OSIO" disk create b.img --size 1M --format vmdk
expect 2 "unknown disk type 'thin'; use dynamic or fixed" \
	"$OSIO" disk create b.img --size 1M --type thin
expect 2 "b.qcow2: only VHDX disks have 4096-byte sectors" \
	"$OSIO" disk create b.qcow2 --size 1M --sector-size 4096
expect 2 "b.img: a raw image has no parent; use --format vhdx or qcow2" \
	"$OSIO" disk create b.img --parent a.vhdx
expect 1 "b.vhdx: parent .*nothere.vhdx: No such file" \
	"$OSIO" disk create b.vhdx --parent nothere.vhdx
expect 2 "unknown option '--bogus'" "$OSIO" disk create b.vhdx --bogus
expect 2 "unknown command 'frobnicate'" "$OSIO" disk frobnicate
[ ! -e b.vhdx ] && [ ! -e b.img ] && [ ! -e b.qcow2 ] || bad "a refused create left a file"

expect 1 "missing.vhdx" "$OSIO" disk info missing.vhdx
expect 1 "missing.vhdx" "$OSIO" disk convert missing.vhdx out.qcow2
expect 1 "a.vhdx: exists already" "$OSIO" disk convert a.vhdx a.vhdx
expect 1 "missing.qcow2" "$OSIO" disk check missing.qcow2
expect 1 "missing.qcow2" "$OSIO" disk resize missing.qcow2 +1M
expect 1 "a.vhdx: disks do not shrink" "$OSIO" disk resize a.vhdx 512K
[ ! -e out.qcow2 ] || bad "a failed convert left its destination"

# A file no format claims is a raw disk; a truncated VHDX is refused by name.
head -c 1048576 /dev/urandom >noise.bin
"$OSIO" disk info --json noise.bin >noise.json || bad "info on a file of noise"
[ "$(json_get noise.json format)" = raw ] || bad "noise.bin is not raw"
head -c 70000 a.vhdx >trunc.vhdx
expect 1 "trunc.vhdx" "$OSIO" disk info trunc.vhdx

# Sizes with units, read back through the block layer
for spec in 512:512 1.5M:1572864 100M:104857600 20G:21474836480 1.5T:1649267441664 \
	2KiB:2048 3g:3221225472; do
	rm -f s.img
	"$OSIO" disk create s.img --size "${spec%%:*}" || {
		bad "--size ${spec%%:*} refused"
		continue
	}
	[ "$("$BLKIO" -r s.img size)" = "${spec#*:}" ] || bad "--size ${spec%%:*} is not ${spec#*:} bytes"
done
rm -f s.img

for sub in "" create info convert resize check; do
	"$OSIO" disk $sub --help >help.txt || bad "osio disk $sub --help fails"
	grep -q "usage: osio disk" help.txt || bad "osio disk $sub --help has no usage line"
done
"$OSIO" help | grep -q "disk" || bad "osio help does not list disk"
finish
