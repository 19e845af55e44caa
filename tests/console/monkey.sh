#!/bin/bash
# A monkey test of the console: random keys, mouse clicks and resizes for a minute against a
# scratch store (VMs off, one running, one saved, one with a broken vmconfig, a worker killed
# midway); the console must stay up with a clean stderr and come back to its main screen.
# usage: monkey.sh OSIO [ARTIFACTS]
# OSIO_MONKEY_SEED replays a run (the seed is printed); OSIO_MONKEY_SECONDS sets its length.
set -u

OSIO=$(realpath "$1")
ARTIFACTS=${2:-}
iso=/usr/lib/grub-rescue/grub-rescue-cdrom.iso
seconds=${OSIO_MONKEY_SECONDS:-60}
seed=${OSIO_MONKEY_SEED:-$(($(date +%s%N) % 2147483647))}

# shellcheck disable=SC2034 # counted by lib.sh
failures=0
passes=0
# shellcheck source=tests/console/lib.sh
. "$(dirname "$0")/lib.sh"

con_need_tmux
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
[[ -r $iso ]] || { echo "SKIP: $iso missing (apt-get install grub-rescue-pc)"; exit 77; }
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: no usable /dev/kvm"; exit 77; }
[[ $seed =~ ^[0-9]+$ ]] || { echo "FAIL: OSIO_MONKEY_SEED must be a number"; exit 1; }

