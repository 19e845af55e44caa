#!/usr/bin/env bash
# ctest connect/errors: what osio connect and osio send-key say when they cannot do their
# work, and their exit statuses: usage errors (2), no VM of that name, a stale socket, no
# desktop to open a window on (the VM's VNC address instead, or how to get one), a VM
# without a display adapter (1). Needs no X server.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
me=errors
OSIO='' TOOLS='' outdir=''
# shellcheck source=lib.sh
. "$here/lib.sh"
conn_args "usage: errors.sh --osio PATH --tools DIR --outdir DIR" \
	osio=OSIO tools=TOOLS outdir=outdir -- "$@"

conn_init "$outdir" nox
unset DISPLAY WAYLAND_DISPLAY SDL_VIDEODRIVER

# expect STATUS ERE CMD...: CMD must exit with STATUS and print a line matching ERE.
expect() {
	local want=$1 re=$2 status=0
	shift 2
	"$@" >"$outdir/out.log" 2>&1 || status=$?
	((status == want)) || conn_die "'$*' exited $status, not $want: $(cat "$outdir/out.log")"
	[[ -z $re ]] || grep -qE -- "$re" "$outdir/out.log" ||
		conn_die "'$*' did not say /$re/: $(cat "$outdir/out.log")"
}

expect 0 '^usage: osio connect' "$OSIO" connect --help
expect 0 '^usage: osio send-key' "$OSIO" send-key --help
expect 0 'connect .*window' "$OSIO" help
expect 2 '^usage: osio connect' "$OSIO" connect
expect 2 "unknown option '--bogus'" "$OSIO" connect --bogus x
expect 2 '^usage: osio send-key' "$OSIO" send-key "$VM"
expect 2 'empty' "$OSIO" send-key "$VM" ''
no_vm="no running VM named 'nosuch-$$' \(no control socket at .*\); start it with"
expect 1 "$no_vm osio run --name nosuch-$$" \
	"$OSIO" connect "nosuch-$$"
expect 1 "no running VM named 'nosuch-$$'" "$OSIO" send-key "nosuch-$$" a
expect 1 "no control socket at /nonexistent/x.sock" "$OSIO" connect /nonexistent/x.sock

# A socket nobody answers on (a worker that died).
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
	"$OSIO_RUNTIME_DIR/stale-$$.sock" 2>/dev/null &&
	expect 1 'not running' "$OSIO" connect "stale-$$"
rm -f "$OSIO_RUNTIME_DIR/stale-$$.sock"

# No desktop: the VNC address to watch the VM with instead.
conn_run --memory 64M --timeout 120 --vnc auto
addr=$(conn_ctl query-status | grep -oE '"vnc":"[^"]*"' | cut -d'"' -f4)
[[ -n $addr ]] || conn_die "query-status reports no VNC address: $(conn_ctl query-status)"
no_x="^osio connect: error: no display to open a window on \(.*\);"
expect 1 "$no_x watch $VM with a VNC viewer at $addr\$" \
	"$OSIO" connect "$VM"
kill "$CONN_VMM_PID"
conn_wait_exit "$CONN_VMM_PID" 30

# No desktop and no VNC server: how to get one.
VM=$VM-novnc
conn_run --memory 64M --timeout 120
expect 1 "$no_x this VM has no VNC server: set vnc = auto in its vmconfig" \
	"$OSIO" connect "$VM"
kill "$CONN_VMM_PID"
conn_wait_exit "$CONN_VMM_PID" 30

# A VM without a display adapter: nothing to show, whatever the desktop.
VM=${VM%-novnc}-nodisplay
printf '[vm]\nname = %s\nmemory = 64M\n\n[display]\nadapter = none\nvnc = none\n' "$VM" \
	>"$outdir/nodisplay.vmconfig"
conn_spawn "$CONN_OUT/run.log" "$OSIO" run --timeout 120 "$outdir/nodisplay.vmconfig"
CONN_VMM_PID=$CONN_LAST_PID
conn_wait 60 test -S "$OSIO_RUNTIME_DIR/$VM.sock" ||
	conn_die "osio run made no control socket: $(cat "$CONN_OUT/run.log")"
expect 1 "the VM '$VM' has no display adapter" "$OSIO" connect "$VM"
expect 0 '' "$OSIO" send-key "$VM" ctrl-alt-delete
echo "PASS: $me: the messages and exit statuses are right"
