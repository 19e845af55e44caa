# shellcheck shell=bash
# Shared by the test scripts that start programs in the background (sourced): each in a
# process group of its own, remembered, and stopped in reverse order of starting on every
# exit path; and bounded waits. tests/vnc/lib.sh, tests/vnc/novnc/common.sh and
# tests/connect/lib.sh build on it.

PROCS_PIDS=()
PROCS_LAST_PID=''

# procs_track PID: stop PID with the others (for a program started by the caller).
procs_track() {
	PROCS_PIDS+=("$1")
}

# procs_spawn LOG CMD...: starts CMD in the background in a process group of its own, stdin
# from /dev/null, stdout and stderr in LOG; its PID in PROCS_LAST_PID.
procs_spawn() {
	local log=$1
	shift
	setsid "$@" </dev/null >"$log" 2>&1 &
	PROCS_LAST_PID=$!
	procs_track "$PROCS_LAST_PID"
}

# procs_stop PID: TERM to PID and its process group, KILL after 5 s; reaps it.
procs_stop() {
	local pid=$1 n=0
	kill -TERM -- "-$pid" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && ((n++ < 50)); do
		sleep 0.1
	done
	kill -KILL -- "-$pid" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# procs_stop_all: stops every program, newest first (clients before what they talk to).
procs_stop_all() {
	local i
	for ((i = ${#PROCS_PIDS[@]} - 1; i >= 0; i--)); do
		procs_stop "${PROCS_PIDS[i]}"
	done
	PROCS_PIDS=()
}

# procs_wait SECONDS CMD...: runs CMD every 0.2 s until it succeeds; false after SECONDS.
procs_wait() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}
