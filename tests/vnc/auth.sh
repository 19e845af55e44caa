#!/usr/bin/env bash
# ctest vnc/auth: the VNC server's password authentication and its refusals, from real clients
# (rfbclient.py: RFB 3.8 with VNC authentication; gvnccapture where it helps): the right
# password gets the screen, a wrong one is refused and leaves the VM alone, the view-only
# password sees but does not type, a password file others can read and a non-loopback address
# without a password are refused with a clear message, and hostile clients (garbage, truncated
# messages, a flood, a viewer that stops reading) are dropped while another viewer keeps getting
# the screen and the guest keeps running.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: auth.sh --osio PATH --imgcmp PATH --disk VBE.IMG --kernel KBDECHO.ELF --outdir DIR

VBE.IMG: tests/guest/boot's vbe.img (a picture that stays until COM1 gets a byte);
KBDECHO.ELF: tests/guest/progs/kbdecho.c (prints the scan codes it receives).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
me=auth
osio='' imgcmp='' disk='' kernel='' outdir=''
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--imgcmp) imgcmp=${2-}; shift 2 ;;
	--disk) disk=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -n $osio && -n $imgcmp && -n $disk && -n $kernel && -n $outdir ]] || { usage >&2; exit 2; }

# shellcheck source=novnc/common.sh
. "$here/novnc/common.sh"
[[ -x $osio ]] || t_die "cannot run osio '$osio': build it first"
[[ -x $imgcmp ]] || t_die "cannot run the image comparator '$imgcmp': build it first"
[[ -r $disk ]] || t_die "cannot read the disk image '$disk': build it first"
[[ -r $kernel ]] || t_die "cannot read the guest program '$kernel': build it first"
t_init "$outdir"
python3 -c 'import ctypes.util, sys; sys.exit(not ctypes.util.find_library("crypto"))' ||
	t_skip "no libcrypto for VNC authentication's DES: install the Debian package libssl3"

rfb() {
	python3 "$here/novnc/rfbclient.py" --port "$port" "$@"
}

# Passwords: line 1 full access, line 2 view only (mode 600); a wrong one; a copy others can read.
full=fa$((RANDOM % 100000))
view=vo$((RANDOM % 100000))
pwfile=$T_TMP/vnc.pass
(umask 077 && printf '%s\n%s\n' "$full" "$view" >"$pwfile") || t_die "cannot write $pwfile"
(umask 077 && printf 'wrong%s\n' $((RANDOM % 1000)) >"$T_TMP/wrong.pass") || t_die "write failed"
(umask 077 && printf '\n' >"$T_TMP/none.pass") || t_die "write failed"
{ cp "$pwfile" "$T_TMP/open.pass" && chmod 644 "$T_TMP/open.pass"; } || t_die "cannot copy $pwfile"
n=0

# refused ERE WHAT ARGS...: osio run ARGS must end with status 1 within 60 s, saying ERE.
refused() {
	local re=$1 what=$2 log=$T_TMP/refused$((++n)).log
	shift 2
	timeout 60 "$osio" run --name "auth-r$n-$$" --memory 64M --serial none --timeout 30 "$@" \
		</dev/null >"$log" 2>&1
	local status=$?
	((status == 1)) || t_die "$what: osio ended with status $status, not 1: $(cat "$log")"
	grep -qE -- "$re" "$log" || t_die "$what: osio's message does not say '$re': $(cat "$log")"
	t_note "refused as it should: $what: $(grep -E -- "$re" "$log" | head -1)"
}

# stop_vm: ends the current VM (its status is not checked).
stop_vm() {
	t_stop "$T_VM_PID"
}

# --- refusals at start ----------------------------------------------------------------------
refused "open\.pass.*chmod 600|chmod 600.*open\.pass" "a password file others can read" \
	--vnc auto --vnc-password-file "$T_TMP/open.pass"
refused "missing\.pass" "a password file that does not exist" \
	--vnc auto --vnc-password-file "$T_TMP/missing.pass"
refused "none\.pass.*empty" "a password file with an empty password" \
	--vnc auto --vnc-password-file "$T_TMP/none.pass"
any=$(t_free_port)
refused "password.*--vnc-insecure|--vnc-insecure.*password" "0.0.0.0 without a password" \
	--vnc "0.0.0.0:$any"

# Off loopback it serves with --vnc-insecure (no authentication at all) or with a password
# (VNC authentication only).
t_osio "$osio" "auth-insecure-$$" "$T_TMP/insecure.log" --memory 64M --serial none \
	--timeout 120 --vnc "0.0.0.0:$any" --vnc-insecure
port=$T_PORT
((port == any)) || t_die "osio serves VNC on port $port, not the $any asked for"
out=$(rfb probe) || t_die "0.0.0.0 with --vnc-insecure: $out"
[[ $out == *"security types: 1" ]] || t_die "0.0.0.0 with --vnc-insecure should offer None: $out"
out=$(rfb capture "$T_TMP/insecure.png") || t_die "0.0.0.0 with --vnc-insecure: $out"
t_note "0.0.0.0 with --vnc-insecure serves without a password: $out"
stop_vm
any=$(t_free_port)
t_osio "$osio" "auth-open-$$" "$T_TMP/open.log" --memory 64M --serial none --timeout 120 \
	--vnc "0.0.0.0:$any" --vnc-password-file "$pwfile"
