# Shared by the real-client tests (sourced): a private X server (Xvfb), a VMM (QEMU TCG or
# osio) serving VNC on a free loopback port with its COM1 in a file, TigerVNC's viewer on
# that X server, and xdotool driving it. Everything started here is stopped by PID on every
# exit path (the EXIT trap), and every wait is bounded.
#
# Callers set `me` (the test's name) and call vnc_init OUTDIR first. Exit statuses: 0 pass,
# 1 fail, 77 skip (with a SKIP line saying why).

# shellcheck source=../lib/procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/procs.sh"

VNC_TMP=''

vnc_die() {
	echo "FAIL: $me: $*"
	exit 1
}

vnc_skip() {
	echo "SKIP: $me: $*"
	exit 77
}

vnc_cleanup() {
	procs_stop_all
	[[ -n $VNC_TMP && -z ${KEEP_TMP-} ]] && rm -rf "$VNC_TMP"
}

# vnc_init OUTDIR: checks the tools, makes OUTDIR and a work directory, sets the traps.
vnc_init() {
	VNC_OUT=$1
	local tool pkg
	for tool in Xvfb:xvfb xdotool:xdotool vncviewer:tigervnc-viewer xwininfo:x11-utils \
		xdpyinfo:x11-utils setxkbmap:x11-xkb-utils; do
		pkg=${tool#*:}
		tool=${tool%%:*}
		command -v "$tool" >/dev/null ||
			vnc_skip "$tool not found: install the Debian package $pkg"
	done
	mkdir -p "$VNC_OUT" || vnc_die "cannot create $VNC_OUT"
	VNC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/osio-vnc.XXXXXX") || vnc_die "mktemp failed"
	trap vnc_cleanup EXIT
	trap 'exit 1' INT TERM
	trap '' PIPE
}

# vnc_spawn LOG CMD...: starts CMD in the background with stdout and stderr in LOG and
# remembers its PID (VNC_LAST_PID) for the cleanup.
vnc_spawn() {
	procs_spawn "$@"
	VNC_LAST_PID=$PROCS_LAST_PID
}

# vnc_wait SECONDS CMD...: runs CMD every 0.2 s until it succeeds; false after SECONDS.
vnc_wait() {
	procs_wait "$@"
}

# vnc_xvfb WIDTH HEIGHT: a private X server on a display it picks itself (-displayfd: a
# test beside this one cannot end up on the same server); sets DISPLAY.
vnc_xvfb() {
	: >"$VNC_TMP/display"
	Xvfb -displayfd 3 -screen 0 "${1}x${2}x24" -nolisten tcp -noreset \
		3>"$VNC_TMP/display" </dev/null >"$VNC_TMP/xvfb.log" 2>&1 &
	procs_track "$!"
	vnc_wait 10 grep -q '^[0-9][0-9]*$' "$VNC_TMP/display" ||
		vnc_die "Xvfb did not start: $(cat "$VNC_TMP/xvfb.log")"
	export DISPLAY=:$(cat "$VNC_TMP/display")
	vnc_wait 10 xdpyinfo >/dev/null 2>&1 || vnc_die "Xvfb on $DISPLAY does not answer"
	# The pointer starts in a corner of the X screen, outside any viewer.
	xdotool mousemove "$(($1 - 1))" "$(($2 - 1))"
}

port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# vnc_free_port: a loopback TCP port in 5900-5999 that nothing listens on.
vnc_free_port() {
	local p
	for ((p = 5900 + RANDOM % 50; p < 6000; p++)); do
		port_open "$p" || {
			echo "$p"
			return 0
		}
	done
	vnc_die "no free VNC port in 5900-5999"
}

# vnc_qemu PORT SERIAL ARGS...: QEMU TCG's pc with the standard VGA, its COM1 in SERIAL, the
# debug-exit port, VNC on 127.0.0.1:PORT and its monitor on a pair of FIFOs (vnc_monitor).
vnc_qemu() {
	local port=$1 serial=$2
	shift 2
	command -v qemu-system-x86_64 >/dev/null ||
		vnc_skip "qemu-system-x86_64 not found: install the Debian package qemu-system-x86"
	mkfifo "$VNC_TMP/mon.in" "$VNC_TMP/mon.out" || vnc_die "mkfifo failed"
	vnc_spawn "$VNC_OUT/vmm.log" qemu-system-x86_64 -accel tcg -M pc -m 128M -nodefaults \
		-vga std -serial "file:$serial" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-no-reboot -vnc "127.0.0.1:$((port - 5900))" -monitor "pipe:$VNC_TMP/mon" "$@"
	VNC_VMM_PID=$VNC_LAST_PID
	# QEMU opens both FIFOs read-write, so neither open here blocks.
	exec 4<>"$VNC_TMP/mon.in"
	vnc_spawn "$VNC_TMP/mon.log" cat "$VNC_TMP/mon.out"
	vnc_wait 30 port_open "$port" || vnc_die "QEMU does not serve VNC on port $port: $(cat "$VNC_OUT/vmm.log")"
}

# vnc_monitor CMD: one QEMU monitor command; waits (30 s at most) for its prompt.
vnc_monitor() {
	local before
	before=$(grep -o '(qemu)' "$VNC_TMP/mon.log" | wc -l)
	printf '%s\n' "$1" >&4
	vnc_wait 30 eval '(( $(grep -o "(qemu)" "$VNC_TMP/mon.log" | wc -l) > before ))'
}

# vnc_osio OSIO PORT SERIAL ARGS...: `osio run` with VNC on 127.0.0.1:PORT and COM1 in SERIAL.
# Skips while osio has no VNC server (no --vnc option, or it never reports a VNC address).
vnc_osio() {
	local osio=$1 port=$2 serial=$3
	shift 3
	[[ -x $osio ]] || vnc_die "cannot run osio '$osio': build it first"
	"$osio" run --help 2>&1 | grep -q -- '--vnc ' ||
		vnc_skip "osio run has no --vnc option yet"
	# Its own runtime directory (the control socket): private, mode 0700.
	export OSIO_RUNTIME_DIR=$VNC_TMP/run
	mkdir -m 700 "$OSIO_RUNTIME_DIR" || vnc_die "cannot create $OSIO_RUNTIME_DIR"
	VNC_OSIO_NAME=vnc-$me-$$
	vnc_spawn "$VNC_OUT/vmm.log" "$osio" run --name "$VNC_OSIO_NAME" --memory 128M \
		--serial "file:$serial" --vnc "127.0.0.1:$port" "$@"
	VNC_VMM_PID=$VNC_LAST_PID
	if ! vnc_wait 30 port_open "$port"; then
		kill -0 "$VNC_VMM_PID" 2>/dev/null ||
			vnc_die "osio ended before serving VNC: $(cat "$VNC_OUT/vmm.log")"
		grep -qi 'vnc' "$VNC_OUT/vmm.log" ||
			vnc_skip "osio takes --vnc but serves nothing on port $port and reports no" \
				"VNC address: its VNC server is not part of the worker yet"
		vnc_die "osio reported a VNC server but nothing listens on port $port:" \
			"$(cat "$VNC_OUT/vmm.log")"
	fi
}

# vnc_viewer PORT: TigerVNC's viewer on the VM, shared, no local scaling or resize requests,
# F8 passed to the VM; sets VNC_WIN to its window once that is mapped.
vnc_viewer() {
	vnc_spawn "$VNC_OUT/viewer.log" vncviewer -Shared -RemoteResize=0 -MenuKey= \
		-AlertOnFatalError=0 -ReconnectOnError=0 -AcceptClipboard=0 -SendClipboard=0 \
		-SendPrimary=0 -FullScreen=0 -PointerEventInterval=0 "127.0.0.1:$1"
	VNC_VIEWER_PID=$VNC_LAST_PID
	VNC_WIN=''
	vnc_wait 20 vnc_find_window ||
		vnc_die "the viewer shows no window: $(cat "$VNC_OUT/viewer.log")"
	# The viewer (FLTK with XInput 2) ignores warped-pointer motion until a pointer device
	# has moved: one XTest nudge, outside the window, makes later mousemoves count.
	xdotool mousemove_relative -- -1 -1 || vnc_die "xdotool mousemove_relative failed"
	sleep 0.3
}

vnc_find_window() {
	VNC_WIN=$(xdotool search --onlyvisible --pid "$VNC_VIEWER_PID" 2>/dev/null | tail -1)
	[[ -n $VNC_WIN ]]
}

# vnc_focus: keyboard focus on the viewer (there is no window manager to give it).
vnc_focus() {
	xdotool windowfocus --sync "$VNC_WIN" || vnc_die "cannot focus the viewer's window"
	sleep 0.5
}

# vnc_window_size: "WxH" of the viewer's window.
vnc_window_size() {
	xwininfo -id "$VNC_WIN" | awk '/Width:/ { w = $2 } /Height:/ { h = $2 } END { print w "x" h }'
}

# vnc_wait_line SECONDS FILE ERE [COUNT]: waits until FILE has COUNT (default 1) lines
# matching ERE; fails early when the VMM has ended.
vnc_wait_line() {
	local deadline=$((SECONDS + $1)) file=$2 re=$3 count=${4:-1}
	while (($(grep -cE -- "$re" "$file" 2>/dev/null) < count)); do
		((SECONDS < deadline)) || return 1
		if ! kill -0 "$VNC_VMM_PID" 2>/dev/null; then
			(($(grep -cE -- "$re" "$file" 2>/dev/null) >= count))
			return
		fi
		sleep 0.2
	done
}

# vnc_wait_vmm SECONDS: waits for the VMM to end; its exit status, or 124 on the timeout.
vnc_wait_vmm() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$VNC_VMM_PID" 2>/dev/null; do
		((SECONDS < deadline)) || return 124
		sleep 0.2
	done
	wait "$VNC_VMM_PID"
}

