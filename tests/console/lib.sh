# shellcheck shell=bash disable=SC2154 # OSIO, tmp, ARTIFACTS, failures, passes: the caller's
# Shared by the console's scenario tests: the real console (osio with no arguments) run in a
# tmux server of the test's own (tmux -L osio-test-PID), keys sent to it, its screen polled and
# saved as a test artifact.
# The caller sets OSIO (the binary), tmp (a scratch folder), ARTIFACTS (a folder for screens;
# $tmp/artifacts when unset), failures=0 and passes=0, then sources this; con_dirs makes the
# test's store and runtime folder (OSIO_STORE_DIR, OSIO_RUNTIME_DIR) under $tmp. con_start
# installs an EXIT trap that ends the tmux server (and then runs the trap the caller had).

CON_SOCK=osio-test-$$
CON_TARGET=con
# How long the last con_wait_text / con_wait_gone waited, in ms (for the caller's messages).
export CON_WAITED_MS=0
CON_TRAPPED=

# fail and pass (unless the caller has its own): the cli tests' counting.
if ! declare -F fail >/dev/null; then
	# shellcheck source=tests/cli/lib.sh
	. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"
fi

con_tmux() {
	tmux -L "$CON_SOCK" "$@"
}

# con_need_tmux: ends the test as skipped (exit 77) where tmux is not installed.
con_need_tmux() {
	command -v tmux >/dev/null || {
		echo "SKIP: tmux is not installed"
		exit 77
	}
}

# con_dirs: the test's own VM store ($tmp/store) and runtime folder ($tmp/run, mode 700),
# exported as OSIO_STORE_DIR and OSIO_RUNTIME_DIR, and the ARTIFACTS folder made.
con_dirs() {
	: "${ARTIFACTS:=$tmp/artifacts}"
	export OSIO_STORE_DIR=$tmp/store OSIO_RUNTIME_DIR=$tmp/run
	mkdir -p "$OSIO_STORE_DIR" "$ARTIFACTS" && mkdir -m 700 "$OSIO_RUNTIME_DIR"
}

