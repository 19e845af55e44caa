#!/bin/bash
# Connect in the real console, driven in tmux against a VM booting Debian's GRUB rescue ISO:
# the Connect menu, the VM's text screen in the terminal (SeaBIOS, then GRUB's menu, cell for
# cell, the cursor where the VM's is), keys typed at GRUB's command line coming back on its
# screen (shifted symbols included), Ctrl-] d restarting the guest, a resize, Ctrl-] back to the
# console, the serial console and back, and the VM turned off from outside ending the view.
# usage: connect.sh OSIO [ARTIFACTS]
set -u

OSIO=$(realpath "$1")
ARTIFACTS=${2:-}
iso=/usr/lib/grub-rescue/grub-rescue-cdrom.iso
vm=conn1

# shellcheck source=tests/console/lib.sh
. "$(dirname "$0")/lib.sh"
con_need_tmux
command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
[[ -r $iso ]] || { echo "SKIP: $iso missing (apt-get install grub-rescue-pc)"; exit 77; }
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: no usable /dev/kvm"; exit 77; }

tmp=$(mktemp -d /tmp/osio-connect.XXXXXX)
[[ -n $ARTIFACTS ]] || ARTIFACTS=$tmp/artifacts
con_dirs
rm -f "$ARTIFACTS"/*.txt
# The menu's first entry is the terminal view only without a display or a viewer.
unset DISPLAY WAYLAND_DISPLAY OSIO_VNC_VIEWER
# shellcheck disable=SC2034 # counted by lib.sh
failures=0
passes=0

cleanup() {
	"$OSIO" stop "$vm" >/dev/null 2>&1
	rm -rf "$tmp/store" "$tmp/run"
	[[ $ARTIFACTS == "$tmp"/* ]] || rm -rf "$tmp"
}
trap cleanup EXIT

# step NAME COMMAND...: runs a check; on failure the screen is kept and the test ends.
step() {
	local name=$1
	shift
	if "$@"; then
		pass "$name (${CON_WAITED_MS} ms)"
	else
		fail "$name"
		con_capture "FAILED-${name// /-}" >/dev/null
		exit 1
	fi
}

# cursor_on TEXT: the terminal's cursor is on the row showing TEXT, just after it.
cursor_on() {
	local x y line
	CON_WAITED_MS=0
	read -r x y < <(con_tmux display-message -p -t "$CON_TARGET" '#{cursor_x} #{cursor_y}')
	line=$(con_screen | sed -n "$((y + 1))p")
	[[ ${line:0:x} == *"$1" ]] || {
		echo "  the cursor is at $x,$y: '${line:0:x}|${line:x}'"
		return 1
	}
}

# until_grub_prompt: GRUB's menu boots its first entry after a few seconds, which fails
# without a kernel ("Press any key to continue"): c either opens the command line from the
# menu or goes back to it.
until_grub_prompt() {
	local i
	for ((i = 0; i < 10; i++)); do
		con_screen | grep -q "grub>" && break
		con_keys c
		con_wait_text "grub>" 20 >/dev/null && break
	done
	# A c that came late is on the line: Ctrl-A Ctrl-K empty it.
	sleep 2
	con_keys C-a C-k
	con_wait_text "grub> *$" 20
}

"$OSIO" create "$vm" --disk none --dvd "$iso" >"$tmp/create.out" 2>&1 ||
	{ cat "$tmp/create.out"; echo "FAIL: osio create"; exit 1; }
"$OSIO" start "$vm" >"$tmp/start.out" 2>&1 ||
	{ cat "$tmp/start.out"; echo "FAIL: osio start"; exit 1; }

con_start 100 30
step "the VM runs in the list" con_wait_text "$vm +Running" 20

con_keys c
step "Connect offers the screen in this terminal first" \
	con_wait_text "Connect to $vm" 10
con_capture connect-menu >/dev/null
first=$(con_screen | grep -oE "Screen in this terminal|Serial console" | head -1)
[[ $first == "Screen in this terminal" ]] || { fail "the first entry is '$first'"; exit 1; }
con_keys Enter
step "the view's top line" con_wait_text "^ $vm  text 80x25 .*Ctrl-\] returns to the console" 10
step "SeaBIOS's text screen" con_wait_text "SeaBIOS \(version" 30
step "GRUB's menu, box drawing included" con_wait_text "│\*?GNU/Linux +│" 180
con_capture grub-menu >/dev/null
step "GRUB's command line" until_grub_prompt
text='Osio-Key_Test+=!@%^*,./?:~[]'
re='Osio-Key_Test\+=!@%\^\*,\./\?:~\[\]'
con_text "echo $text"
step "typed text on GRUB's screen" con_wait_text "grub> echo $re\$" 60
step "the cursor after it" cursor_on "$text"
con_keys Enter
step "GRUB echoes it" con_wait_text "^ *$re *\$" 60
con_capture grub-echo >/dev/null

con_resize 80 24
step "a smaller terminal: the short help" \
	con_wait_text "^ $vm  text 80x25 +Ctrl-\] back, Ctrl-\] d: Ctrl-Alt-Del" 10
step "still GRUB's screen" con_wait_text "grub>" 10
con_resize 100 30

con_keys C-]
step "Ctrl-] asks for the next key" con_wait_text "d: send Ctrl-Alt-Del" 5
con_keys d
step "Ctrl-] d restarts the guest" con_wait_text "SeaBIOS \(version" 60
"$OSIO" status "$vm" --json >"$tmp/status.json" 2>/dev/null
jq -e '.state == "running"' "$tmp/status.json" >/dev/null ||
	{ fail "the VM is not running after Ctrl-Alt-Del"; exit 1; }

con_keys C-] Escape
step "Ctrl-] then another key: back to the console" con_wait_text "Back from the screen of $vm" 5
step "the list again" con_wait_text "$vm +Running" 5

con_keys c
step "the menu again" con_wait_text "Connect to $vm" 10
con_keys Down Enter
step "the console leaves the terminal to osio serial" con_wait_gone "Virtual Machines" 10
sleep 1
grep -q "serial console of VM '$vm'" "$ARTIFACTS/console.stderr" ||
	{ fail "osio serial did not start"; exit 1; }
con_keys C-]
step "Ctrl-] leaves the serial console" con_wait_text "Back from the serial console of $vm" 10

con_keys c
step "the menu once more" con_wait_text "Connect to $vm" 10
con_keys Enter
step "the screen once more" con_wait_text "Ctrl-\] returns to the console" 10
"$OSIO" stop "$vm" >/dev/null 2>&1
step "the VM turned off ends the view" con_wait_text "$vm turned off\." 15
step "the list says Off" con_wait_text "$vm +Off" 10
con_capture after-stop >/dev/null

con_stop || exit 1
if grep -E "Sanitizer|runtime error" "$ARTIFACTS/console.stderr" 2>/dev/null; then
	echo "FAIL: the console reported memory errors"
	exit 1
fi
echo "PASS: connect: $passes steps"
