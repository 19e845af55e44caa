#!/usr/bin/env bash
# ctest connect/pointer: the mouse through osio connect's window. The tablet guest program
# (tests/guest/progs/tablet.c) sets a 640x480 mode (the window follows the new size) and
# prints each absolute position and button change it reads from vmmouse. A click grabs
# (and does not reach the guest); positions in the window reach the guest as pixels of the
# picture at 1:1, at 2:1, and letterboxed (a point on a bar: the nearest edge pixel). A
# right click ends the guest: osio connect exits 0.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=pointer
OSIO='' TOOLS='' kernel='' outdir=''
# shellcheck source=lib.sh
. "$here/lib.sh"
conn_args "usage: pointer.sh --osio PATH --tools DIR --kernel TABLET.ELF --outdir DIR" \
	osio=OSIO tools=TOOLS kernel=kernel outdir=outdir -- "$@"
[[ -r $kernel ]] || { echo "FAIL: $me: cannot read $kernel: build it first"; exit 1; }

conn_init "$outdir"
serial=$outdir/serial.out
: >"$serial"
conn_xvfb 1600 1200
conn_run --memory 64M --kernel "$kernel" --append "width=640 height=480 timeout=240" \
	--serial "file:$serial" --timeout 300
conn_wait_line 120 "$serial" '^ready:' || conn_die "the guest never became ready (see $serial)"
conn_connect
conn_wait 20 eval 'conn_geometry; [[ ${WIN_W}x$WIN_H == 640x480 ]]' ||
	conn_die "the window is ${WIN_W}x$WIN_H, not the guest's 640x480"
xdotool windowmove "$CONN_WIN" 0 0 && xdotool windowfocus --sync "$CONN_WIN" ||
	conn_die "cannot move or focus the window"

# at X Y BUTTONS: the guest's last pointer line must come to say X,Y BUTTONS.
at() {
	local want="pointer: $1,$2 buttons $3" deadline=$((SECONDS + 30))
	until [[ $(grep '^pointer: ' "$serial" | tail -1 | tr -d '\r') == "$want" ]]; do
		((SECONDS < deadline)) ||
			conn_die "the guest's last pointer line is '$(grep '^pointer: ' "$serial" |
				tail -1)', not '$want'"
		sleep 0.2
	done
}
# move X Y: the pointer to X,Y of the window.
move() {
	xdotool mousemove --window "$CONN_WIN" "$1" "$2" || conn_die "xdotool mousemove failed"
}

# The click that grabs is the window's, not the guest's.
move 320 240
xdotool click 1 || conn_die "xdotool click failed"
conn_wait_title 10 'Ctrl\+Alt\+G releases' || conn_die "a click did not grab: '$(conn_title)'"
sleep 0.5
grep -q '^pointer: .*buttons L' "$serial" && conn_die "the grabbing click reached the guest"

move 100 50
at 100 50 -
xdotool mousedown 1 && at 100 50 L && xdotool mouseup 1 && at 100 50 - ||
	conn_die "xdotool mousedown/up failed"
move 639 479
at 639 479 -
move 0 0
at 0 0 -

# 2:1: window points to picture pixels.
xdotool windowsize "$CONN_WIN" 1280 960 || conn_die "xdotool windowsize failed"
conn_wait 10 eval 'conn_geometry; ((WIN_W == 1280 && WIN_H == 960))' ||
	conn_die "the window did not become 1280x960"
move 201 101
at 100 50 -
move 1279 959
at 639 479 -

# Letterboxed: 640x480 at x 320 in 1280x480; points on the bars go to the nearest edge.
xdotool windowsize "$CONN_WIN" 1280 480 || conn_die "xdotool windowsize failed"
conn_wait 10 eval 'conn_geometry; ((WIN_W == 1280 && WIN_H == 480))' ||
	conn_die "the window did not become 1280x480"
move 420 100
at 100 100 -
move 10 200
at 0 200 -
move 1270 300
at 639 300 -

# The right button ends the guest; the VM powers off and osio connect exits 0.
xdotool click 3 || conn_die "xdotool click failed"
conn_wait_line 30 "$serial" '^RESULT:' || conn_die "the guest did not end after the right click"
status=0
conn_wait_exit "$CONN_PID" 30 || status=$?
((status == 0)) || conn_die "osio connect ended with status $status: $(cat "$CONN_OUT/connect.log")"
grep -q '^RESULT: PASS' "$serial" || conn_die "the guest failed: $(grep -E 'FAIL|RESULT' "$serial")"
echo "PASS: $me: clicks and positions reached the guest at 1:1, 2:1 and letterboxed"
