#!/usr/bin/env bash
# ctest connect/typing: the keyboard through osio connect's window. The kbdecho guest
# program (tests/guest/progs/kbdecho.c) prints each scan code it reads and a "text:" line
# at each Enter. xdotool types into the window on a private Xvfb: the guest must see the
# text; Ctrl+Alt+G grabs and releases (the title says how to release) without the G
# reaching the guest; a key held down repeats at the keyboard's typematic rate;
# osio send-key types too and reports unknown keys. Esc ends the guest: the window says
# "Off" and osio connect exits 0.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=typing
OSIO='' TOOLS='' kernel='' outdir=''
# shellcheck source=lib.sh
. "$here/lib.sh"
conn_args "usage: typing.sh --osio PATH --tools DIR --kernel KBDECHO.ELF --outdir DIR" \
	osio=OSIO tools=TOOLS kernel=kernel outdir=outdir -- "$@"
[[ -r $kernel ]] || { echo "FAIL: $me: cannot read $kernel: build it first"; exit 1; }

conn_init "$outdir"
serial=$outdir/serial.out
: >"$serial"
conn_xvfb 1024 768
conn_run --memory 64M --kernel "$kernel" --append timeout=240 --serial "file:$serial" \
	--timeout 300
conn_wait_line 120 "$serial" '^ready:' || conn_die "the guest never became ready (see $serial)"
conn_connect
conn_wait_title 10 "^$VM - Running - osio\$" || conn_die "the title is '$(conn_title)'"
# No window manager gives the focus: take it.
xdotool windowfocus --sync "$CONN_WIN" || conn_die "cannot focus the window"
sleep 0.5

# count ERE: lines of the guest's output matching ERE so far.
count() {
	grep -cE -- "$1" "$serial"
}
# line TEXT: types TEXT and Enter into the window; the guest must print "text: TEXT".
line() {
	local n
	n=$(count "^text: ")
	xdotool type --delay 50 "$1" || conn_die "xdotool type failed"
	xdotool key Return || conn_die "xdotool key failed"
	conn_wait_line 60 "$serial" '^text: ' $((n + 1)) ||
		conn_die "the guest saw no Enter after '$1' (see $serial)"
	[[ $(grep '^text: ' "$serial" | tail -1 | tr -d '\r') == "text: $1" ]] ||
		conn_die "the guest read '$(grep '^text: ' "$serial" | tail -1)', not 'text: $1'"
}

line 'Hello, World 42!'
line 'a-z;[]'

# Ctrl+Alt+G grabs: the title says how to release; the guest sees Ctrl and Alt, no G.
g=$(count 'make G')
alt=$(count 'break LAlt')
xdotool key ctrl+alt+g || conn_die "xdotool key failed"
conn_wait_title 10 "^$VM - Running - osio \(Ctrl\+Alt\+G releases\)\$" ||
	conn_die "after Ctrl+Alt+G the title is '$(conn_title)'"
conn_wait_line 30 "$serial" 'break LAlt' $((alt + 1)) || conn_die "the guest never saw Alt go up"
line 'held'
xdotool key ctrl+alt+g || conn_die "xdotool key failed"
conn_wait_title 10 "^$VM - Running - osio\$" ||
	conn_die "after Ctrl+Alt+G again the title is '$(conn_title)'"
conn_wait_line 30 "$serial" 'break LAlt' $((alt + 2)) || conn_die "the guest never saw Alt go up"
(($(count 'make G') == g)) || conn_die "the G of Ctrl+Alt+G reached the guest (see $serial)"

# A key held down repeats at the keyboard's typematic rate (the guest's: 500 ms, then
# 10.9 a second by default, about 11 makes in 1.5 s), not at the X server's (660 ms,
# then 25 a second: about 22): osio drops the window's repeats and the keyboard repeats.
a=$(count 'make A')
xdotool keydown a && sleep 1.5 && xdotool keyup a || conn_die "xdotool keydown/keyup failed"
n=$(count '^text: ')
xdotool key Return || conn_die "xdotool key failed"
conn_wait_line 30 "$serial" '^text: ' $((n + 1)) || conn_die "the guest saw no Enter"
last=$(grep '^text: ' "$serial" | tail -1 | tr -d '\r')
made=$(($(count 'make A') - a))
((made >= 4 && made <= 14)) && [[ $last =~ ^text:\ a+$ ]] && ((${#last} - 6 == made)) ||
	conn_die "holding A for 1.5 s gave $made makes and '$last' (see $serial)"

# osio send-key: combinations one after the other; an unknown key is an error.
n=$(count '^text: ')
"$OSIO" send-key "$VM" shift-o k enter >"$outdir/send-key.log" 2>&1 ||
	conn_die "osio send-key failed: $(cat "$outdir/send-key.log")"
conn_wait_line 30 "$serial" '^text: ' $((n + 1)) || conn_die "the guest saw no send-key Enter"
[[ $(grep '^text: ' "$serial" | tail -1 | tr -d '\r') == "text: Ok" ]] ||
	conn_die "send-key gave '$(grep '^text: ' "$serial" | tail -1)', not 'text: Ok'"
status=0
"$OSIO" send-key "$VM" ctrl-alt-dle >"$outdir/send-key.log" 2>&1 || status=$?
((status == 1)) && grep -q "unknown key 'dle'" "$outdir/send-key.log" ||
	conn_die "send-key of an unknown key: status $status, $(cat "$outdir/send-key.log")"

# Esc ends the guest: Off in the title, then the window goes and osio connect exits 0.
xdotool key Escape || conn_die "xdotool key failed"
conn_wait_title 60 "^$VM - Off - osio\$" || conn_die "the title is '$(conn_title)', not Off"
status=0
conn_wait_exit "$CONN_PID" 20 || status=$?
((status == 0)) || conn_die "osio connect ended with status $status after the VM's power-off:" \
	"$(cat "$CONN_OUT/connect.log")"
status=0
conn_wait_exit "$CONN_VMM_PID" 20 || status=$?
((status == 0)) || conn_die "osio run ended with status $status (the guest's result is in $serial)"
echo "PASS: $me: $(count '^key:') scan code units as typed"
