#!/bin/bash
# Images `osio disk create` makes, written through osio's block layer: for
# every format and type, qemu-img check finds them clean and qemu-img
# compare finds them identical to a raw file holding the same bytes; also
# 4 KiB-sector VHDX and differencing images (VHDX parent, qcow2 backing).
source "$(dirname "$0")/lib.sh" "$@"

for kind in $ALL_KINDS; do
	fmt=${kind%:*} type=${kind#*:}
	img=$kind.$fmt img=${img/:/-}
	ref=${img%.*}.ref
	echo "== $fmt $type"
	if ! "$OSIO" disk create "$img" --format "$fmt" --type "$type" --size 64M; then
		bad "$fmt $type: osio disk create failed"
		continue
	fi
	ref_new "$ref" 64M
	if ! writes_apply "$img" "$ref" "$WRITES64"; then
		bad "$fmt $type: writing through osio failed"
		continue
	fi
	writes_verify "$img" "$WRITES64" || bad "$fmt $type: osio reads back other bytes"
	qcheck "$fmt" "$img" || bad "$fmt $type: qemu-img check is not clean"
	qemu-img compare -f "$(qfmt "$fmt")" -F raw "$img" "$ref" ||
		bad "$fmt $type: qemu-img compare: not what osio wrote"
	info=$(qemu-img info --output=json -f "$(qfmt "$fmt")" "$img") ||
		bad "$fmt $type: qemu-img info fails"
	vs=$(jq -r '."virtual-size"' <<<"$info")
	[ "$vs" = 67108864 ] || bad "$fmt $type: qemu-img sees $vs bytes, not 64 MiB"
done

# osio_same IMAGE REF WHAT: osio's own view of IMAGE (converted to raw) is REF
osio_same() {
	rm -f view.raw
	"$OSIO" disk convert "$1" view.raw && cmp -s view.raw "$2" || bad "$3: osio reads other bytes"
}

# QEMU opens neither 4 KiB-sector nor differencing VHDX images ("Operation
# not supported"): those are checked through osio alone.
echo "== vhdx with 4096-byte sectors"
if "$OSIO" disk create s4k.vhdx --size 64M --sector-size 4096; then
	ref_new s4k.ref 64M
	writes_apply s4k.vhdx s4k.ref "$WRITES64_4K" || bad "4K vhdx: writing failed"
	osio_same s4k.vhdx s4k.ref "4K vhdx"
	"$OSIO" disk info --json s4k.vhdx >s4k.json || bad "4K vhdx: osio disk info"
	[ "$(json_get s4k.json logical-sector-size)" = 4096 ] ||
		bad "4K vhdx: logical sector size is not 4096"
	[ "$("$OSIO" disk check s4k.vhdx >/dev/null && echo ok)" = ok ] || bad "4K vhdx: check"
else
	bad "osio disk create --sector-size 4096 failed"
fi

# Differencing: the parent holds one set of writes (made before the child:
# writing a VHDX parent afterwards breaks the chain, as in Hyper-V), the
# child another on top; the child reads as both, the parent stays as it was.
for fmt in vhdx qcow2; do
	echo "== $fmt with a parent"
	base=base-$fmt.$fmt child=child-$fmt.$fmt
	if ! "$OSIO" disk create "$base" --size 64M; then
		bad "$fmt: creating a parent failed"
		continue
	fi
	ref_new "$base.ref" 64M
	writes_apply "$base" "$base.ref" "0:1048576:11 33554432:2097152:12" ||
		bad "$fmt: writing the parent failed"
	sum=$(sha256sum <"$base")
	if ! "$OSIO" disk create "$child" --parent "$base"; then
		bad "$fmt: creating a child failed"
		continue
	fi
	cp "$base.ref" "$child.ref"
	writes_apply "$child" "$child.ref" "$WRITES64" || bad "$fmt: writing the child failed"
	[ "$(sha256sum <"$base")" = "$sum" ] || bad "$fmt: writing the child changed the parent"
	osio_same "$child" "$child.ref" "$fmt child"
	osio_same "$base" "$base.ref" "$fmt parent"
	"$OSIO" disk check "$child" >/dev/null || bad "$fmt: osio disk check of the child"
	[ "$fmt" = vhdx ] && continue
	qcheck "$fmt" "$child" || bad "$fmt: qemu-img check of the child is not clean"
	qemu-img compare -f "$fmt" -F raw "$child" "$child.ref" ||
		bad "$fmt: qemu-img compare: the child is not parent + writes"
	vs=$(qemu-img info --output=json "$child" | jq -r '."virtual-size"')
	[ "$vs" = 67108864 ] || bad "$fmt: the child is $vs bytes, not the parent's 64 MiB"
done
finish
