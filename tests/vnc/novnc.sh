#!/usr/bin/env bash
# ctest vnc/novnc, vnc/novnc-vbe: Debian's noVNC in headless Chromium connects straight to an osio
# VM's VNC port over WebSocket (no websockify), and its canvas must equal osio's own screenshot
# of the same moment pixel for pixel. The browser's picture is kept as a test artifact.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: novnc.sh --osio PATH --imgcmp PATH --outdir DIR [--disk IMG] [--password] [--lossless]

Without --disk the VM has no drives and the screen is SeaBIOS's "No bootable device" (text
mode, 720x400). --disk boots IMG, a program that draws a picture and holds it until COM1
receives a byte (tests/guest/boot: vbe.img draws at 1024x768 after SeaBIOS's text screen, so
noVNC also follows a desktop resize). --password: the VM has a VNC password and noVNC answers
its credentials request. --lossless: noVNC asks for no JPEG quality level, so that a picture
with smooth areas comes losslessly too (noVNC's defaults send them as JPEG).
Environment: NOVNC_DIR (default /usr/share/novnc), CHROMIUM (default chromium), OUT_DIR
(where the artifacts go instead of --outdir).
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
me=novnc
osio='' imgcmp='' outdir='' disk='' password=0 lossless=0
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--imgcmp) imgcmp=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--disk) disk=${2-}; shift 2 ;;
	--password) password=1; shift ;;
	--lossless) lossless=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -n $osio && -n $imgcmp && -n $outdir ]] || { usage >&2; exit 2; }
[[ -n $disk ]] && me=novnc-$(basename "$disk" .img)
outdir=${OUT_DIR:-$outdir}

# shellcheck source=novnc/common.sh
. "$here/novnc/common.sh"
novnc=${NOVNC_DIR:-/usr/share/novnc}
[[ -r $novnc/core/rfb.js ]] || t_skip "noVNC not found in $novnc: install the Debian package novnc"
chromium=${CHROMIUM:-}
if [[ -z $chromium ]]; then
	for c in chromium chromium-browser google-chrome; do
		command -v "$c" >/dev/null && { chromium=$c; break; }
	done
fi
if [[ -z $chromium ]] || ! command -v "$chromium" >/dev/null; then
	t_skip "Chromium not found: install the Debian package chromium"
fi
[[ -x $imgcmp ]] || t_die "cannot run the image comparator '$imgcmp': build it first"
[[ -z $disk || -r $disk ]] || t_die "cannot read the disk image '$disk': build it first"
t_init "$outdir"
rm -f "$T_OUT/$me-browser.png" "$T_OUT/$me-osio.png" "$T_OUT/$me-diff.ppm"

# The VM: SeaBIOS's screen, or a boot program's picture (on a copy of its disk).
vm=$me-$$
args=(--memory 64M --timeout 300 --vnc auto --firmware-log "$T_TMP/firmware.log")
if [[ -n $disk ]]; then
	cp "$disk" "$T_TMP/disk.img" || t_die "cannot copy $disk"
	args+=(--memory 128M --disk "$T_TMP/disk.img" --serial "file:$T_TMP/serial.out")
else
	args+=(--serial none)
fi
query="port=PORT"
if ((password)); then
	# Line 1 full access; a password in the URL is fine on loopback for a throwaway VM.
	pw=nv$((RANDOM % 10000))x
	(umask 077 && printf '%s\n' "$pw" >"$T_TMP/password") || t_die "cannot write a password file"
	args+=(--vnc-password-file "$T_TMP/password")
	query+="&password=$pw"
fi
((lossless)) && query+="&lossless=1"
t_osio "$osio" "$vm" "$T_TMP/osio.log" "${args[@]}"
port=$T_PORT
t_note "osio serves VNC on 127.0.0.1:$port"

# The web server for noVNC's files and our page, on a port the kernel chooses.
mkdir "$T_TMP/web" || t_die "mkdir failed"
t_spawn "$T_TMP/serve.log" python3 "$here/novnc/serve.py" --novnc "$novnc" --page "$here/novnc" \
	--out "$T_TMP/web" --port-file "$T_TMP/web.port"
