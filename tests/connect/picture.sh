#!/usr/bin/env bash
# ctest connect/picture: osio connect's window on a private Xvfb shows what the VM shows.
# The VM runs SeaBIOS with nothing to boot (its text screen); the window's pixels, read
# out of Xvfb's screen file, must equal the worker's own screenshot of the same moment pixel
# for pixel: at 1:1 (the window opens at the picture's size), at 2:1 (resized: each pixel
# a 2x2 block), and letterboxed in a window of another shape (black bars, the picture
# between them). The title names the VM and its state; when the worker dies, the window
# says "Off" and osio connect exits 1 (the connection broke).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=picture
OSIO='' TOOLS='' imgcmp='' outdir=''
# shellcheck source=lib.sh
. "$here/lib.sh"
conn_args "usage: picture.sh --osio PATH --tools DIR --imgcmp PATH --outdir DIR" \
	osio=OSIO tools=TOOLS imgcmp=imgcmp outdir=outdir -- "$@"
[[ -x $imgcmp ]] || { echo "FAIL: $me: cannot run $imgcmp: build it first"; exit 1; }

conn_init "$outdir"
conn_xvfb 1600 1200
conn_run --memory 64M --timeout 300
conn_connect
conn_wait_title 10 "^$VM - Running - osio\$" ||
	conn_die "the title is '$(conn_title)', not '$VM - Running - osio'"

# same_moment SCALE NAME: a screenshot, the window, a screenshot again, until the two
# screenshots agree (the screen was still), show something, and the window equals them.
same_moment() {
	local scale=$1 name=$2 deadline=$((SECONDS + 60))
	local a=$outdir/$name-vm-a.png b=$outdir/$name-vm-b.png win=$outdir/$name-window.ppm
	while ((SECONDS < deadline)); do
		conn_screenshot "$a" || conn_die "the screenshot request failed"
		sleep 0.3
		conn_capture "$win" "$scale" >"$outdir/$name-capture.log" 2>&1 || {
			sleep 0.3
			continue
		}
		conn_screenshot "$b" || conn_die "the screenshot request failed"
		# Something to compare: the BIOS has written text (not a blank screen).
		if "$imgcmp" "$a" "$b" >/dev/null 2>&1 &&
			"$imgcmp" "$a" --min-colours 2 >/dev/null 2>&1 &&
			"$imgcmp" "$win" "$a" --diff "$outdir/$name-diff.ppm" \
				>"$outdir/$name-cmp.log" 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	conn_die "at scale $scale the window never showed the VM's screenshot (see" \
		"$outdir/$name-*:" \
		"$(cat "$outdir/$name-cmp.log" "$outdir/$name-capture.log" 2>/dev/null))"
}

# The picture's own size at 1:1 (SeaBIOS's text mode: 720x400).
same_moment 1 one
conn_geometry
size=$("$imgcmp" "$outdir/one-vm-a.png" 2>&1 | grep -oE '[0-9]+x[0-9]+' | head -1)
[[ ${WIN_W}x$WIN_H == "$size" ]] || conn_die "the window is ${WIN_W}x$WIN_H, the picture $size"
pic_w=${size%x*} pic_h=${size#*x}

# 2:1: nearest-pixel scaling, every pixel a 2x2 block of its colour. (No window manager
# keeps the window on the screen: move it to the corner first.)
xdotool windowmove "$CONN_WIN" 0 0 || conn_die "xdotool windowmove failed"
xdotool windowsize "$CONN_WIN" $((pic_w * 2)) $((pic_h * 2)) || conn_die "xdotool windowsize failed"
conn_wait 10 eval 'conn_geometry; ((WIN_W == pic_w * 2 && WIN_H == pic_h * 2))' ||
	conn_die "the window did not become $((pic_w * 2))x$((pic_h * 2))"
same_moment 2 two

# Another shape: the picture as wide as the window, black bars above and below.
ww=1000 wh=800
xdotool windowsize "$CONN_WIN" $ww $wh || conn_die "xdotool windowsize failed"
conn_wait 10 eval 'conn_geometry; ((WIN_W == ww && WIN_H == wh))' ||
	conn_die "the window did not become ${ww}x$wh"
bh=$(((wh - (ww * pic_h * 2 + pic_w) / (2 * pic_w)) / 2))
sleep 1
conn_capture "$outdir/box-window.ppm" || conn_die "cannot read the window's pixels"
"$imgcmp" "$outdir/box-window.ppm" --size ${ww}x$wh --probe 0,0,000000 \
	--probe $((ww - 1)),$((bh - 1)),000000 --probe 0,$((wh - bh)),000000 \
	--probe $((ww - 1)),$((wh - 1)),000000 --min-colours 2 --region 0,$bh,$ww,$((wh - 2 * bh)) \
	>"$outdir/box-cmp.log" 2>&1 ||
	conn_die "the letterboxed window is wrong: $(cat "$outdir/box-cmp.log")"
# Nothing but black on the bars.
"$imgcmp" "$outdir/box-window.ppm" --min-colours 2 --region 0,0,$ww,$bh >/dev/null 2>&1 &&
	conn_die "the bar above the picture is not plain black"

# The worker dies: the title says Off, and osio connect reports a broken connection.
kill -9 "$CONN_VMM_PID"
conn_wait_title 10 "^$VM - Off - osio\$" || conn_die "the title is '$(conn_title)', not Off"
status=0
conn_wait_exit "$CONN_PID" 20 || status=$?
((status == 1)) || conn_die "osio connect ended with status $status, not 1 (broken connection)"
grep -q "broke" "$CONN_OUT/connect.log" ||
	conn_die "osio connect did not say the connection broke: $(cat "$CONN_OUT/connect.log")"
echo "PASS: $me: the window matched the VM's screen at 1:1 and 2:1, letterboxed right"
