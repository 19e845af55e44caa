#!/bin/bash
# A real VNC client sees exactly the VM's screen: gvnccapture (gtk-vnc, the
# library of virt-viewer and GNOME Boxes; ZRLE) of a VM at SeaBIOS's screen,
# compared pixel for pixel (tests/vnc/pngcmp.py) with the worker's own
# screenshot taken through the control socket at the same moment.
#
# With --disk (tests/guest's media/vbe.img: a boot sector that sets a
# 1024x768 VBE mode and draws), the picture is a guest program's drawing.
#
# usage: capture.sh --osio OSIO_BINARY [--disk IMAGE] [--outdir DIR]
#        exit 0 pass, 1 fail, 77 skip
me=capture
osio='' disk='' outdir=''
while (($#)); do
	case $1 in
	--osio) osio=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--outdir) outdir=$2; shift 2 ;;
	*) echo "usage: capture.sh --osio OSIO_BINARY [--disk IMAGE] [--outdir DIR]" >&2; exit 2 ;;
	esac
done
[[ -n $osio ]] || { echo "usage: capture.sh --osio OSIO_BINARY [--disk IMAGE] [--outdir DIR]" >&2; exit 2; }
[[ -n $disk ]] && me=capture-vbe
here=$(cd "$(dirname "$0")" && pwd)

fail() {
	echo "FAIL: $me: $*"
	exit 1
}

command -v gvnccapture >/dev/null || { echo "SKIP: $me: gvnccapture not installed (Debian gvncviewer)"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: $me: python3 not installed"; exit 77; }
[[ -e /dev/kvm ]] || { echo "SKIP: $me: no /dev/kvm"; exit 77; }

tmp=$(mktemp -d)
pid=''
cleanup() {
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null
		local n=0
		while kill -0 "$pid" 2>/dev/null && ((n++ < 50)); do sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	[[ -z ${KEEP_TMP-} ]] && rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -m 700 "$tmp/run"
export OSIO_RUNTIME_DIR=$tmp/run
name=vnccap$$

media=()
[[ -n $disk ]] && media=(--disk "$disk")
"$osio" run --name "$name" --memory 64M --timeout 90 "${media[@]}" >"$tmp/osio.log" 2>&1 </dev/null &
pid=$!

port=''
for ((i = 0; i < 100; i++)); do
	port=$(sed -n 's/.*VNC at 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/osio.log" | head -1)
	[[ -n $port ]] && break
	kill -0 "$pid" 2>/dev/null || fail "osio ended before serving VNC: $(tail -3 "$tmp/osio.log")"
	sleep 0.1
done
[[ -n $port ]] || fail "osio did not say where VNC listens: $(tail -3 "$tmp/osio.log")"

# The worker's own picture of the screen, through the control socket.
screenshot() {
	python3 - "$OSIO_RUNTIME_DIR/$name.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rwb")
f.readline()
f.write((json.dumps({"execute": "screenshot", "arguments": {"file": sys.argv[2]}, "id": 1}) + "\n").encode())
f.flush()
r = json.loads(f.readline())
sys.exit(0 if "return" in r else 1)
PY
}

# The screen changes while SeaBIOS boots: compare until both agree on a
# screen with something on it (30 s at most), and at least once each way
# round (capture then screenshot, screenshot then capture).
matched=0
last=''
for ((i = 0; i < 30 && matched < 2; i++)); do
	if ((i % 2)); then
		screenshot "$tmp/shot.png" || fail "the control socket gave no screenshot"
		timeout 10 gvnccapture -q "localhost:$((port - 5900))" "$tmp/cap.png" ||
			fail "gvnccapture could not capture 127.0.0.1:$port"
	else
		timeout 10 gvnccapture -q "localhost:$((port - 5900))" "$tmp/cap.png" ||
			fail "gvnccapture could not capture 127.0.0.1:$port"
		screenshot "$tmp/shot.png" || fail "the control socket gave no screenshot"
	fi
	last=$(python3 "$here/pngcmp.py" "$tmp/cap.png" "$tmp/shot.png")
	rc=$?
	((rc == 2)) && fail "$last"
	if ((rc == 0)) && grep -q . <(python3 - "$tmp/shot.png" ${disk:+1024} <<'PY'
import sys, zlib, struct
d = open(sys.argv[1], "rb").read()
i, idat = 8, b""
while i < len(d):
    n, = struct.unpack(">I", d[i:i + 4]); t = d[i + 4:i + 8]
    if t == b"IDAT": idat += d[i + 8:i + 8 + n]
    i += 12 + n
width, = struct.unpack(">I", d[16:20])
if len(sys.argv) > 2 and width != int(sys.argv[2]):
    sys.exit(0)  # not the guest program's mode yet
raw = zlib.decompress(idat)
# Something besides black: a filter byte aside, any non-zero byte.
print("x" if any(raw[1:]) and raw.count(0) < len(raw) else "", end="")
PY
	); then
		matched=$((matched + 1))
	fi
	sleep 1
done
if [[ -n $outdir ]]; then
	mkdir -p "$outdir" && cp "$tmp/cap.png" "$outdir/gvnccapture.png" &&
		cp "$tmp/shot.png" "$outdir/screenshot.png" && echo "$me: pictures in $outdir"
fi
((matched >= 2)) || fail "gvnccapture's picture never matched the screen: $last"
echo "PASS: $me: gvnccapture of 127.0.0.1:$port equals the screen pixel for pixel"
