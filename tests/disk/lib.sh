# Shared by the disk interop tests: arguments, a work folder, failing with a
# reason, osio<->qemu format names, and reference raw files built with dd
# from blkio's patterns (so the reference never goes through osio).
# usage: source lib.sh "$@"   (OSIO BLKIO WORKDIR)
set -euo pipefail
OSIO=$1
BLKIO=$2
WORK=$3
if ! command -v qemu-img >/dev/null; then
	echo "SKIP: qemu-img is not installed (Debian package qemu-utils)"
	exit 77
fi
if ! command -v jq >/dev/null; then
	echo "SKIP: jq is not installed (Debian package jq)"
	exit 77
fi
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
export LSAN_OPTIONS=${LSAN_OPTIONS:-}
FAILS=0

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A problem that does not stop the script; `finish` fails at the end.
bad() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS failure(s); files kept in $WORK" >&2
		exit 1
	fi
	echo "PASS"
	rm -rf "$WORK"
	exit 0
}

# qemu's name of an osio format
qfmt() {
	case $1 in
	vhd) echo vpc ;;
	*) echo "$1" ;;
	esac
}

# Every osio format with its types, as FORMAT:TYPE
ALL_KINDS="raw:dynamic raw:fixed qcow2:dynamic qcow2:fixed vhdx:dynamic vhdx:fixed vhd:dynamic vhd:fixed"

# ref_new FILE SIZE: a sparse raw file of SIZE bytes
ref_new() {
	rm -f "$1"
	truncate -s "$2" "$1"
}

# ref_put FILE OFFSET LEN SEED: blkio's pattern into a raw file with dd
ref_put() {
	"$BLKIO" pattern "$2" "$3" "$4" |
		dd of="$1" bs=1M seek="$2" oflag=seek_bytes iflag=fullblock conv=notrunc status=none
}

# The standard writes into a 64 MiB disk: OFFSET:LEN:SEED, in order (the
# later overwrite part of an earlier one). Unaligned to clusters, across
# VHD (2 MiB) and VHDX (32 MiB) block boundaries, and the last sector.
WRITES64="0:65536:1 1049088:1536:2 2096640:1024:3 5242880:3145728:4 33550336:8192:5
50331648:65536:6 50335744:4096:7 67104768:4096:8"
# The same, 4096-byte aligned (for 4 KiB-sector disks).
WRITES64_4K="0:65536:1 1048576:8192:2 2093056:8192:3 5242880:3145728:4 33550336:8192:5
50331648:65536:6 50335744:4096:7 67104768:4096:8"

# ref_writes FILE SIZE LIST: a sparse raw file of SIZE bytes with LIST
# (OFFSET:LEN:SEED ...) written into it with dd
ref_writes() {
	local w o l s
	ref_new "$1" "$2"
	for w in $3; do
		IFS=: read -r o l s <<<"$w"
		ref_put "$1" "$o" "$l" "$s"
	done
}

# writes_apply IMAGE REF LIST: writes LIST through osio into IMAGE and with
# dd into REF
writes_apply() {
	local img=$1 ref=$2 list=$3 ops=() w
	for w in $list; do
		IFS=: read -r o l s <<<"$w"
		ops+=("w:$o:$l:$s")
		ref_put "$ref" "$o" "$l" "$s"
	done
	"$BLKIO" "$img" "${ops[@]}" flush
}

# writes_verify IMAGE LIST: reads LIST back through osio (the last writer
# of each byte wins, so only the ones not overwritten later are checked)
writes_verify() {
	local img=$1 list=$2 ops=() w
	for w in $list; do
		IFS=: read -r o l s <<<"$w"
		ops+=("r:$o:$l:$s")
	done
	# 6 is overwritten in part by 7: verify 6 only where 7 is not.
	local keep=() op
	for op in "${ops[@]}"; do
		case $op in
		r:50331648:65536:6) keep+=("r:50331648:4096:6" "r:50339840:57344:6") ;;
		*) keep+=("$op") ;;
		esac
	done
	"$BLKIO" -r "$img" "${keep[@]}"
}

# qcheck FORMAT IMAGE: qemu-img check where qemu can check the format
qcheck() {
	case $1 in
	qcow2 | vhdx)
		qemu-img check -q -f "$1" "$2"
		;;
	*) return 0 ;;
	esac
}

# json_get FILE KEY: a top-level value of a JSON file
json_get() {
	jq -r --arg k "$2" '.[$k] | tostring' "$1"
}
