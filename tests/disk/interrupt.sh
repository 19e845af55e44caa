#!/bin/bash
# Ctrl-C (SIGINT) and SIGTERM during `osio disk convert` of a large sparse
# image with data spread over it: osio exits 130, the half-written
# destination is gone, the source's checksum is unchanged.
source "$(dirname "$0")/lib.sh" "$@"

# 16 GiB sparse (large, so that a fast machine is still converting when the
# signal comes), 1 MiB of data every 512 MiB
ref_new src.raw 16G
for i in $(seq 0 31); do
	ref_put src.raw $((i * 536870912 + 1048576 * (i % 5))) 1048576 $((i + 1))
done
qemu-img convert -f raw -O qcow2 src.raw src.qcow2 || fail "making the qcow2 source"
# The raw source is large: its size, times (a write changes mtime and
# ctime) and the checksum of its data; the qcow2 one is small: all of it.
raw_state() {
	stat -c '%s %Y %Z' src.raw
	for i in $(seq 0 31); do
		dd if=src.raw bs=1M count=1 skip=$((i * 512 + i % 5)) status=none
	done | sha256sum
}
sum_raw=$(raw_state)
sum_q=$(sha256sum <src.qcow2)

# interrupt SIGNAL SRC DST: starts a conversion, signals it once it is under
# way, and checks what is left
interrupt() {
	local sig=$1 src=$2 dst=$3
	rm -f "$dst" progress.txt
	"$OSIO" disk convert --progress "$src" "$dst" 2>progress.txt &
	local pid=$! i
	for i in $(seq 1 500); do
		# under way: at least 1% done
		grep -Eq "([1-9]|[1-9][0-9])\.[0-9]%" progress.txt 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.01
	done
	[ -e "$dst" ] || bad "$sig $src -> $dst: the destination was not being written yet"
	kill -"$sig" $pid 2>/dev/null || bad "$sig $src -> $dst: the conversion ended too soon"
	local st=0
	wait $pid || st=$?
	[ "$st" = 130 ] || bad "$sig $src -> $dst: exit status $st, not 130 ($(tail -c 300 progress.txt))"
	[ ! -e "$dst" ] || bad "$sig $src -> $dst: the half-written destination is still there"
	grep -q "interrupted" progress.txt || bad "$sig $src -> $dst: no message says it was interrupted"
	[ "$(grep -c "100.0%" progress.txt)" = 0 ] || bad "$sig $src -> $dst: it had finished"
}

for dst in out.qcow2 out.vhdx out.vhd; do
	echo "== SIGINT src.raw -> $dst"
	interrupt INT src.raw "$dst"
done
echo "== SIGTERM src.qcow2 -> out.img"
interrupt TERM src.qcow2 out.img

[ "$(raw_state)" = "$sum_raw" ] || bad "the raw source changed"
[ "$(sha256sum <src.qcow2)" = "$sum_q" ] || bad "the qcow2 source changed"
finish