# vnc_osio_status STATUS [EXPECTED]: osio's exit status after the guest passed must be EXPECTED
# (default 0: the guest's debug-exit write; 124 after --timeout). A sanitizer build whose only
# complaint is the record libvncserver's rfbEnableExtension allocates for each client that
# uses the QEMU extended key event (libvncserver never frees it; vnc/ could, with
# rfbDisableExtension when the client goes) is a skip naming that bug, not a pass.
vnc_osio_status() {
	(($1 == ${2:-0})) && return 0
	local log=$VNC_OUT/vmm.log leaks ours
	leaks=$(grep -c 'leak of' "$log")
	ours=$(grep -A2 'leak of' "$log" | grep -c '#1 .* in rfbEnableExtension ')
	if grep -q 'ERROR: LeakSanitizer' "$log" && ((leaks > 0 && leaks == ours)) &&
		! grep -q 'ERROR: AddressSanitizer\|runtime error:' "$log"; then
		vnc_skip "the guest's output is right, but osio ended with status $1: LeakSanitizer" \
			"reports the extension record rfbEnableExtension made for the viewer, which" \
			"nothing frees (a vnc/ bug; see $VNC_OUT/vmm.log)"
	fi
	vnc_die "osio ended with status $1 (see $VNC_OUT/vmm.log and $serial)"
}