port=$T_PORT
out=$(rfb probe) || t_die "0.0.0.0 with a password: $out"
[[ $out == *"security types: 2" ]] ||
	t_die "0.0.0.0 with a password should offer VNC authentication only: $out"
t_note "0.0.0.0 with a password asks for it: $out"
stop_vm

# --- the screen behind a password -------------------------------------------------------------
vm=auth-$$
cp "$disk" "$T_TMP/disk.img" || t_die "cannot copy $disk"
t_osio "$osio" "$vm" "$T_TMP/osio.log" --memory 128M --disk "$T_TMP/disk.img" --timeout 600 \
	--serial "file:$T_TMP/serial.out" --vnc auto --vnc-password-file "$pwfile"
port=$T_PORT
t_wait_line 120 "$T_TMP/serial.out" '^screen: ready' ||
	t_die "the boot program did not draw (see $T_TMP/serial.out): $(cat "$T_TMP/serial.out")"
t_screenshot "$vm" "$T_TMP/osio.png" || t_die "osio's screenshot failed"
"$imgcmp" "$T_TMP/osio.png" --size 1024x768 --min-colours 8 >"$T_TMP/imgcmp.log" 2>&1 ||
	t_die "osio's screenshot is not the boot program's picture: $(cat "$T_TMP/imgcmp.log")"

# same PNG WHAT: PNG equals osio's screenshot now, and that is still the first one.
same() {
	t_screenshot "$vm" "$T_TMP/now.png" || t_die "osio's screenshot failed"
	"$imgcmp" "$T_TMP/osio.png" "$T_TMP/now.png" >"$T_TMP/imgcmp.log" 2>&1 ||
		t_die "$2: the VM's screen changed: $(cat "$T_TMP/imgcmp.log")"
	"$imgcmp" "$T_TMP/now.png" "$1" --diff "$T_TMP/diff.ppm" >"$T_TMP/imgcmp.log" 2>&1 ||
		t_die "$2: the client's screen differs from osio's: $(cat "$T_TMP/imgcmp.log")"
}
# alive WHAT: the VM still runs.
alive() {
	kill -0 "$T_VM_PID" 2>/dev/null || t_die "$1: osio ended: $(cat "$T_TMP/osio.log")"
	local state
	state=$(t_state "$vm")
	[[ $state == running ]] || t_die "$1: the VM is '$state', not running"
}

out=$(rfb probe) || t_die "probe: $out"
[[ $out == *"security types: 2" ]] || t_die "with a password file the server must ask for it: $out"
out=$(rfb --password-file "$pwfile" --line 1 capture "$T_TMP/full.png") ||
	t_die "the right password: $out"
same "$T_TMP/full.png" "the right password"
cp "$T_TMP/full.png" "$T_OUT/auth-capture.png"
t_note "the right password gets the screen: $out"
out=$(rfb --password-file "$pwfile" --line 2 capture "$T_TMP/view.png") ||
	t_die "the view-only password: $out"
same "$T_TMP/view.png" "the view-only password"
t_note "the view-only password gets the screen: $out"

# Wrong or no password: refused (status 3), the VM untouched, and the right one still works.
for how in wrong none; do
	if [[ $how == wrong ]]; then
		out=$(rfb --password-file "$T_TMP/wrong.pass" capture "$T_TMP/wrong.png")
	else
		out=$(rfb capture "$T_TMP/wrong.png")
	fi
	status=$?
	((status == 3)) || t_die "$how password: the client ended with $status, not refused: $out"
	[[ ! -e $T_TMP/wrong.png ]] || t_die "$how password: the client got a screen"
	t_note "$how password refused: $out"
	alive "after the $how password"
	out=$(rfb --password-file "$pwfile" capture "$T_TMP/again.png") ||
		t_die "the right password after the $how one: $out"
	same "$T_TMP/again.png" "the right password after the $how one"
done
# gvnccapture (gtk-vnc), a real client that reads the password from its terminal: typed on a
# pseudo-terminal by askpass.py. Right and view-only passwords get the screen, a wrong one not.
if command -v gvnccapture >/dev/null; then
	for try in "$pwfile 1 yes" "$pwfile 2 yes" "$T_TMP/wrong.pass 1 no"; do
		read -r file line good <<<"$try"
		rm -f "$T_TMP/gvnc.png"
		python3 "$here/novnc/askpass.py" --timeout 30 --password-file "$file" --line "$line" \
			-- gvnccapture "127.0.0.1:$((port - 5900))" "$T_TMP/gvnc.png" >"$T_TMP/gvnc.log" 2>&1
		status=$?
		what="gvnccapture with $(basename "$file") line $line"
		if [[ $good == yes ]]; then
			if ((status != 0)) || [[ ! -s $T_TMP/gvnc.png ]]; then
				t_die "$what: status $status, no screen: $(cat "$T_TMP/gvnc.log")"
			fi
			same "$T_TMP/gvnc.png" "$what"
			t_note "$what gets the screen"
		else
			if ((status == 0 || status == 124)) || [[ -e $T_TMP/gvnc.png ]]; then
				t_die "$what: status $status, should be refused: $(cat "$T_TMP/gvnc.log")"
			fi
			t_note "$what is refused: $(grep -v '^Password' "$T_TMP/gvnc.log" | tr '\n' ' ')"
		fi
	done
	alive "after gvnccapture"