tmp=$(mktemp -d /tmp/osio-monkey.XXXXXX)
[[ -n $ARTIFACTS ]] || ARTIFACTS=$tmp/artifacts
con_dirs
rm -f "$ARTIFACTS"/*.txt "$ARTIFACTS"/console.stderr "$ARTIFACTS"/keys.log
export HOME=$tmp/home
mkdir -p "$HOME"
unset DISPLAY WAYLAND_DISPLAY OSIO_VNC_VIEWER OSIO_CONSOLE_OSIO
# Everything is fair in the scratch store, nothing outside it: refuse any other store.
case $OSIO_STORE_DIR in
"$tmp"/store) ;;
*) echo "FAIL: OSIO_STORE_DIR is not the test's own ($OSIO_STORE_DIR)"; exit 1 ;;
esac

# kill_workers: ends every worker of the scratch store.
kill_workers() {
	local f pid
	for f in "$OSIO_STORE_DIR"/vms/*/.running; do
		[[ -f $f ]] || continue
		read -r pid _ <"$f" && [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
	done
}
cleanup() {
	kill_workers
	rm -rf "${tmp:?}/store" "${tmp:?}/run" "${tmp:?}/home"
	[[ $ARTIFACTS == "$tmp"/* ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" TERM INT HUP

# The console (and the workers and commands it starts) runs where the rest of the host is read
# only and without its network: keys such as Delete with its disks, Edit Disk > Resize or an
# external switch on a host adapter reach nothing but the scratch folder. No file it writes
# grows past 512 MiB: a fixed-size disk of the wizards' default 40 GB fails instead (EFBIG, with
# SIGXFSZ ignored), which the console must show as an error.
sandbox=$tmp/osio-sandboxed
cat >"$sandbox" <<EOF
#!/bin/bash
exec unshare -mn -- bash -c 'mount --make-rprivate / && mount --bind "\$1" "\$1" &&
	mount -o remount,bind,ro / && cd "\$1" && ulimit -f 524288 || exit 1
	trap "" XFSZ
	"\${@:2}"
	st=\$?
	((st < 128)) || echo "monkey: osio \${3:-console} ended by signal \$((st - 128))" >&2
	exit \$st' sandbox $(printf %q "$tmp") $(printf %q "$OSIO") "\$@"
EOF
chmod +x "$sandbox"
if ! "$sandbox" list >/dev/null 2>&1; then
	echo "SKIP: cannot run osio with the host read only (unshare -mn needs root)"
	exit 77
fi

echo "seed $seed (OSIO_MONKEY_SEED=$seed replays it), ${seconds} s"
RANDOM=$seed

# --- the store ---------------------------------------------------------------------------------

must() {
	"$@" >"$tmp/cmd.out" 2>&1 || { cat "$tmp/cmd.out"; echo "FAIL: $*"; exit 1; }
}
must "$OSIO" create off1 --disk none
must "$OSIO" create off2 --disk 1G
must "$OSIO" create broken --disk none
printf '[disk\nfile = \n' >>"$OSIO_STORE_DIR/vms/broken/broken.vmconfig"
must "$OSIO" create run1 --disk none --memory 128M --dvd "$iso"
must "$OSIO" create saved1 --disk none --memory 64M --dvd "$iso"
must "$OSIO" start run1
must "$OSIO" start saved1
sleep 1
must "$OSIO" save saved1
[[ $("$OSIO" list --json | jq -r '.[] | select(.name == "saved1") | .state') == saved ]] ||
	{ echo "FAIL: saved1 is not saved"; exit 1; }
# The console sees this store and no other.
vms=$("$sandbox" list --json | jq -r '.[].name' | sort | tr '\n' ' ')
[[ $vms == "broken off1 off2 run1 saved1 " ]] ||
	{ echo "FAIL: the console's store is not the test's own: $vms"; exit 1; }

# --- the keys ----------------------------------------------------------------------------------

cols=80 rows=24
nav=(Up Down Left Right Up Down Tab BTab Enter Enter Escape NPage PPage Home End BSpace DC Space)
# F10 is Quit's.
fkeys=(F1 F2 F3 F4 F5 F6 F7 F8 F9 F11 F12 C-l C-])
# Every action's key but q (Quit), which ends the console.
letters=(n d w i v g c e s o h a p u t k b x m '?' / 1 2 3 4 y Y N)
alphabet='abcdefghijklmnoprstuvwxyz0123456789 ._-/~'
# Text beyond ASCII: accents, double-width characters, an emoji.
wide=(é Ünï ß 漢字 日本語 😀 ─)
quits=0
last="" picked=-100

say() { echo "$*" >>"$ARTIFACTS/keys.log"; }
# text: a few random characters of the alphabet (no q).
text() {
	local n=$((1 + RANDOM % 8)) s="" i
	for ((i = 0; i < n; i++)); do s+=${alphabet:RANDOM % ${#alphabet}:1}; done
	((RANDOM % 4)) || s+=${wide[RANDOM % ${#wide[@]}]}
	printf '%s' "$s"
}
# click: a mouse event at a random cell, as an xterm's X10 report (ESC [ M b x y).
click() {
	local b x y buttons=(0 0 0 1 2 3 3 64 65)
	b=${buttons[RANDOM % ${#buttons[@]}]}
	x=$((RANDOM % cols)) y=$((RANDOM % rows))
	((x > 222)) && x=222
	((y > 222)) && y=222
	say "mouse $b $x,$y"
	con_tmux send-keys -t "$CON_TARGET" -H 1b 5b 4d \
		"$(printf %x $((32 + b)))" "$(printf %x $((33 + x)))" "$(printf %x $((33 + y)))"
	# A press is followed by its release now and then, and twice for a double click.
	if ((b < 3 && RANDOM % 2)); then
		con_tmux send-keys -t "$CON_TARGET" -H 1b 5b 4d 23 \
			"$(printf %x $((33 + x)))" "$(printf %x $((33 + y)))"
	fi
}
one_key() {
	local w=$((RANDOM % 100)) k
	if ((w < 35)); then
		k=${nav[RANDOM % ${#nav[@]}]}
		say "key $k"
		con_keys "$k"
	elif ((w < 55)); then
		k=${letters[RANDOM % ${#letters[@]}]}
		say "key $k"
		con_tmux send-keys -t "$CON_TARGET" -l -- "$k"
	elif ((w < 65)); then
		k=$(text)
		say "text '$k'"
		con_tmux send-keys -t "$CON_TARGET" -l -- "$k"
	elif ((w < 73)); then
		k=${fkeys[RANDOM % ${#fkeys[@]}]}
		say "key $k"
		con_keys "$k"
	elif ((w < 93)); then
		k=mouse
		click
	elif ((w < 96)); then
		k=resize
		cols=$((20 + RANDOM % 181)) rows=$((5 + RANDOM % 56))
		say "resize ${cols}x$rows"
		con_resize "$cols" "$rows"
	else
		k=Escape
		say "key Escape Escape"
		con_keys Escape Escape
	fi
	last=$k
	# A click or Enter (Space in a menu) may pick Quit in the Actions pane or the key bar; a
	# click's action comes with its release, a few inputs later.
	[[ $k == mouse || $k == Enter || $k == Space ]] && picked=$n
}

# stderr_bad: the console's stderr holds more than what osio serial says when it starts and
# ends in the terminal (a sanitizer report, an assertion, a crash message).
stderr_bad() {
	[[ -s $ARTIFACTS/console.stderr ]] || return 1
	grep -Eq 'Sanitizer|runtime error|Assertion|^==|SUMMARY' "$ARTIFACTS/console.stderr" &&
		return 0
	grep -Evq '^$|^osio: ' "$ARTIFACTS/console.stderr"
}

# alive: whether the console runs (tmux asked again when it does not answer 0 or 1).
alive() {
	local i r
	for ((i = 0; i < 5; i++)); do
		r=$(con_tmux display-message -p -t "$CON_TARGET" '#{pane_dead}' 2>&1)
		[[ $r == 0 ]] && return 0
		[[ $r == 1 ]] && return 1
		say "tmux: '$r'"
		sleep 0.2
	done
	return 1
}

failed() {
	fail "$*"
	sleep 2 # a sanitizer's report is written whole
	con_capture "FAILED-screen" >/dev/null 2>&1
	for f in "$tmp"/last-*.txt; do [[ -f $f ]] && cp "$f" "$ARTIFACTS/FAILED-before-${f##*/}"; done
	echo "--- the last keys (all in $ARTIFACTS/keys.log) ---"
	tail -15 "$ARTIFACTS/keys.log"
	echo "--- console stderr ---"
	head -60 "$ARTIFACTS/console.stderr" 2>/dev/null
	echo "FAIL: monkey, seed $seed: replay with OSIO_MONKEY_SEED=$seed"
	exit 1
}

# start_console: the console at the monkey's size, in the sandbox.
start_console() {
	local OSIO=$sandbox
	con_start "$cols" "$rows"
}
start_console || exit 1
con_wait_text 'Name +State' 20 || failed "the console did not show its list"
# First what a seed once found (27): a menu open while the terminal shrinks under it.
say "resize 158x6, Enter, resize 24x46, Escape (a menu left past the edge)"
con_resize 158 6
con_keys Enter
sleep 0.3
con_resize 24 46
sleep 0.3
con_keys Escape
con_resize "$cols" "$rows"
start=$(date +%s)
killed=0 n=0 ring=0
while (($(date +%s) - start < seconds)); do
	# Mostly a key at a time; now and then a burst of them as fast as tmux sends them.
	if ((RANDOM % 25 == 0)); then
		for ((b = 0; b < 8; b++)); do
			one_key
			n=$((n + 1))
		done
	else
		one_key
		n=$((n + 1))
		sleep "0.0$((RANDOM % 6))"
	fi
	if ! alive; then
		sleep 0.3 # tmux learns the status when it has reaped the process
		st=$(con_tmux display-message -p -t "$CON_TARGET" \
			'#{pane_dead} #{pane_dead_status} #{pane_dead_signal}' 2>&1)
		say "the console ended: $st"
		st=${st#* }
		st=${st% *}
		if stderr_bad || [[ $st != 0 ]] || ((n - picked > 5)); then
			failed "the console ended (status '$st') after '$last'"
		fi
		# Quit picked in the Actions pane or the key bar: start it again.
		quits=$((quits + 1))
		say "console quit; started again"
		con_kill
		start_console || exit 1
		con_wait_text 'osio - ' 20 >/dev/null || failed "the console did not start again"
	fi
	# The last screens, for when it fails.
	con_screen >"$tmp/last-$((ring % 3)).txt" 2>/dev/null
	ring=$((ring + 1))
	if stderr_bad; then
		failed "the console wrote to its stderr"
	fi
	if ((!killed && $(date +%s) - start >= seconds / 2)); then
		killed=1
		for f in "$OSIO_STORE_DIR"/vms/*/.running; do
			[[ -f $f ]] || continue
			read -r pid _ <"$f"
			[[ $pid =~ ^[0-9]+$ ]] || continue
			say "SIGKILL worker $pid (${f%/.running})"
			kill -9 "$pid" 2>/dev/null
			break
		done
	fi
done
echo "$n inputs, $quits quits through the Actions pane or the key bar"
pass "the console ran through $n random inputs"

# --- back to the main screen -------------------------------------------------------------------

cols=80 rows=24
con_resize 80 24
# Out of the VM's screen or serial console in the terminal, if the monkey went there.
if ! con_screen | grep -q 'Virtual Machines\|osio - '; then
	con_keys C-]
	sleep 0.3
fi
# Esc Esc Esc. Esc in Settings with changes asks whether to discard them, where Esc would cancel
# the question (back to Settings): the question is answered with its Discard button instead.
for ((i = 0; i < 3; i++)); do
	con_keys Escape
	if con_wait_text 'Discard the changes' 1 >/dev/null; then
		say "Discard (Settings had changes)"
		con_keys Left Enter
		sleep 0.3
	fi
done
if ! con_wait_text ' \? Help +q Quit' 10 >/dev/null ||
	! con_wait_text '^ ?osio - [0-9]+ virtual machines?' 2 >/dev/null ||
	! con_wait_text 'Name +State +CPU Usage' 2 >/dev/null; then
	failed "no main screen after Esc Esc Esc"
fi
# No dialog or menu over it: no box corner inside a row (the panes' own are at its ends).
if con_screen | LC_ALL=C.UTF-8 sed -E 's/^.//; s/.$//' | LC_ALL=C.UTF-8 grep -q '[┌┐└┘]'; then
	failed "a dialog is still open after Esc Esc Esc"
fi
con_capture final >/dev/null
pass "a full main screen after Esc Esc Esc"
alive || failed "the console ended"
stderr_bad && failed "the console wrote to its stderr"
con_stop || failed "the console did not quit on q"
sleep 0.5
stderr_bad && failed "the console's stderr after q"
pass "a clean stderr"
"$OSIO" list >"$tmp/list.out" 2>&1 || { cat "$tmp/list.out"; failed "osio list fails"; }
pass "the store is still readable by osio list"
echo "PASS: monkey, seed $seed: $passes checks"
