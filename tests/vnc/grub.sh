#!/usr/bin/env bash
# ctest vnc/grub-VMM: real software typed at through a real VNC client. SeaBIOS boots Debian's
# GRUB rescue ISO (grub-rescue-pc) from the DVD drive of QEMU TCG or osio; TigerVNC's viewer
# on a private Xvfb connects and xdotool presses 'c' at GRUB's menu, then types
# `echo osio typed this` and Enter at its command line. GRUB's text screen must then show the
# command and its output. The scripts watch each VMM's screen to know when to type: QEMU's
# text buffer through its monitor; osio's screenshots through its control socket (GRUB's
# highlighted menu entry is a light bar on text row 4), and its --screen-text, written when
# it ends, holds the text to check.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: grub.sh --vmm qemu|osio [--osio PATH] [--iso GRUB-RESCUE.ISO] --outdir DIR
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
me=grub
vmm='' osio='' outdir=''
iso=/usr/lib/grub-rescue/grub-rescue-cdrom.iso
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--iso) iso=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ ($vmm == qemu || ($vmm == osio && -n $osio)) && -n $outdir ]] || { usage >&2; exit 2; }
me=grub-$vmm
if [[ ! -r $iso ]]; then
	echo "SKIP: $me: cannot read the GRUB rescue ISO $iso: install the Debian package" \
		"grub-rescue-pc or name one with --iso"
	exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: $me: python3 not found (reads QEMU's text buffer)"; exit 77; }

# shellcheck source=lib.sh
. "$here/lib.sh"
vnc_init "$outdir"
serial=$outdir/serial.out
screen=$outdir/screen.txt
: >"$serial"
rm -f "$screen"

# The text that must be on the screen at the end: the command line and GRUB's answer.
command='echo osio typed this'
answer='osio typed this'
# osio's run is bounded; the script ends it (SIGTERM) once GRUB has answered.
osio_run_s=240

# qemu_text: QEMU's VGA text buffer as lines ($screen).
qemu_text() {
	rm -f "$VNC_TMP/text.raw"
	vnc_monitor "pmemsave 0xb8000 4000 \"$VNC_TMP/text.raw\"" && [[ -s $VNC_TMP/text.raw ]] ||
		return 1
	python3 - "$VNC_TMP/text.raw" >"$screen" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
for r in range(25):
    print(bytes(b[r * 160 + 2 * c] for c in range(80)).decode('cp437').rstrip())
EOF
}

qemu_shows() {
	qemu_text && grep -qE -- "$1" "$screen"
}

# osio_row_lit ROW: the share (per mille) of light pixels on the middle scan line of text row ROW
# (9x16 cells) of a screenshot through osio's control socket. GRUB's menu shows its highlighted
# first entry on row 4 as a light bar; its command line leaves that row dark.
osio_row_lit() {
	python3 - "$OSIO_RUNTIME_DIR/$VNC_OSIO_NAME.sock" "$VNC_TMP/shot.png" "$1" <<'EOF'
import json, socket, struct, sys, zlib
sock, png, row = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sock)
f = s.makefile('rw')
f.readline()
f.write(json.dumps({'execute': 'screenshot', 'arguments': {'file': png}, 'id': 1}) + '\n')
f.flush()
if 'return' not in json.loads(f.readline()):
    sys.exit(1)
data = open(png, 'rb').read()
pos, idat = 8, b''
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
if depth != 8 or ctype not in (2, 6):
    sys.exit(1)
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, y_want = bytearray(stride), row * 16 + 8
if h <= y_want:
    print(0)
    sys.exit(0)
for y in range(y_want + 1):
    ft = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if ft == 1:
            line[i] = (line[i] + a) & 255
        elif ft == 2:
            line[i] = (line[i] + b) & 255
        elif ft == 3:
            line[i] = (line[i] + (a + b) // 2) & 255
        elif ft == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
xs = range(3 * 9, min(w, 77 * 9))
lit = sum(1 for x in xs if sum(prev[x * bpp:x * bpp + 3]) > 3 * 0x80)
print(lit * 1000 // max(1, len(xs)))
EOF
}

# After the command: GRUB's next prompt on row 10 (the command on 8, its output on 9).
osio_prompt_again() {
	local p
	p=$(osio_row_lit 10 2>/dev/null) && ((p > 0))
}

# Waits (up to a minute) until text row 8, GRUB's command line, looks the same twice
# three seconds apart: GRUB echoes slowly under kvm_pvm on a loaded machine.
osio_row8_settles() {
	local prev=-1 now i
	for ((i = 0; i < 20; i++)); do
		now=$(osio_row_lit 8 2>/dev/null) || return 1
		((now == prev)) && return 0
		prev=$now
		sleep 3
	done
	return 1
}

# Something drawn on text row N.
osio_row_lit_on() {
	local p
	p=$(osio_row_lit "$1" 2>/dev/null) && ((p > 0))
}

# GRUB's command line: "grub>" on row 8 and nothing below it (the menu has entries
# there), with the help text on row 4 (the menu, even half drawn, has its highlighted
# entry there: a bar lit across the row).
osio_command_line() {
	local p q r
	p=$(osio_row_lit 8 2>/dev/null) && ((p > 0)) &&
		q=$(osio_row_lit 9 2>/dev/null) && ((q == 0)) &&
		r=$(osio_row_lit 4 2>/dev/null) && ((r > 0 && r < 600))
}

vnc_xvfb 1600 1200
port=$(vnc_free_port)
if [[ $vmm == qemu ]]; then
	vnc_qemu "$port" "$serial" -cdrom "$iso" -boot d
else
	vnc_osio "$osio" "$port" "$serial" --dvd "$iso" --boot dvd --timeout "${osio_run_s}s" \
		--screen-text "$screen"
fi
vnc_viewer "$port"
vnc_focus

if [[ $vmm == qemu ]]; then
	vnc_wait 120 qemu_shows "for a command-line" ||
		vnc_die "GRUB's menu never showed (screen in $screen)"
	xdotool key c || vnc_die "xdotool key failed"
	vnc_wait 30 qemu_shows '^grub> *$' ||
		vnc_die "'c' did not give GRUB's command line (screen in $screen)"
else
	# Under kvm_pvm GRUB's menu does not see keys pressed while it shows: it polls the
	# BIOS (int 16h, AH=11h), whose only interrupt window is `sti; nop; cli`, which the
	# emulated real mode never injects IRQ 1 (nor the timer: the countdown crawls) in.
	# So 'c' is pressed while SeaBIOS boots the DVD and GRUB loads: the BIOS keeps it and
	# GRUB's menu reads it first thing, as when a user presses a key early. One press
	# timed by the screen came too late on a loaded machine (the menu was up), so 'c' is
	# pressed every second from SeaBIOS's banner until the command line shows; the presses
	# the menu did not take are typed at the command line (GRUB's command line blocks in
	# int 16h with `sti; hlt` and gets keys) and erased there.
	vnc_wait 120 osio_row_lit_on 0 || vnc_die "SeaBIOS never drew (see $VNC_TMP/shot.png)"
	presses=0
	until osio_command_line; do
		((presses < 150)) ||
			vnc_die "'c' did not give GRUB's command line (see $VNC_TMP/shot.png)"
		xdotool key c || vnc_die "xdotool key failed"
		presses=$((presses + 1))
		sleep 1
	done
	# Every stray 'c' echoed (row 8 stops changing), then erased, and the erasing done.
	osio_row8_settles || vnc_die "GRUB's command line never settled (see $VNC_TMP/shot.png)"
	for ((i = 0; i < presses + 2; i++)); do
		xdotool key BackSpace || vnc_die "xdotool key failed"
		sleep 0.1
	done
	osio_row8_settles || vnc_die "GRUB's command line never settled (see $VNC_TMP/shot.png)"
	vnc_wait 60 osio_command_line ||
		vnc_die "the stray 'c's did not go (see $VNC_TMP/shot.png)"
fi
if [[ $vmm == qemu ]]; then
	xdotool type --delay 80 "$command" || vnc_die "xdotool type failed"
else
	# GRUB echoes slowly under kvm_pvm (its BIOS calls are emulated) and the BIOS keeps 15
	# keys: one word at a time, each once the command line (row 8) has grown.
	lit=$(osio_row_lit 8) || vnc_die "no screenshot"
	first=1
	for word in $command; do
		((first)) || word=" $word"
		first=0
		xdotool type --delay 80 "$word" || vnc_die "xdotool type failed"
		vnc_wait 60 eval 'now=$(osio_row_lit 8 2>/dev/null) && ((now > lit))' ||
			vnc_die "GRUB did not echo '$word' (see $VNC_TMP/shot.png)"
		lit=$now
	done
	sleep 2
fi
xdotool key Return || vnc_die "xdotool key failed"

if [[ $vmm == qemu ]]; then
	vnc_wait 30 qemu_shows "^$answer\$" ||
		vnc_die "GRUB did not answer '$answer' (screen in $screen)"
else
	vnc_wait 120 osio_prompt_again ||
		vnc_die "GRUB showed no prompt after the command (see $VNC_TMP/shot.png)"
	# osio writes the text screen as it ends; SIGTERM ends it (status 143).
	kill -TERM "$VNC_VMM_PID"
	status=0
	vnc_wait_vmm 30 || status=$?
	[[ -s $screen ]] || vnc_die "osio wrote no screen text to $screen (see $VNC_OUT/vmm.log)"
fi
# The command right after a prompt, GRUB's answer on the next line.
grep -A1 -E "^grub> $command\$" "$screen" | tail -1 | grep -qx -- "$answer" ||
	vnc_die "the screen does not show 'grub> $command' then '$answer':" \
		"$(grep -E '^grub>|typed' "$screen")"
[[ $vmm == osio ]] && vnc_osio_status "$status" 143
echo "PASS: $me: GRUB's command line shows what the client typed"
