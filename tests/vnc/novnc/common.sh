# shellcheck shell=bash
# Shared by novnc.sh and auth.sh (sourced): a private work and runtime directory, programs
# started in their own process groups and stopped on every exit path, osio VMs found through
# their control sockets (the VNC port they chose, screenshots, state), bounded waits.
#
# Callers set `me` (the test's name) and call t_init first. Exit statuses: 0 pass, 1 fail,
# 77 skip (with a SKIP line saying why).

# shellcheck disable=SC2154 # `me` comes from the caller
T_TMP=''
T_NOVNC=${T_NOVNC:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
# shellcheck source=../../lib/procs.sh
. "$T_NOVNC/../../lib/procs.sh"

t_die() {
	echo "FAIL: $me: $*"
	exit 1
}

t_skip() {
	echo "SKIP: $me: $*"
	exit 77
}

t_note() {
	echo "$me: $*"
}

# t_stop PID: stops PID and its process group (tests/lib/procs.sh).
t_stop() {
	procs_stop "$1"
}

t_cleanup() {
	procs_stop_all
	[[ -n $T_TMP && -z ${KEEP_TMP-} ]] && rm -rf "$T_TMP"
}

# t_init OUTDIR: makes OUTDIR, a work directory (T_TMP) and a runtime directory of our own for
# the VMs (OSIO_RUNTIME_DIR), and sets the traps.
t_init() {
	T_OUT=$1
	command -v python3 >/dev/null || t_skip "python3 not found: install the Debian package python3"
	command -v setsid >/dev/null || t_skip "setsid not found: install the Debian package util-linux"
	mkdir -p "$T_OUT" || t_die "cannot create $T_OUT"
	T_OUT=$(cd "$T_OUT" && pwd)
	T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/osio-$me.XXXXXX") || t_die "mktemp failed"
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	trap '' PIPE
	export OSIO_RUNTIME_DIR=$T_TMP/run
	mkdir -m 700 "$OSIO_RUNTIME_DIR" || t_die "cannot create $OSIO_RUNTIME_DIR"
}

# t_spawn LOG CMD...: starts CMD in the background in a process group of its own, with stdout
# and stderr in LOG; remembers its PID (T_LAST_PID) for the cleanup.
t_spawn() {
	procs_spawn "$@"
	T_LAST_PID=$PROCS_LAST_PID
}

# t_wait SECONDS CMD...: runs CMD every 0.2 s until it succeeds; false after SECONDS.
t_wait() {
	procs_wait "$@"
}

# t_ctl VM COMMAND [JSON]: one control request to the VM called VM; its "return" on stdout.
t_ctl() {
	local vm=$1
	shift
	python3 "$T_NOVNC/ctl.py" "$OSIO_RUNTIME_DIR/$vm.sock" "$@"
}

# t_vnc_port VM: the TCP port of the VM's VNC server (from query-status), or false.
t_vnc_port() {
	local port
	port=$(t_ctl "$1" query-status 2>/dev/null | python3 -c '
import json, sys
try:
    vnc = json.load(sys.stdin).get("vnc") or ""
except ValueError:
    vnc = ""
port = vnc.rpartition(":")[2]
print(port if port.isdigit() else "")')
	[[ -n $port ]] && echo "$port"
}

# t_state VM: the VM's state (running, ...) from query-status.
t_state() {
	t_ctl "$1" query-status 2>/dev/null | python3 -c '
import json, sys
try:
    print(json.load(sys.stdin).get("state", ""))
except ValueError:
    pass'
}

# t_free_port: a TCP port nothing listens on now (the kernel's choice), for addresses that
# cannot be "auto"; a caller that loses a race for it sees osio say the port is taken.
t_free_port() {
	python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# shellcheck disable=SC2034 # T_PORT and T_VM_PID are for the callers
# t_osio OSIO VM LOG ARGS...: `osio run --name VM ARGS...` in the background (T_VM_PID); waits
# until its control socket tells the VNC port (T_PORT). Dies with osio's log if it ends first.
t_osio() {
	local osio=$1 vm=$2 log=$3
	shift 3
	[[ -x $osio ]] || t_die "cannot run osio '$osio': build it first"
	t_spawn "$log" "$osio" run --name "$vm" "$@"
	T_VM_PID=$T_LAST_PID
	local deadline=$((SECONDS + 60))
	T_PORT=''
	until T_PORT=$(t_vnc_port "$vm"); do
		kill -0 "$T_VM_PID" 2>/dev/null || t_die "osio ended before serving VNC: $(cat "$log")"
		((SECONDS < deadline)) || t_die "osio reports no VNC address after 60 s: $(cat "$log")"
		sleep 0.2
	done
}

# t_screenshot VM FILE: osio's own screenshot of the VM's screen (absolute FILE).
t_screenshot() {
	t_ctl "$1" screenshot "{\"file\": \"$2\"}" >/dev/null
}

# t_wait_line SECONDS FILE ERE: waits until FILE has a line matching ERE.
t_wait_line() {
	t_wait "$1" grep -qE -- "$3" "$2"
}
