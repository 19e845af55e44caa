# Shared by the osio connect tests (sourced): a private Xvfb whose screen is a file
# (-fbdir), `osio run` of a VM with its own runtime directory and name, `osio connect` on
# that X server, the window found by its title, and its pixels read out of the screen file.
# Everything started here is stopped by PID on every exit path, and every wait is bounded.
#
# Callers set `me` (the test's name), OSIO (the osio binary) and TOOLS (the build directory
# of tests/connect, with connect_xwdcrop and connect_ctlcall) and call conn_init OUTDIR.
# Exit statuses: 0 pass, 1 fail, 77 skip (with a SKIP line saying why).

# shellcheck source=../lib/procs.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/procs.sh"

CONN_TMP=''

# conn_args USAGE OPTION=VARIABLE... -- ARGS...: the script's options, each --OPTION VALUE
# into VARIABLE, all of them required; USAGE for --help and for mistakes (status 2).
conn_args() {
	local usage=$1 v
	local -A var=()
	shift
	while [[ $1 != -- ]]; do
		var[${1%%=*}]=${1#*=}
		shift
	done
	shift
	while (($#)); do
		case $1 in
		-h | --help) echo "$usage"; exit 0 ;;
		--?*)
			v=${var[${1#--}]-}
			[[ -n $v ]] || { echo "$usage" >&2; echo "$me: unknown option '$1'" >&2; exit 2; }
			printf -v "$v" '%s' "${2-}"
			shift 2 || shift
			;;
		*) echo "$usage" >&2; echo "$me: unknown argument '$1'" >&2; exit 2 ;;
		esac
	done
	for v in "${var[@]}"; do
		[[ -n ${!v} ]] || { echo "$usage" >&2; exit 2; }
	done
}

conn_die() {
	echo "FAIL: $me: $*"
	exit 1
}

conn_skip() {
	echo "SKIP: $me: $*"
	exit 77
}

conn_cleanup() {
	procs_stop_all
	[[ -n $CONN_TMP && -z ${KEEP_TMP-} ]] && rm -rf "$CONN_TMP"
}

# conn_init OUTDIR [nox]: checks the tools (not the X ones with nox), makes OUTDIR and a
# work directory, sets the traps, a runtime directory of the test's own (unless ctest gave
# one) and a VM name nobody else uses.
conn_init() {
	CONN_OUT=$1
	local tool pkg
	local tools=(Xvfb:xvfb xdotool:xdotool xwininfo:x11-utils xdpyinfo:x11-utils)
	[[ ${2-} == nox ]] && tools=()
	for tool in "${tools[@]}"; do
		pkg=${tool#*:}
		tool=${tool%%:*}
		command -v "$tool" >/dev/null ||
			conn_skip "$tool not found: install the Debian package $pkg"
	done
	[[ -x $OSIO ]] || conn_die "cannot run osio '$OSIO': build it first"
	[[ -x $TOOLS/connect_xwdcrop && -x $TOOLS/connect_ctlcall ]] ||
		conn_die "no connect_xwdcrop or connect_ctlcall in $TOOLS: build them first"
	mkdir -p "$CONN_OUT" || conn_die "cannot create $CONN_OUT"
	CONN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/osio-connect.XXXXXX") || conn_die "mktemp failed"
	trap conn_cleanup EXIT
	trap 'exit 1' INT TERM
	trap '' PIPE
	if [[ -z ${OSIO_RUNTIME_DIR-} ]]; then
		export OSIO_RUNTIME_DIR=$CONN_TMP/run
	fi
	mkdir -p "$OSIO_RUNTIME_DIR" && chmod 700 "$OSIO_RUNTIME_DIR" ||
		conn_die "cannot make the runtime directory $OSIO_RUNTIME_DIR"
	VM=c$$-$me
	# SDL's renderer and window surface without OpenGL: the same pixels whatever Mesa is
	# installed, and no JIT code for the sanitizers to trip over.
	export SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0
	# Leaks of the X and D-Bus libraries SDL loads are not osio's.
	LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}
	export LSAN_OPTIONS
}

# conn_spawn LOG CMD...: starts CMD in the background, output in LOG; CONN_LAST_PID.
conn_spawn() {
	procs_spawn "$@"
	CONN_LAST_PID=$PROCS_LAST_PID
}

# conn_wait SECONDS CMD...: runs CMD every 0.2 s until it succeeds; false after SECONDS.
conn_wait() {
	procs_wait "$@"
}

# conn_xvfb WIDTH HEIGHT: a private X server on a display it picks itself (-displayfd: no
# race with tests running beside this one), its screen in $CONN_TMP/fb/Xvfb_screen0 (XWD);
# sets DISPLAY and CONN_SCREEN.
conn_xvfb() {
	mkdir -p "$CONN_TMP/fb"
	: >"$CONN_TMP/display"
	Xvfb -displayfd 3 -screen 0 "${1}x${2}x24" -nolisten tcp -noreset -fbdir "$CONN_TMP/fb" \
		3>"$CONN_TMP/display" </dev/null >"$CONN_TMP/xvfb.log" 2>&1 &
	procs_track "$!"
	conn_wait 10 grep -q '^[0-9][0-9]*$' "$CONN_TMP/display" ||
		conn_die "Xvfb did not start: $(cat "$CONN_TMP/xvfb.log")"
	export DISPLAY=:$(cat "$CONN_TMP/display")
	conn_wait 10 xdpyinfo >/dev/null 2>&1 || conn_die "Xvfb on $DISPLAY does not answer"
	CONN_SCREEN=$CONN_TMP/fb/Xvfb_screen0
	xdotool mousemove "$(($1 - 1))" "$(($2 - 1))"
}

# conn_run ARGS...: `osio run --name $VM` with ARGS; waits for its control socket.
conn_run() {
	conn_spawn "$CONN_OUT/run.log" "$OSIO" run --name "$VM" --vnc none "$@"
	CONN_VMM_PID=$CONN_LAST_PID
	conn_wait 60 test -S "$OSIO_RUNTIME_DIR/$VM.sock" ||
		conn_die "osio run made no control socket: $(cat "$CONN_OUT/run.log")"
}

# conn_connect: `osio connect $VM` on the X server; waits for its window (CONN_WIN).
conn_connect() {
	conn_spawn "$CONN_OUT/connect.log" "$OSIO" connect "$VM"
	CONN_PID=$CONN_LAST_PID
	conn_wait 30 conn_find_window ||
		conn_die "osio connect shows no window: $(cat "$CONN_OUT/connect.log")"
}

conn_find_window() {
	CONN_WIN=$(xdotool search --onlyvisible --name "^$VM - " 2>/dev/null | tail -1)
	[[ -n $CONN_WIN ]]
}

conn_title() {
	xdotool getwindowname "$CONN_WIN" 2>/dev/null
}

# conn_wait_title SECONDS ERE: until the window's title matches ERE.
conn_wait_title() {
	local deadline=$((SECONDS + $1))
	until [[ $(conn_title) =~ $2 ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# conn_geometry: sets WIN_X WIN_Y WIN_W WIN_H of the window's inside, on the screen.
conn_geometry() {
	local info
	info=$(xwininfo -id "$CONN_WIN") || conn_die "xwininfo -id $CONN_WIN failed"
	WIN_X=$(awk '/Absolute upper-left X:/ { print $4 }' <<<"$info")
	WIN_Y=$(awk '/Absolute upper-left Y:/ { print $4 }' <<<"$info")
	WIN_W=$(awk '/Width:/ { print $2 }' <<<"$info")
	WIN_H=$(awk '/Height:/ { print $2 }' <<<"$info")
}

# conn_capture OUT.ppm [SCALE]: the window's pixels (at 1:1, or scaled down by SCALE when
# the window shows the picture SCALE times as large by repeating pixels).
conn_capture() {
	conn_geometry
	local args=()
	[[ -n ${2-} ]] && args=(--scale "$2")
	"$TOOLS/connect_xwdcrop" "$CONN_SCREEN" "$WIN_X" "$WIN_Y" "$WIN_W" "$WIN_H" "$1" \
		"${args[@]}"
}

# conn_ctl COMMAND [ARGS-JSON]: one control-socket request to the VM; prints its answer.
conn_ctl() {
	"$TOOLS/connect_ctlcall" "$VM" "$@"
}

# conn_screenshot OUT.png: the VM's screen as the worker sees it, now.
conn_screenshot() {
	conn_ctl screenshot "{\"file\": \"$1\"}" >/dev/null
}

# conn_wait_line SECONDS FILE ERE [COUNT]: until FILE has COUNT (default 1) lines matching ERE.
conn_wait_line() {
	local deadline=$((SECONDS + $1)) file=$2 re=$3 count=${4:-1}
	while (($(grep -cE -- "$re" "$file" 2>/dev/null) < count)); do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# conn_wait_exit PID SECONDS: waits for PID to end; its exit status, or 124 on the timeout.
conn_wait_exit() {
	local deadline=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		((SECONDS < deadline)) || return 124
		sleep 0.2
	done
	wait "$1"
}
