#!/bin/bash
# `osio disk convert` between every pair of formats (and types) round-trips
# byte for byte, qemu-img agrees with each result, dynamic results stay
# sparse, and a chain (qcow2 and VHDX with parents) converts to one flat
# image.
source "$(dirname "$0")/lib.sh" "$@"

ref_writes ref.raw 64M "$WRITES64"

FORMATS="raw qcow2 vhdx vhd"
for a in $FORMATS; do
	echo "== raw -> $a"
	if ! "$OSIO" disk convert ref.raw first.$a --format "$a"; then
		bad "convert raw -> $a failed"
		continue
	fi
	qcheck "$a" first.$a || bad "raw -> $a: qemu-img check is not clean"
	qemu-img compare -q -f "$(qfmt "$a")" -F raw first.$a ref.raw ||
		bad "raw -> $a: qemu-img compare differs"
	# About 3.4 MiB of data in 64 MiB: a dynamic copy must not take it all.
	if [ "$a" != vhdx ] && [ "$(stat -c %b first.$a)" -gt 65536 ]; then
		bad "raw -> $a: $(($(stat -c %b first.$a) / 2)) KiB allocated for 3.4 MiB of data"
	fi
	for b in $FORMATS; do
		rm -f second.$b back.raw
		if ! "$OSIO" disk convert first.$a second.$b; then
			bad "convert $a -> $b failed"
			continue
		fi
		qemu-img compare -q -f "$(qfmt "$b")" -F raw second.$b ref.raw ||
			bad "$a -> $b: qemu-img compare differs"
		"$OSIO" disk convert second.$b back.raw || bad "convert $b -> raw failed"
		cmp -s back.raw ref.raw || bad "raw -> $a -> $b -> raw: the bytes changed"
	done
	rm -f first.$a
done

for fmt in qcow2 vhdx vhd; do
	echo "== raw -> fixed $fmt -> dynamic vhdx"
	rm -f fixed.$fmt dyn.vhdx back.raw
	"$OSIO" disk convert ref.raw fixed.$fmt --type fixed || {
		bad "convert to fixed $fmt failed"
		continue
	}
	qemu-img compare -q -f "$(qfmt "$fmt")" -F raw fixed.$fmt ref.raw ||
		bad "fixed $fmt: qemu-img compare differs"
	"$OSIO" disk info --json fixed.$fmt >fixed.json || bad "osio disk info fixed.$fmt"
	[ "$(json_get fixed.json subformat)" = fixed ] || [ "$fmt" = qcow2 ] ||
		bad "fixed $fmt: subformat is $(json_get fixed.json subformat)"
	"$OSIO" disk convert fixed.$fmt dyn.vhdx && "$OSIO" disk convert dyn.vhdx back.raw &&
		cmp -s back.raw ref.raw || bad "fixed $fmt -> vhdx -> raw: the bytes changed"
done

for fmt in qcow2 vhdx; do
	echo "== $fmt chain -> one image"
	rm -f base.$fmt child.$fmt flat.qcow2 chain.ref
	"$OSIO" disk convert ref.raw base.$fmt && "$OSIO" disk create child.$fmt --parent base.$fmt ||
		{
			bad "$fmt: making a chain failed"
			continue
		}
	cp ref.raw chain.ref
	writes_apply child.$fmt chain.ref "1048576:1048576:21 66060288:1048576:22" ||
		bad "$fmt: writing the child failed"
	"$OSIO" disk convert child.$fmt flat.qcow2 || bad "$fmt chain: convert failed"
	qemu-img compare -q -F raw flat.qcow2 chain.ref || bad "$fmt chain: flat image differs"
	[ "$(qemu-img info --output=json flat.qcow2 | jq -r '."backing-filename" // ""')" = "" ] ||
		bad "$fmt chain: the flat image still has a backing file"
done
finish
