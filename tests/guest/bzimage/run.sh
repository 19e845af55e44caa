#!/usr/bin/env bash
# ctest guest/bzimage: the bzImage test guest in QEMU TCG (16-bit setup) and in osio (64-bit
# entry) with the same initrd and command line; same verdict, same lines but "peer:" ones.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: run.sh [--negative] BZIMAGE INITRD INITRD_ARGS WORKDIR [OSIO]

  INITRD_ARGS  the file mkbzimage wrote: "initrd_size=N initrd_crc=0x..."
  WORKDIR      where qemu.out, osio.out and their .err stay
  OSIO         the osio binary; without one (or without 'osio run') only QEMU runs
               and the test is skipped (exit 77) when QEMU passed
  --negative   pass a command line that contradicts the VM (mem=, cpus=, initrd_crc=):
               both must report the same three FAIL lines and RESULT: FAIL 3
EOF
}

negative=0
if [ "${1:-}" = --negative ]; then
	negative=1
	shift
fi
if [ $# -lt 4 ] || [ $# -gt 5 ]; then
	usage >&2
	exit 2
fi
bzimage=$1 initrd=$2 args_file=$3 work=$4 osio=${5:-}
qemu=${QEMU:-qemu-system-x86_64}
mem=256M cpus=2

for f in "$bzimage" "$initrd" "$args_file"; do
	[ -r "$f" ] || { echo "FAIL: $f is missing (build the guest_bzimage target)"; exit 1; }
done
mkdir -p "$work"
rm -f "$work"/{qemu,osio}.{out,err,cmp}

# The initrd's size and CRC-32 as mkbzimage wrote them, checked against gzip's own CRC-32 (the
# trailer of a gzip stream is CRC-32 then size, little-endian), so that the guest and the host
# tool cannot agree on a wrong CRC.
read -r initrd_words <"$args_file"
want_crc=$(sed -n 's/.*initrd_crc=0x\([0-9a-f]\{8\}\).*/\1/p' <<<"$initrd_words")
want_size=$(sed -n 's/.*initrd_size=\([0-9]*\).*/\1/p' <<<"$initrd_words")
if [ -z "$want_crc" ] || [ -z "$want_size" ]; then
	echo "FAIL: $args_file does not hold initrd_size=N initrd_crc=0xXXXXXXXX"
	exit 1
fi
read -r gz_crc gz_size < <(gzip -c "$initrd" | tail -c 8 | od -An -tx4 --endian=little)
if [ "$gz_crc" != "$want_crc" ] || [ "$((16#$gz_size))" != "$want_size" ] ||
	[ "$(stat -c %s "$initrd")" != "$want_size" ]; then
	echo "FAIL: $args_file says crc 0x$want_crc size $want_size;" \
		"gzip says 0x$gz_crc size $((16#$gz_size))"
	exit 1
fi

# Words the guest checks against (mem=, cpus=, initrd_*) plus a quoted value and punctuation,
# to see that the command line arrives byte for byte.
if [ $negative = 1 ]; then
	bad_crc=$(printf '%08x' $((16#$want_crc ^ 1)))
	words="mem=512M cpus=3 initrd_size=$want_size initrd_crc=0x$bad_crc"
	want_result="RESULT: FAIL 3"
	want_fails=("FAIL: e820: usable RAM (see above) is not within 2 MiB below mem=512 MiB"
		"FAIL: initrd: crc32 0x$want_crc, the command line says 0x$bad_crc"
		"FAIL: acpi: MADT lists 2 processors, the command line says cpus=3")
	qemu_want=3 osio_want=1
else
	words="mem=$mem cpus=$cpus $initrd_words"
	want_result="RESULT: PASS"
	want_fails=()
	qemu_want=1 osio_want=0
fi
cmdline="console=ttyS0 $words osio.test=\"a quoted value, with spaces\" x=1,2;3 end"

# The guest's lines from its banner on, without carriage returns.
guest_lines() {
	tr -d '\r' <"$1" | sed -n '/^osio bzImage test guest/,$p'
}

# Checks one run's output and exit status; prints why it failed.
judge() {
	local name=$1 out=$2 status=$3 want_status=$4 ok=1 line

	if [ "$status" = 124 ]; then
		echo "FAIL: $name: timed out"
		ok=0
	elif [ "$status" != "$want_status" ]; then
		echo "FAIL: $name: exit status $status; '$want_result' gives $want_status"
		ok=0
	fi
	if ! guest_lines "$out" | grep -qxF "$want_result"; then
		echo "FAIL: $name: no '$want_result' from the guest"
		ok=0
	fi
	for line in "${want_fails[@]}"; do
		if ! guest_lines "$out" | grep -qxF "$line"; then
			echo "FAIL: $name: the guest did not report '$line'"
			ok=0
		fi
	done
	if ! guest_lines "$out" | grep -qxF "cmdline: \"$cmdline\""; then
		echo "FAIL: $name: the guest did not echo the command line that was passed:"
		echo "  passed: $cmdline"
		echo "  echoed: $(guest_lines "$out" | grep '^cmdline: ' || echo '(nothing)')"
		ok=0
	fi
	if [ $ok = 0 ]; then
		echo "--- $name output ($out):"
		tr -d '\r' <"$out" | tail -n 60
		return 1
	fi
	echo "$name: $want_result as expected"
}

if ! command -v "$qemu" >/dev/null; then
	echo "FAIL: $qemu not found: install qemu-system-x86 (scripts/install-deps.sh)"
	exit 1
fi
# isa-debug-exit turns the guest's value V into exit status (V << 1) | 1. A VGA card gives
# SeaBIOS a video BIOS, so that the setup code fills screen_info from a real text mode.
set +e
timeout 120 "$qemu" -accel tcg -M pc -m "$mem" -smp "$cpus" -nodefaults -display none \
	-vga std -serial stdio -monitor none -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$bzimage" -initrd "$initrd" -append "$cmdline" \
	</dev/null >"$work/qemu.out" 2>"$work/qemu.err"
qemu_status=$?
set -e
if ! judge qemu "$work/qemu.out" "$qemu_status" "$qemu_want"; then
	cat "$work/qemu.err"
	echo "(QEMU is the reference: the guest or this script is wrong, not osio)"
	exit 1
fi

if [ -z "$osio" ] || ! "$osio" run --help >/dev/null 2>&1; then
	echo "SKIP: osio has no 'run' command in this build; the QEMU half passed"
	exit 77
fi
set +e
timeout 240 "$osio" run --kernel "$bzimage" --initrd "$initrd" --append "$cmdline" \
	--memory "$mem" --cpus "$cpus" </dev/null >"$work/osio.out" 2>"$work/osio.err"
osio_status=$?
set -e
if ! judge osio "$work/osio.out" "$osio_status" "$osio_want"; then
	cat "$work/osio.err"
	exit 1
fi

guest_lines "$work/qemu.out" | grep -v '^peer:' >"$work/qemu.cmp"
guest_lines "$work/osio.out" | grep -v '^peer:' >"$work/osio.cmp"
if ! diff -u --label qemu --label osio "$work/qemu.cmp" "$work/osio.cmp"; then
	echo "FAIL: osio and QEMU disagree on the lines above ('-' QEMU, '+' osio; no peer: lines)"
	exit 1
fi
echo "---- peer: lines (not compared) ----"
guest_lines "$work/qemu.out" | grep '^peer:' | sed 's/^/qemu  /'
guest_lines "$work/osio.out" | grep '^peer:' | sed 's/^/osio  /'
echo "PASS: osio and QEMU agree ($(wc -l <"$work/osio.cmp") lines compared)"