else
	t_note "gvnccapture not found (Debian package gvncviewer): its checks are left out"
fi

# --- hostile clients, while a viewer watches ---------------------------------------------------
rm -f "$T_TMP/stop"
t_spawn "$T_TMP/watch.log" python3 "$here/novnc/rfbclient.py" --port "$port" \
	--password-file "$pwfile" watch "$T_TMP/stop" "$T_TMP/watch.png"
watcher=$T_LAST_PID
t_wait 20 test -s "$T_TMP/watch.png" || t_die "the watching viewer got no screen: $(cat "$T_TMP/watch.log")"
t_spawn "$T_TMP/stall.log" python3 "$here/novnc/rfbclient.py" --port "$port" \
	--password-file "$pwfile" stall 20
staller=$T_LAST_PID
for mode in random bad-version bad-security truncated-auth truncated-init bad-message \
	truncated-message bad-pixel-format huge-cut-text flood; do
	out=$(rfb --password-file "$pwfile" --timeout 15 garbage "$mode")
	status=$?
	((status == 0)) || t_die "a client sending garbage ($mode) was not dropped: $out"
	t_note "$out"
	alive "after the garbage ($mode)"
	kill -0 "$watcher" 2>/dev/null ||
		t_die "the watching viewer stopped after the garbage ($mode): $(cat "$T_TMP/watch.log")"
done
# The viewer that stopped reading must not have held the others up either.
kill -0 "$staller" 2>/dev/null || t_note "$(cat "$T_TMP/stall.log")"
touch "$T_TMP/stop"
wait "$watcher"
status=$?
((status == 0)) || t_die "the watching viewer failed: $(cat "$T_TMP/watch.log")"
t_note "$(cat "$T_TMP/watch.log")"
same "$T_TMP/watch.png" "the watching viewer after the garbage"
out=$(rfb --password-file "$pwfile" capture "$T_TMP/after.png") ||
	t_die "a new viewer after the garbage: $out"
same "$T_TMP/after.png" "a new viewer after the garbage"
alive "at the end"
stop_vm

# --- the view-only password does not type ------------------------------------------------------
vm=auth-kbd-$$
t_osio "$osio" "$vm" "$T_TMP/kbd.log" --memory 64M --kernel "$kernel" --append timeout=120 \
	--timeout 180 --serial "file:$T_TMP/kbd.out" --vnc auto --vnc-password-file "$pwfile"
port=$T_PORT
t_wait_line 60 "$T_TMP/kbd.out" '^ready:' || t_die "kbdecho never became ready: $(cat "$T_TMP/kbd.out")"
out=$(rfb --password-file "$pwfile" --line 2 keys v w) || t_die "the view-only viewer: $out"
out=$(rfb --password-file "$pwfile" --line 1 keys f) || t_die "the full-access viewer: $out"
t_wait_line 30 "$T_TMP/kbd.out" '^key: a1 break F' ||
	t_die "the full-access viewer's key did not reach the guest: $(cat "$T_TMP/kbd.out")"
# Every key the guest saw: exactly F's make and break (the view-only viewer's V and W are not).
keys=$(tr -d '\r' <"$T_TMP/kbd.out" | grep '^key: ' | tr '\n' ';')
[[ $keys == "key: 21 make F 'f';key: a1 break F;" ]] ||
	t_die "the guest should have got F from the full-access viewer only, not: $keys"
t_note "the view-only viewer's keys did not reach the guest; the full-access viewer's did"
# Hostile clients here too; then the guest must still take keys (it runs, its input works).
for mode in random truncated-message flood; do
	out=$(rfb --password-file "$pwfile" --timeout 15 garbage "$mode") ||
		t_die "a client sending garbage ($mode) was not dropped: $out"
done
out=$(rfb --password-file "$pwfile" keys g) || t_die "the full-access viewer after garbage: $out"
t_wait_line 30 "$T_TMP/kbd.out" '^key: a2 break G' ||
	t_die "the guest did not get a key after the garbage: $(cat "$T_TMP/kbd.out")"
t_note "after garbage, flood and truncated messages the guest still gets the keys typed"
out=$(rfb --password-file "$pwfile" keys Escape) || t_die "the full-access viewer: $out"
vm_gone() { ! kill -0 "$T_VM_PID" 2>/dev/null; }
t_wait 30 vm_gone || t_die "kbdecho did not end on Esc"
wait "$T_VM_PID"
status=$?
((status == 0)) || t_die "kbdecho ended with status $status: $(cat "$T_TMP/kbd.out")"
echo "PASS: $me: passwords, view-only, refusals and hostile clients as expected"
