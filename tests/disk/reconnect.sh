#!/bin/bash
# `osio disk reconnect CHILD PARENT`: a differencing VHDX, VHD and qcow2
# whose parent moved reads the parent's data again after the reconnect
# (osio and, for qcow2, qemu-img agree: check, compare, info
# --backing-chain, the same name as qemu-img rebase -u); a disk that is not
# the parent is refused with a message naming both files, --force takes
# it; usage errors.
source "$(dirname "$0")/lib.sh" "$@"

for fmt in vhdx vhd qcow2; do
	echo "== $fmt"
	rm -rf a b c
	mkdir a b c
	"$OSIO" disk create a/base.$fmt --size 64M >/dev/null || fail "$fmt: create base"
	"$BLKIO" a/base.$fmt w:0:4M:1 w:40M:1M:2 flush || fail "$fmt: writing the base"
	(cd b && "$OSIO" disk create child.$fmt --parent ../a/base.$fmt >/dev/null) ||
		fail "$fmt: create child"
	"$BLKIO" b/child.$fmt w:1M:1M:3 flush || fail "$fmt: writing the child"
	mv a/base.$fmt c/
	if "$OSIO" disk info b/child.$fmt >/dev/null 2>err.txt; then
		bad "$fmt: the child opened with its parent gone"
	fi
	# A disk of the same size that is not the parent (VHDX and VHD record
	# which disk it is; qcow2 does not).
	"$OSIO" disk create c/other.$fmt --size 64M >/dev/null
	if [ $fmt != qcow2 ]; then
		if "$OSIO" disk reconnect b/child.$fmt c/other.$fmt 2>err.txt; then
			bad "$fmt: reconnecting to another disk was not refused"
		fi
		grep -q "b/child.$fmt" err.txt && grep -q "other.$fmt" err.txt && grep -q -- --force err.txt ||
			bad "$fmt: the refusal does not name both files and --force: $(cat err.txt)"
	fi
	"$OSIO" disk create c/big.$fmt --size 128M >/dev/null
	if "$OSIO" disk reconnect b/child.$fmt c/big.$fmt 2>err.txt; then
		bad "$fmt: reconnecting to a larger disk was not refused"
	fi
	grep -q "big.$fmt" err.txt || bad "$fmt: the refusal does not name big.$fmt: $(cat err.txt)"

	"$OSIO" disk reconnect b/child.$fmt c/base.$fmt >out.txt || {
		bad "$fmt: reconnect failed"
		continue
	}
	grep -q "../c/base.$fmt" out.txt || bad "$fmt: reconnect said: $(cat out.txt)"
	"$OSIO" disk info --json b/child.$fmt >info.json || bad "$fmt: info after reconnect"
	[ "$(json_get info.json parent)" = "../c/base.$fmt" ] ||
		bad "$fmt: info shows the parent $(json_get info.json parent)"
	"$BLKIO" -r b/child.$fmt r:0:1M:1 r:1M:1M:3 r:2M:2M:1 r:40M:1M:2 r:50M:1M:0 ||
		bad "$fmt: the child does not read its parent's data after reconnect"
	"$OSIO" disk check b/child.$fmt >/dev/null || bad "$fmt: osio disk check after reconnect"
	# The pair moves together: the name is relative.
	mkdir x && mv b c x/
	"$BLKIO" -r x/b/child.$fmt r:0:1M:1 r:1M:1M:3 || bad "$fmt: the moved pair does not read"
	mv x/b x/c . && rmdir x
	if [ $fmt = qcow2 ]; then
		qemu-img check -q -f qcow2 b/child.qcow2 || bad "qcow2: qemu-img check"
		qemu-img info --backing-chain b/child.qcow2 | grep -q "image: .*c/base.qcow2" ||
			bad "qcow2: qemu-img info --backing-chain does not reach c/base.qcow2"
		ref_writes ref.raw 64M "0:4M:1 40M:1M:2 1M:1M:3"
		qemu-img compare -q -F raw b/child.qcow2 ref.raw 2>/dev/null ||
			qemu-img compare -q b/child.qcow2 ref.raw || bad "qcow2: qemu-img compare differs"
		[ "$(qemu-img info --output=json b/child.qcow2 | jq -r '."backing-filename"')" = ../c/base.qcow2 ] ||
			bad "qcow2: qemu-img sees another backing file name"
	elif [ $fmt = vhd ]; then
		[ "$(qemu-img info --output=json -f vpc b/child.vhd | jq -r '."virtual-size"')" = 67108864 ] ||
			bad "vhd: qemu-img cannot read the reconnected child's header"
	fi
	if [ $fmt != qcow2 ]; then
		"$OSIO" disk reconnect --force b/child.$fmt c/other.$fmt >/dev/null ||
			bad "$fmt: --force did not reconnect to another disk"
		"$BLKIO" -r b/child.$fmt r:0:1M:0 r:1M:1M:3 || bad "$fmt: after --force"
	fi
done

echo "== usage"
rm -rf a b c
mkdir a b c
"$OSIO" disk create a/base.vhdx --size 64M >/dev/null
"$OSIO" disk create c/other.vhdx --size 64M >/dev/null
"$OSIO" disk create b/child.vhdx --parent ../a/base.vhdx >/dev/null
expect_fail() {
	local code=$1 want=$2
	shift 2
	if "$OSIO" disk reconnect "$@" >out.txt 2>err.txt; then
		bad "reconnect $* succeeded"
		return
	fi
	grep -q -- "$want" err.txt || bad "reconnect $*: no '$want' in: $(cat err.txt)"
}
expect_fail 2 usage b/child.vhdx
expect_fail 2 "unknown option\|unrecognized\|--help" b/child.vhdx c/base.vhdx --bogus
expect_fail 1 "nope.vhdx" b/child.vhdx nope.vhdx
expect_fail 1 "not a differencing" a/base.vhdx c/other.vhdx
expect_fail 1 "own parent" b/child.vhdx b/child.vhdx
"$OSIO" disk reconnect --help | grep -q "usage: osio disk reconnect" || bad "--help"
finish
