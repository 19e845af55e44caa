#!/usr/bin/env bash
# ctest vnc/tablet-WxH-VMM: the absolute pointer through a real VNC client. The tablet guest
# program (tests/guest/progs/tablet.c) sets a WxH mode, enables vmmouse in absolute mode as
# Linux does, and prints each position and button change it reads. TigerVNC's viewer on a
# private Xvfb shows that framebuffer 1:1; xdotool moves the pointer to the corners and the
# centre of it and clicks the left button at each, then clicks the right one to end. The
# guest must report those pixels (from 0..0xffff scaled) and buttons: exactly in osio; QEMU
# scales to the width rather than the last pixel and may be one pixel short.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: tablet.sh --vmm qemu|osio [--osio PATH] --kernel TABLET.ELF --size WxH --outdir DIR
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
me=tablet
vmm='' osio='' kernel='' size='' outdir=''
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--size) size=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ ($vmm == qemu || ($vmm == osio && -n $osio)) && -n $kernel && -n $outdir &&
	$size =~ ^([0-9]+)x([0-9]+)$ ]] || { usage >&2; exit 2; }
width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
me=tablet-$size-$vmm
[[ -r $kernel ]] || { echo "FAIL: $me: cannot read $kernel: build it first"; exit 1; }
# How far a reported pixel may be from the one clicked.
slack=0
[[ $vmm == qemu ]] && slack=1

# shellcheck source=lib.sh
. "$here/lib.sh"
vnc_init "$outdir"
serial=$outdir/serial.out
: >"$serial"

vnc_xvfb 1600 1200
port=$(vnc_free_port)
args="timeout=240 width=$width height=$height"
if [[ $vmm == qemu ]]; then
	vnc_qemu "$port" "$serial" -kernel "$kernel" -append "$args"
else
	vnc_osio "$osio" "$port" "$serial" --kernel "$kernel" --append "$args"
fi
vnc_wait_line 120 "$serial" '^(ready:|RESULT:)' || vnc_die "the guest never became ready (see $serial)"
grep -q '^ready:' "$serial" || vnc_die "the guest could not set up (see $serial)"
vnc_viewer "$port"
# The framebuffer (and so the viewer's window) has the guest's mode.
vnc_wait 20 eval '[[ $(vnc_window_size) == "$size" ]]' ||
	vnc_die "the viewer's window is $(vnc_window_size), not the guest's $size"

# pointer_line N X Y BUTTONS: waits for the guest's Nth "pointer:" line and checks it shows
# pixel (X, Y) (within the slack) with BUTTONS (L, M, R or -).
pointer_line() {
	local n=$1 x=$2 y=$3 b=$4 got gx gy gb
	# The guest prints a "peer: raw" line after each "pointer:" line: once the Nth is whole,
	# so is the Nth pointer line.
	vnc_wait_line 60 "$serial" '^peer: raw 0x[0-9a-f]{4},0x[0-9a-f]{4} status 0x[0-9a-f]{8}([^0-9a-f]|$)' "$n" ||
		vnc_die "the guest reported no pointer change $n (expected $x,$y $b; see $serial)"
	got=$(grep '^pointer: ' "$serial" | sed -n "${n}p")
	[[ $got =~ ^pointer:\ ([0-9]+),([0-9]+)\ buttons\ ([LMR-]+) ]] ||
		vnc_die "unreadable line '$got'"
	gx=${BASH_REMATCH[1]} gy=${BASH_REMATCH[2]} gb=${BASH_REMATCH[3]}
	if ((gx < x - slack || gx > x + slack || gy < y - slack || gy > y + slack)) ||
		[[ $gb != "$b" ]]; then
		vnc_die "change $n: the guest saw $gx,$gy buttons $gb; the client sent $x,$y $b"
	fi
	echo "ok: $x,$y $b -> guest $gx,$gy $gb"
}

# Each point: move there (one change), press (one), release (one). xdotool's coordinates are
# the window's, which are the framebuffer's.
n=0
points=("0 0" "$((width - 1)) 0" "0 $((height - 1))" "$((width - 1)) $((height - 1))"
	"$((width / 2)) $((height / 2))")
for p in "${points[@]}"; do
	read -r x y <<<"$p"
	xdotool mousemove --window "$VNC_WIN" "$x" "$y" || vnc_die "xdotool mousemove failed"
	pointer_line $((n += 1)) "$x" "$y" -
	xdotool mousedown 1
	pointer_line $((n += 1)) "$x" "$y" L
	xdotool mouseup 1
	pointer_line $((n += 1)) "$x" "$y" -
done
xdotool click 3
pointer_line $((n += 1)) "$x" "$y" R
pointer_line $((n += 1)) "$x" "$y" -
vnc_wait_line 30 "$serial" '^RESULT:' || vnc_die "the guest did not end after the right click"

# osio: the raw values are exactly the router's scaling, x * 0xffff / (width - 1).
if [[ $vmm == osio ]]; then
	grep '^peer: raw' "$serial" | head -1 | grep -q '0x0000,0x0000' ||
		vnc_die "the first corner is not raw 0,0: $(grep '^peer: raw' "$serial" | head -1)"
	want=$(printf '0x%04x,0x%04x' $(((width / 2) * 65535 / (width - 1))) \
		$(((height / 2) * 65535 / (height - 1))))
	grep -q "^peer: raw $want " "$serial" || vnc_die "no raw $want for the centre (see $serial)"
fi

status=0
vnc_wait_vmm 30 || status=$?
if [[ $vmm == qemu ]] && ((status != 1)); then
	vnc_die "QEMU ended with status $status (expected 1: the guest's 0)"
fi
grep -q '^RESULT: PASS' "$serial" || vnc_die "the guest failed: $(grep -E '^(FAIL|RESULT)' "$serial")"
[[ $vmm == osio ]] && vnc_osio_status "$status"
echo "PASS: $me: $n pointer changes as sent"
