#!/bin/bash
# `osio disk resize` grows every format (SIZE and +SIZE); qemu-img sees the
# new size, the old data, zeroes in the new space, and a clean image; the
# new space takes writes; shrinking is refused with a message.
source "$(dirname "$0")/lib.sh" "$@"

for kind in raw:dynamic qcow2:dynamic vhdx:dynamic vhd:dynamic vhdx:fixed vhd:fixed; do
	fmt=${kind%:*} type=${kind#*:}
	img=$fmt-$type.$fmt ref=$fmt-$type.ref
	echo "== $fmt $type"
	"$OSIO" disk create "$img" --size 64M --type "$type" || {
		bad "$fmt $type: create failed"
		continue
	}
	ref_new "$ref" 64M
	writes_apply "$img" "$ref" "0:65536:1 66060288:1048576:2" || bad "$fmt $type: writing"
	if ! "$OSIO" disk resize "$img" 96M >out.txt; then
		bad "$fmt $type: resize to 96M failed"
		continue
	fi
	grep -q "64 MiB -> 96 MiB" out.txt || bad "$fmt $type: resize said: $(cat out.txt)"
	"$OSIO" disk resize "$img" +32M || bad "$fmt $type: resize +32M failed"
	truncate -s 128M "$ref"
	vs=$(qemu-img info --output=json -f "$(qfmt "$fmt")" "$img" | jq -r '."virtual-size"')
	[ "$vs" = 134217728 ] || bad "$fmt $type: qemu-img sees $vs bytes after growing to 128 MiB"
	qcheck "$fmt" "$img" || bad "$fmt $type: qemu-img check after resize"
	qemu-img compare -q -f "$(qfmt "$fmt")" -F raw "$img" "$ref" ||
		bad "$fmt $type: after resize qemu-img compare differs (old data or zeroes)"
	writes_apply "$img" "$ref" "100663296:1048576:3 134213632:4096:4" ||
		bad "$fmt $type: writing into the new space"
	qemu-img compare -q -f "$(qfmt "$fmt")" -F raw "$img" "$ref" ||
		bad "$fmt $type: the writes into the new space differ"
	if "$OSIO" disk resize "$img" 64M 2>err.txt; then
		bad "$fmt $type: shrinking was not refused"
	else
		grep -q "$img" err.txt || bad "$fmt $type: the shrink message names no file: $(cat err.txt)"
	fi
done

echo "== bad sizes"
"$OSIO" disk create r.qcow2 --size 1M
for s in 10X +-1M 1.0001K 513; do
	if "$OSIO" disk resize r.qcow2 "$s" 2>err.txt; then
		bad "resize to '$s' was accepted"
	fi
	[ -s err.txt ] || bad "resize to '$s': no message"
done
finish
