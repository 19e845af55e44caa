#!/bin/bash
# `osio disk check`: clean images are clean (exit 0); a qcow2 with a leaked
# cluster (a refcount raised) gives 3, one with a cluster in use whose
# refcount is 0 gives 2, like qemu-img check; --repair fixes both so that
# qemu-img check is clean again and the data still reads back.
source "$(dirname "$0")/lib.sh" "$@"

# status CMD...: prints the exit status of CMD
status() {
	set +e
	"$@" >/dev/null 2>&1
	echo $?
	set -e
}

# u64 FILE OFFSET: a big-endian 64-bit number from a file
u64() {
	echo $((16#$(od -An -t x1 -j "$2" -N 8 "$1" | tr -d ' \n')))
}

# put16 FILE OFFSET VALUE: a big-endian 16-bit number into a file
put16() {
	printf "\\x$(printf %02x $(($3 >> 8)))\\x$(printf %02x $(($3 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

echo "== clean images"
for kind in $ALL_KINDS; do
	fmt=${kind%:*} type=${kind#*:}
	"$OSIO" disk create c-$type.$fmt --size 16M --type "$type" || {
		bad "create $fmt $type"
		continue
	}
	ref_new c.ref 16M
	writes_apply c-$type.$fmt c.ref "0:65536:1 8388608:1048576:2" >/dev/null || bad "write $fmt"
	[ "$(status "$OSIO" disk check c-$type.$fmt)" = 0 ] || bad "$fmt $type: check is not clean"
done

echo "== images qemu-img made are clean too"
for f in vhdx qcow2; do
	qemu-img create -q -f "$f" q.$f 64M
	[ "$(status "$OSIO" disk check q.$f)" = 0 ] || bad "qemu-img's fresh $f: check is not clean"
done

# A qcow2 with data; its refcount block holds 16-bit counts, one per cluster.
make_qcow2() {
	rm -f "$1" "$1.ref"
	ref_new "$1.ref" 16M
	ref_put "$1.ref" 0 196608 5
	ref_put "$1.ref" 8388608 65536 6
	qemu-img convert -f raw -O qcow2 "$1.ref" "$1"
	qemu-img check -q "$1" || fail "qemu-img made an unclean image"
}

echo "== a leaked cluster"
make_qcow2 leak.qcow2
size=$(stat -c %s leak.qcow2)
rt=$(u64 leak.qcow2 48)     # refcount_table_offset
rb=$(u64 leak.qcow2 "$rt")  # the first refcount block
free_cluster=$(((size + 65535) / 65536)) # a cluster added at the end: nothing uses it
truncate -s $(((free_cluster + 1) * 65536)) leak.qcow2
put16 leak.qcow2 $((rb + 2 * free_cluster)) 1
[ "$(status qemu-img check leak.qcow2)" = 3 ] || fail "the injected leak is no leak for qemu-img"
cp leak.qcow2 leak2.qcow2
[ "$(status "$OSIO" disk check leak.qcow2)" = 3 ] || bad "a leak: osio disk check does not exit 3"
"$OSIO" disk check leak.qcow2 >out.txt || true
grep -qi "leak" out.txt || bad "a leak: no line mentions it"
[ "$(status "$OSIO" disk check --repair leak.qcow2)" = 0 ] || bad "a leak: --repair does not end clean"
qemu-img check -q leak.qcow2 || bad "a leak: qemu-img check after osio's repair"
qemu-img compare -q -F raw leak.qcow2 leak.qcow2.ref || bad "a leak: the data changed in repair"

echo "== a cluster in use with refcount 0"
make_qcow2 bad.qcow2
rt=$(u64 bad.qcow2 48)
rb=$(u64 bad.qcow2 "$rt")
l1=$(u64 bad.qcow2 40)              # l1_table_offset
l2=$(($(u64 bad.qcow2 "$l1") & 0x00fffffffffffe00))
data=$(($(u64 bad.qcow2 "$l2") & 0x00fffffffffffe00)) # the first data cluster
put16 bad.qcow2 $((rb + 2 * (data / 65536))) 0
[ "$(status qemu-img check bad.qcow2)" = 2 ] || fail "the injected corruption is none for qemu-img"
[ "$(status "$OSIO" disk check bad.qcow2)" = 2 ] || bad "refcount 0: osio disk check does not exit 2"
[ "$(status "$OSIO" disk check --repair bad.qcow2)" = 0 ] || bad "refcount 0: --repair does not end clean"
qemu-img check -q bad.qcow2 || bad "refcount 0: qemu-img check after osio's repair"
qemu-img compare -q -F raw bad.qcow2 bad.qcow2.ref || bad "refcount 0: the data changed in repair"

echo "== a read-only check changes nothing"
sum=$(sha256sum <leak2.qcow2)
"$OSIO" disk check leak2.qcow2 >/dev/null || true
[ "$(sha256sum <leak2.qcow2)" = "$sum" ] || bad "osio disk check without --repair wrote the image"

echo "== errors"
[ "$(status "$OSIO" disk check missing.qcow2)" = 1 ] || bad "check of a missing file does not exit 1"
finish