t_wait 20 test -s "$T_TMP/web.port" || t_die "the web server did not start: $(cat "$T_TMP/serve.log")"
web=$(cat "$T_TMP/web.port")
url="http://127.0.0.1:$web/page/page.html?${query/PORT/$port}"

# The browser connects right away: with --disk it still sees SeaBIOS's text screen first and
# then the program's mode change.
t_spawn "$T_TMP/chromium.log" "$chromium" --headless=new --no-sandbox --disable-gpu \
	--disable-dev-shm-usage --no-first-run --no-default-browser-check --disable-extensions \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$T_TMP/profile" --window-size=1280,1024 "$url"
events=$T_TMP/web/events.log
connected() {
	grep -qE '^(securityfailure|disconnect|page-error)' "$events" 2>/dev/null &&
		t_die "noVNC did not connect: $(tr '\n' ';' <"$events")"
	grep -q '^connect$' "$events" 2>/dev/null
}
t_wait 60 connected ||
	t_die "noVNC did not connect within 60 s (events: $(tr '\n' ';' <"$events" 2>/dev/null);" \
		"browser log: $(tail -5 "$T_TMP/chromium.log"))"
t_note "noVNC connected over WebSocket: $(tr '\n' ';' <"$events")"

# The final picture: SeaBIOS has given up booting (static until its retry in 60 s), or the
# boot program holds its picture.
if [[ -n $disk ]]; then
	t_wait_line 120 "$T_TMP/serial.out" '^screen: ready' ||
		t_die "the boot program did not draw (see $T_TMP/serial.out): $(cat "$T_TMP/serial.out")"
	size=1024x768 colours=8
else
	t_wait_line 120 "$T_TMP/firmware.log" 'No bootable device' ||
		t_die "SeaBIOS did not reach 'No bootable device': $(tail -5 "$T_TMP/firmware.log")"
	size=720x400 colours=2
fi

# Until the browser shows what osio shows (noVNC posts its canvas twice a second).
same() {
	t_screenshot "$vm" "$T_TMP/osio.png" || t_die "osio's screenshot failed"
	[[ -s $T_TMP/web/browser.png ]] || return 1
	cp "$T_TMP/web/browser.png" "$T_TMP/browser.png"
	"$imgcmp" "$T_TMP/osio.png" "$T_TMP/browser.png" --size "$size" --min-colours "$colours" \
		--diff "$T_TMP/diff.ppm" >"$T_TMP/imgcmp.log" 2>&1
}
ok=0
t_wait 30 same && ok=1
cp "$T_TMP/osio.png" "$T_OUT/$me-osio.png" 2>/dev/null
cp "$T_TMP/browser.png" "$T_OUT/$me-browser.png" 2>/dev/null
kill -0 "$T_VM_PID" 2>/dev/null || t_die "osio ended during the test: $(cat "$T_TMP/osio.log")"
if ((!ok)); then
	cp "$T_TMP/diff.ppm" "$T_OUT/$me-diff.ppm" 2>/dev/null
	t_die "the browser's canvas never equalled osio's screenshot in 30 s: $(tr '\n' ' ' \
		<"$T_TMP/imgcmp.log") (pictures: $T_OUT/$me-browser.png, $T_OUT/$me-osio.png;" \
		"events: $(tr '\n' ';' <"$events"))"
fi
grep -qE '^(disconnect|page-error)' "$events" &&
	t_die "noVNC reported: $(tr '\n' ';' <"$events")"
((password)) && ! grep -q '^credentialsrequired' "$events" &&
	t_die "noVNC was never asked for the password"
echo "artifact: $T_OUT/$me-browser.png (noVNC's canvas), $T_OUT/$me-osio.png (osio's screenshot)"
echo "PASS: $me: noVNC over WebSocket shows osio's $size screen pixel for pixel" \
	"($(tr '\n' ';' <"$events"))"
