#!/bin/bash
# The console's main screen in tmux: the list's columns, the Actions pane from 100 columns on,
# the details tabs (and the error of a broken vmconfig), the key bar and the filter bar, the
# help screen, "Terminal too small" at 20x5 and a full screen again after it, 200x60, and a
# monochrome vt100 in the C locale that gets no byte outside ASCII. Screens kept in ARTIFACTS.
# usage: screen.sh OSIO [ARTIFACTS]
set -u
OSIO=$(realpath "$1")
tmp=$(mktemp -d)
ARTIFACTS=${2:-$tmp/artifacts}
trap 'rm -rf "$tmp"' EXIT
failures=0 passes=0
# shellcheck source=tests/console/lib.sh
. "$(dirname "$0")/lib.sh"
con_need_tmux
con_dirs
rm -f "$ARTIFACTS"/screen-*.txt "$ARTIFACTS/console.stderr"

# never NAME REGEX: the screen does not show REGEX (now).
never() {
	if con_screen | grep -Eq -- "$2"; then
		fail "$1"
		con_screen | sed 's/^/    | /'
	else
		pass "$1"
	fi
}

# --- the store: three VMs, one of them with a vmconfig that does not load ----------------------

for vm in alpha broken web a-rather-long-virtual-machine-name-01; do
	"$OSIO" create "$vm" --disk none >"$tmp/create.out" 2>&1 || {
		cat "$tmp/create.out"
		echo "FAIL: osio create $vm"
		exit 1
	}
done
printf '[disk\nfile = \n' >>"$OSIO_STORE_DIR/vms/broken/broken.vmconfig"

# --- 80x24, colours, UTF-8 ---------------------------------------------------------------------

con_start 80 24 || exit 1
con_step "title line" 'osio - 4 virtual machines, 0 running'
con_step "list columns" 'Name +State +CPU Usage +Assigned Memory +Uptime +Status'
con_step "VM rows" '│alpha +Off'
con_step "a long name cut with an ellipsis" '│a-rather-lon… +Off'
con_step "details tabs" 'Summary │ Memory │ Networking │ Checkpoints'
con_step "summary of the selected VM" 'Processors: +2'
con_step "key bar" ' s Start .* \? Help  q Quit'
never "no Actions pane at 80 columns" 'Actions'
con_capture screen-80x24

con_keys 4
con_step "checkpoints tab" 'No checkpoints\. Press k to take one\.'
con_keys 3
con_step "networking tab" 'Adapter +Model +Switch +Type +MAC address'
con_keys 2
con_step "memory tab" 'Startup: +2048 MB'
con_keys 1
con_keys Down Down
con_step "a broken vmconfig says what is wrong" 'broken\.vmconfig:[0-9]+:[0-9]+: error'
never "no figures made up for it" 'Processors:'
if [[ $(con_screen | grep -c 'State:') == 1 ]]; then pass "its state once"; else fail "its state once"; fi
con_capture screen-broken
con_keys Up Up

con_keys /
con_text we
con_step "filter bar" 'Filter: we_  Enter: done  Esc: clear'
con_step "filtered title" 'Filter: we \(1 shown\)'
con_keys Escape
con_step "filter cleared" '4 virtual machines, 0 running *[^F]*$'

con_keys '?'
con_step "help opens" 'Help: keys and actions'
con_step "help lists the actions" 'Turn Off\.\.\. +Turn the VM off'
con_keys End
con_step "help scrolls to its end" 'Ctrl-\]'
con_capture screen-help
con_keys Escape
if con_wait_gone 'Help: keys and actions' 5; then pass "help closes"; else fail "help closes"; fi

# --- other sizes -------------------------------------------------------------------------------

con_resize 100 30
con_step "Actions pane at 100 columns" '─ Actions ─'
con_step "Actions: the VM's enabled actions" '│ Start +s │'
con_step "Actions: host actions" '│Host +│'
never "Actions: disabled ones hidden" 'Turn Off'
con_capture screen-100x30

con_resize 200 60
con_step "200x60" '│web +Off'
con_capture screen-200x60
if [[ $(con_widest) -le 200 ]]; then pass "nothing wider than 200"; else fail "a row wider than 200"; fi

con_resize 20 5
con_step "too small" 'Terminal too small'
con_capture screen-20x5
con_resize 80 24
con_step "80x24 again" 'Name +State +CPU Usage'
con_stop

# --- vt100 in the C locale: monochrome, ASCII only ---------------------------------------------

CON_SOCK=osio-test-$$-mono
con_tmux -f /dev/null new-session -d -s mono -x 80 -y 24 \
	"exec env OSIO_STORE_DIR=$(printf %q "$OSIO_STORE_DIR") OSIO_RUNTIME_DIR=$(printf %q "$OSIO_RUNTIME_DIR") TERM=vt100 LANG=C LC_ALL=C $(printf %q "$OSIO") 2>>$(printf %q "$ARTIFACTS/console.stderr")"
CON_TARGET=mono
con_tmux set-option -t mono remain-on-exit on >/dev/null
con_step "vt100: title line" 'osio - 4 virtual machines'
con_step "vt100: key bar" '\? Help  q Quit'
con_step "vt100: a long name cut with '~'" 'xa-rather-lon~ +Off'
con_keys Down Down Down
con_step "vt100: details" 'Adapters: +lan +e1000'
con_capture screen-vt100
if ! con_alive; then
	fail "vt100: the console is not running"
elif con_screen | LC_ALL=C grep -q '[^ -~]'; then
	fail "vt100: a character outside ASCII on the screen"
else
	pass "vt100: ASCII only"
fi
con_stop

echo "$passes passed, $failures failed"
((failures == 0))