# con_kill: ends the console's tmux server (for traps; quiet) and waits until its socket is gone:
# a con_start right after would otherwise reach the server while it exits ("server exited
# unexpectedly"), as happened on a loaded machine.
con_kill() {
	local sock=${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$CON_SOCK i
	con_tmux kill-server 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		[[ -S $sock ]] || break
		sleep 0.1
	done
	return 0
}

# con_start COLS ROWS [ARGS...]: runs "$OSIO ARGS" (the console when there are none) in a
# detached tmux window of that size, with the test's store, TERM=tmux-256color (the keys tmux
# sends), LANG=C.UTF-8; its stderr goes to $ARTIFACTS/console.stderr. The pane stays when the
# console exits, so that what it printed can be seen.
# With CON_STATUS_FILE set, the console runs under sh, which writes its exit status into that
# file (tmux 3.3 at times reports no pane_dead_status, seen after the console exited 0); the
# pane's process (con_pid) is then that sh.
con_start() {
	local cols=$1 rows=$2 cmd a
	shift 2
	: "${ARTIFACTS:=$tmp/artifacts}"
	mkdir -p "$ARTIFACTS"
	if [[ -z $CON_TRAPPED ]]; then
		local prev
		prev=$(trap -p EXIT | sed -e "s/^trap -- '\(.*\)' EXIT$/\1/")
		# shellcheck disable=SC2064 # expanded now, on purpose
		trap "con_kill; $prev" EXIT
		CON_TRAPPED=1
	fi
	cmd="env OSIO_STORE_DIR=$(printf %q "$OSIO_STORE_DIR")"
	cmd+=" OSIO_RUNTIME_DIR=$(printf %q "$OSIO_RUNTIME_DIR")"
	cmd+=" TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8"
	if [[ -n ${OSIO_CONSOLE_TRACE:-} ]]; then
		cmd+=" OSIO_CONSOLE_TRACE=$(printf %q "$OSIO_CONSOLE_TRACE")"
	fi
	cmd+=" $(printf %q "$OSIO")"
	for a in "$@"; do cmd+=" $(printf %q "$a")"; done
	cmd+=" 2>>$(printf %q "$ARTIFACTS/console.stderr")"
	if [[ -n ${CON_STATUS_FILE:-} ]]; then
		cmd="sh -c $(printf %q "$cmd; echo \$? >$(printf %q "$CON_STATUS_FILE")")"
	else
		cmd="exec $cmd"
	fi
	con_tmux -f /dev/null new-session -d -s "$CON_TARGET" -x "$cols" -y "$rows" "$cmd" || {
		# One more try, once whatever server was still there has gone.
		con_kill
		con_tmux -f /dev/null new-session -d -s "$CON_TARGET" -x "$cols" -y "$rows" "$cmd"
	} || {
		fail "tmux cannot start the console"
		return 1
	}
	con_tmux set-option -t "$CON_TARGET" remain-on-exit on >/dev/null
	con_tmux set-option -t "$CON_TARGET" window-size manual >/dev/null 2>&1
}

# con_pid: the console's process id (the pane's, as the command was exec'd; without
# CON_STATUS_FILE).
con_pid() {
	con_tmux display-message -p -t "$CON_TARGET" '#{pane_pid}'
}

# con_alive: whether the console still runs.
con_alive() {
	[[ $(con_tmux display-message -p -t "$CON_TARGET" '#{pane_dead}' 2>/dev/null) == 0 ]]
}

# con_keys KEYS...: tmux send-keys (key names such as Enter, Escape, NPage, Home, End, F5, or
# text). The console runs with TERM=tmux-256color, whose terminfo names the sequences tmux sends
# (with xterm-256color, tmux's ESC [ 1 ~ and ESC [ 4 ~ for Home and End are keys it lacks).
con_keys() {
	con_tmux send-keys -t "$CON_TARGET" "$@"
}

# con_text TEXT: types TEXT literally.
con_text() {
	con_tmux send-keys -t "$CON_TARGET" -l "$1"
}

# con_screen: the screen as text, one line per row.
con_screen() {
	con_tmux capture-pane -p -t "$CON_TARGET"
}

# con_wait_text REGEX [TIMEOUT]: waits (polling every 0.1 s, TIMEOUT seconds, default 10) until
# the screen matches REGEX (grep -E); CON_WAITED_MS says how long it took. On timeout it prints
# the screen and fails (returns 1).
con_wait_text() {
	local re=$1 timeout=${2:-10} start now
	start=$(date +%s%N)
	while :; do
		if con_screen 2>/dev/null | grep -Eq -- "$re"; then
			CON_WAITED_MS=$((($(date +%s%N) - start) / 1000000))
			return 0
		fi
		now=$(date +%s%N)
		if (((now - start) / 1000000 >= timeout * 1000)); then
			CON_WAITED_MS=$(((now - start) / 1000000))
			echo "  no '$re' on the screen after ${timeout} s:"
			con_screen 2>/dev/null | sed 's/^/    | /'
			con_alive || echo "  (the console has exited)"
			return 1
		fi
		sleep 0.1
	done
}

# con_step NAME REGEX [TIMEOUT]: passes NAME, with how long it took, when the screen shows REGEX
# within TIMEOUT seconds (default 5); else fails it (returns 1).
con_step() {
	if con_wait_text "$2" "${3:-5}"; then
		pass "$1 (${CON_WAITED_MS} ms)"
	else
		fail "$1"
		return 1
	fi
}

# con_wait_gone REGEX [TIMEOUT]: the same, until the screen no longer matches.
con_wait_gone() {
	local re=$1 timeout=${2:-10} start now
	start=$(date +%s%N)
	while con_screen 2>/dev/null | grep -Eq -- "$re"; do
		now=$(date +%s%N)
		if (((now - start) / 1000000 >= timeout * 1000)); then
			echo "  '$re' still on the screen after ${timeout} s:"
			con_screen 2>/dev/null | sed 's/^/    | /'
			return 1
		fi
		sleep 0.1
	done
	CON_WAITED_MS=$((($(date +%s%N) - start) / 1000000))
}

# con_capture NAME: saves the screen to $ARTIFACTS/NAME.txt and prints it.
con_capture() {
	: "${ARTIFACTS:=$tmp/artifacts}"
	mkdir -p "$ARTIFACTS"
	con_screen >"$ARTIFACTS/$1.txt"
	echo "--- screen $1 ---"
	cat "$ARTIFACTS/$1.txt"
}

# con_widest: the widest row of the screen, in columns.
con_widest() {
	con_screen | LC_ALL=C.UTF-8 wc -L
}

# con_resize COLS ROWS: the terminal changes size (the console gets SIGWINCH).
con_resize() {
	con_tmux resize-window -t "$CON_TARGET" -x "$1" -y "$2"
}

# con_size: the pane's size as "COLSxROWS".
con_size() {
	con_tmux display-message -p -t "$CON_TARGET" '#{pane_width}x#{pane_height}'
}

# con_stop: q (the console quits), up to 5 s for it to end, then the tmux server goes. Fails
# when the console did not end by itself.
con_stop() {
	local i rc=0
	if con_alive; then
		con_keys q
		for ((i = 0; i < 50; i++)); do
			con_alive || break
			sleep 0.1
		done
		if con_alive; then
			fail "the console did not quit on q"
			rc=1
		fi
	fi
	con_kill
	return $rc
}
