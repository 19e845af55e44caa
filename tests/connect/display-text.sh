#!/usr/bin/env bash
# ctest connect/display-text: the control API's display-text on real workers. SeaBIOS with
# nothing to boot shows its text screen: 80x25, every line exactly 80 characters, its banner
# among them in light grey on black (attribute 07), the VGA BIOS's palette, a cursor in the
# screen; the animate guest in a 640x480 VBE mode: "unavailable", the display in a graphics
# mode. Replies are kept in OUTDIR.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=display-text
OSIO='' TOOLS='' guests='' outdir=''
# shellcheck source=lib.sh
. "$here/lib.sh"
conn_args "usage: display-text.sh --osio PATH --tools DIR --guests DIR --outdir DIR" \
	osio=OSIO tools=TOOLS guests=guests outdir=outdir -- "$@"
command -v jq >/dev/null || conn_skip "jq not found: install the Debian package jq"
[[ -r /dev/kvm && -w /dev/kvm ]] || conn_skip "/dev/kvm cannot be used here"
[[ -r $guests/animate.elf ]] || conn_skip "$guests/animate.elf is not built"
conn_init "$outdir" nox

# check NAME JQ-EXPRESSION FILE: the expression is true of the reply in FILE.
check() {
	jq -e "$2" "$3" >/dev/null 2>&1 || conn_die "$1: '$2' is not true of $(head -c 600 "$3")"
}

# --- a text mode: SeaBIOS's screen ---
conn_run --memory 64M --timeout 300
reply=$outdir/seabios.json
banner() {
	conn_ctl display-text >"$reply" 2>"$outdir/seabios.err" &&
		jq -e '[.lines[] | select(test("SeaBIOS"))] | length == 1' "$reply" >/dev/null 2>&1
}
conn_wait 120 banner ||
	conn_die "SeaBIOS's banner never showed in display-text: $(cat "$outdir/seabios.err")" \
		"$(head -c 600 "$reply")"
check "geometry" '.cols == 80 and .rows == 25' "$reply"
check "lines" '(.lines | length) == 25 and all(.lines[]; length == 80)' "$reply"
check "attributes" '(.attrs | length) == 25 and all(.attrs[]; test("^[0-9a-f]{160}$"))' "$reply"
# The banner's cells: grey on black, where the text is.
check "banner attributes" \
	'[range(25) as $r | select(.lines[$r] | test("SeaBIOS")) |
	  (.lines[$r] | index("SeaBIOS")) as $c | .attrs[$r][2 * $c:2 * $c + 14]] ==
	 ["07070707070707"]' "$reply"
check "palette" '(.palette | length) == 16 and all(.palette[]; test("^#[0-9a-f]{6}$")) and
	.palette[0] == "#000000" and .palette[1] == "#0000a8" and .palette[7] == "#a8a8a8" and
	.palette[8] == "#575757" and .palette[15] == "#ffffff"' "$reply"
check "blink" '.blink == true' "$reply"
check "cursor" '.cursor.x >= 0 and .cursor.x < 80 and .cursor.y >= 0 and .cursor.y < 25 and
	(.cursor.visible | type) == "boolean"' "$reply"
# Code page 437 as Unicode: no control characters (0x00 is a space, 0x01-0x1f symbols).
check "characters" 'all(.lines[]; explode | all(.[]; . >= 32))' "$reply"
procs_stop "$CONN_VMM_PID"
mv "$outdir/run.log" "$outdir/seabios-run.log"

# --- a graphics mode: the animate guest's 640x480 VBE screen ---
VM=$VM-gfx
conn_run --memory 64M --timeout 300 --kernel "$guests/animate.elf" \
	--append "width=640 height=480 frames=2 hold=1"
# The guest says when its last frame is up (the screen is 640x480 from the start, before the
# guest has set any mode, so its size alone says nothing).
vbe() {
	grep -q "hold: the last frame" "$outdir/run.log" &&
		conn_ctl screenshot "{\"file\": \"$outdir/animate.png\"}" >"$outdir/shot.json" 2>/dev/null &&
		jq -e '.width == 640 and .height == 480' "$outdir/shot.json" >/dev/null 2>&1
}
conn_wait 120 vbe || conn_die "the animate guest never set its 640x480 mode"
status=0
conn_ctl display-text >"$outdir/animate.json" 2>"$outdir/animate.err" || status=$?
((status == 1)) || conn_die "display-text in a graphics mode: status $status, not 1"
grep -q "display-text: the display is in a graphics mode" "$outdir/animate.err" ||
	conn_die "display-text in a graphics mode said: $(cat "$outdir/animate.err")"
procs_stop "$CONN_VMM_PID"
if grep -E "Sanitizer|runtime error" "$outdir/seabios-run.log" "$outdir/run.log"; then
	conn_die "a worker reported memory errors (see $outdir/*run.log)"
fi
echo "PASS: $me: SeaBIOS's text screen as 25 lines of 80, its colours and cursor;" \
	"unavailable in a VBE mode"
