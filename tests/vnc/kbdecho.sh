#!/usr/bin/env bash
# ctest vnc/kbdecho-LAYOUT-VMM: typing through a real VNC client. The kbdecho guest program
# (tests/guest/progs/kbdecho.c) runs in QEMU TCG or osio with VNC; TigerVNC's viewer on a
# private Xvfb connects, and xdotool types letters, digits, shifted symbols, Enter, extended
# keys, Ctrl combinations into it with the X keyboard layout LAYOUT (us, or de: TigerVNC then
# sends QEMU extended key events with the keys' positions). The guest's output (the scan codes
# it read, set 1 after the i8042's translation, and the characters a US layout gives them)
# must equal kbdecho-LAYOUT.expected, which QEMU gives too: same keys by position whatever
# the client's layout.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: kbdecho.sh --vmm qemu|osio [--osio PATH] --kernel KBDECHO.ELF --layout us|de --outdir DIR
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
me=kbdecho
vmm='' osio='' kernel='' layout='' outdir=''
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--layout) layout=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ ($vmm == qemu || ($vmm == osio && -n $osio)) && -n $kernel && -n $outdir ]] ||
	{ usage >&2; exit 2; }
[[ $layout == us || $layout == de ]] || { usage >&2; exit 2; }
me=kbdecho-$layout-$vmm
expected=$here/kbdecho-$layout.expected
[[ -r $kernel ]] || { echo "FAIL: $me: cannot read $kernel: build it first"; exit 1; }

# shellcheck source=lib.sh
. "$here/lib.sh"
vnc_init "$outdir"
serial=$outdir/serial.out
: >"$serial"

vnc_xvfb 1600 1200
setxkbmap "$layout" || vnc_die "setxkbmap $layout failed (xkb-data installed?)"
port=$(vnc_free_port)
args="timeout=240"
if [[ $vmm == qemu ]]; then
	vnc_qemu "$port" "$serial" -kernel "$kernel" -append "$args"
else
	vnc_osio "$osio" "$port" "$serial" --kernel "$kernel" --append "$args"
fi
vnc_wait_line 120 "$serial" '^ready:' || vnc_die "the guest never became ready (see $serial)"
# The viewer connects after the guest has set its keyboard up (LEDs off, as Xvfb's).
vnc_viewer "$port"
vnc_focus

# One step at a time: each waits for the guest to have seen its last key, so that the
# output does not depend on how fast the VMM runs. keys ERE KEYSYM...: presses and releases
# the keys in turn and waits for the next line matching ERE; line TEXT: types TEXT and Enter
# and waits for the guest's "text:" line.
declare -A seen=()
keys() {
	local want=$1 n
	shift
	n=$((${seen[$want]:-0} + 1))
	xdotool key --delay 60 "$@" || vnc_die "xdotool key $* failed"
	vnc_wait_line 60 "$serial" "$want" "$n" ||
		vnc_die "the guest did not see the keys $* (waited for '$want'; see $serial)"
	seen[$want]=$n
}
line() {
	xdotool type --delay 60 "$1" || vnc_die "xdotool type failed"
	keys '^text: ' Return
}

if [[ $layout == us ]]; then
	line 'Hello, World 42!'
	line "\`~-_=+[{]}\\|;:'\",<.>/?@#\$%^&*()"
	keys 'break Delete' Up Down Left Right Home End Prior Next Insert Delete
	keys 'break KP\+' KP_Enter KP_Divide KP_Multiply KP_Subtract KP_Add
	keys 'break RMeta' Tab BackSpace F1 F5 F10 F12 Super_L Menu Super_R
	keys 'break RCtrl' ctrl+c ctrl+shift+z alt+x Control_R
	keys 'break FakeLShift' Print
	keys 'break Pause' Pause
else
	# German layout: z and y swapped, umlauts where US has ;'[, sharp s on -, & on
	# Shift+6, @ on AltGr+Q (right Alt, an extended key).
	line 'zyäöüß&Z@'
	keys 'break Home' Up Home
	keys 'break LCtrl' ctrl+c
fi
keys '^RESULT:' Escape

status=0
vnc_wait_vmm 30 || status=$?
# QEMU exits with (V << 1) | 1 for a debug-exit write of V.
if [[ $vmm == qemu ]] && ((status != 1)); then
	vnc_die "QEMU ended with status $status (expected 1: the guest's 0)"
fi

# Compare everything but the peer: lines (boot loader, command line).
grep -v '^peer:' "$serial" | tr -d '\r' >"$outdir/guest.txt"
if ! diff -u "$expected" "$outdir/guest.txt" >"$outdir/diff"; then
	cat "$outdir/diff"
	vnc_die "the guest's output differs from $(basename "$expected") (diff in $outdir/diff)"
fi
[[ $vmm == osio ]] && vnc_osio_status "$status"
echo "PASS: $me: $(grep -c '^key:' "$outdir/guest.txt") scan code units as expected"
