#!/bin/bash
# Parent chains that come back to themselves are refused with a message,
# never followed forever: a qcow2 whose backing file is itself, two qcow2
# images backing each other (their header bytes edited), and the same for
# VHDX parent locators. Also a chain deeper than the block layer allows.
set -euo pipefail
OSIO=$1 WORK=$2
if ! command -v qemu-img >/dev/null; then
	echo "SKIP: qemu-img is not installed (Debian package qemu-utils)"
	exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
FAILS=0
bad() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# refused IMAGE WHAT: osio disk info refuses IMAGE in time, naming a file
refused() {
	local st=0
	timeout 20 "$OSIO" disk info "$1" >out.txt 2>err.txt || st=$?
	if [ "$st" = 124 ]; then
		bad "$2: osio disk info hangs"
	elif [ "$st" = 0 ]; then
		bad "$2: the loop was not noticed: $(cat out.txt)"
	elif [ "$st" != 1 ]; then
		bad "$2: exit status $st ($(cat err.txt))"
	elif ! grep -q "\.\(qcow2\|vhdx\)" err.txt; then
		bad "$2: the message names no image: $(cat err.txt)"
	else
		echo "$2: $(cat err.txt)"
	fi
	timeout 20 "$OSIO" disk convert "$1" flat.img >/dev/null 2>&1 && bad "$2: converted anyway"
	rm -f flat.img
}

# rename_in FILE OLD NEW [utf16]: replaces the bytes OLD with NEW (same
# length) in FILE; utf16: both as UTF-16LE, as VHDX parent locators hold them
rename_in() {
	local old=$2 new=$3
	if [ "${4:-}" = utf16 ]; then
		old=$(sed 's/./&\\0/g' <<<"$old") new=$(sed 's/./&\\0/g' <<<"$new")
	fi
	OLD=$old NEW=$new perl -0777 -pi -e \
		'BEGIN { $o = $ENV{OLD}; $n = $ENV{NEW}; $o =~ s/\\0/\0/g; $n =~ s/\\0/\0/g }
		 $c = s/\Q$o\E/$n/g; END { exit($c ? 0 : 1) }' "$1" ||
		{
			echo "FAIL: $1: '$2' not found" >&2
			exit 1
		}
}

echo "== qcow2 backing itself"
qemu-img create -q -f qcow2 X.qcow2 1M
qemu-img create -q -f qcow2 -b X.qcow2 -F qcow2 A.qcow2 1M
rename_in A.qcow2 X.qcow2 A.qcow2
refused A.qcow2 "qcow2 A -> A"

echo "== qcow2 A -> B -> A"
rm -f A.qcow2
qemu-img create -q -f qcow2 -b X.qcow2 -F qcow2 A.qcow2 1M
qemu-img create -q -f qcow2 -b A.qcow2 -F qcow2 B.qcow2 1M
rename_in A.qcow2 X.qcow2 B.qcow2
refused A.qcow2 "qcow2 A -> B -> A"
refused B.qcow2 "qcow2 B -> A -> B"

echo "== a qcow2 chain deeper than allowed"
qemu-img create -q -f qcow2 d0.qcow2 1M
for i in $(seq 1 70); do
	qemu-img create -q -f qcow2 -u -b d$((i - 1)).qcow2 -F qcow2 d$i.qcow2 1M
done
st=0
timeout 60 "$OSIO" disk info d70.qcow2 >/dev/null 2>err.txt || st=$?
[ "$st" = 1 ] && grep -q "d[0-9]*\.qcow2" err.txt || bad "a chain of 71: status $st ($(cat err.txt))"
timeout 60 "$OSIO" disk info d40.qcow2 >/dev/null || bad "a chain of 41 is refused"

echo "== vhdx C <- A <- B, then A's parent renamed to B"
if "$OSIO" disk create C.vhdx --size 1M && "$OSIO" disk create A.vhdx --parent C.vhdx &&
	"$OSIO" disk create B.vhdx --parent A.vhdx; then
	rename_in A.vhdx C.vhdx B.vhdx utf16
	refused A.vhdx "vhdx A -> B -> A"
	refused B.vhdx "vhdx B -> A -> B"
	rm -f S.vhdx
	"$OSIO" disk create S.vhdx --parent C.vhdx && rename_in S.vhdx C.vhdx S.vhdx utf16 &&
		refused S.vhdx "vhdx S -> S"
else
	bad "creating differencing VHDX images failed"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS failure(s); files kept in $WORK" >&2
	exit 1
fi
echo PASS
rm -rf "$WORK"
