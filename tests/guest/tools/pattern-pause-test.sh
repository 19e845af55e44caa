#!/bin/bash
# ctest guest/disk-full-*: a host disk that fills up under a guest writing its pattern (vblk on a
# virtio disk, or with --bus ide idedisk on IDE 0:0, whose image lies on a 1 MiB tmpfs). With
# on_disk_error = pause the VM must pause (state "paused" on the control socket, a reason naming
# the disk), go on after the tmpfs is grown and "resume" is sent, pass, and leave an image holding
# exactly the pattern. With report the guest must see the I/O error (the program fails) and osio
# must go on running it to its end. Needs root (mount); skipped (77) otherwise.
set -u

usage() {
	echo "usage: pattern-pause-test.sh --osio PATH --kernel VBLK_OR_IDEDISK_ELF --checker PATH" \
		"--outdir DIR --mode pause|report [--bus virtio|ide]" >&2
}

# shellcheck source=tests/guest/tools/pattern-lib.sh
. "$(dirname "$0")/pattern-lib.sh"
osio='' kernel='' checker='' outdir='' mode='' bus=virtio
while (($#)); do
	case $1 in
	--mode) mode=${2-}; shift 2 ;;
	--bus) bus=${2-}; shift 2 ;;
	*) pattern_opt "$1" "${2-}" || { usage; exit 2; }; shift 2 ;;
	esac
done
[[ -x $osio && -r $kernel && -x $checker && -n $outdir && $mode =~ ^(pause|report)$ &&
	$bus =~ ^(virtio|ide)$ ]] ||
	{ usage; exit 2; }
if ((EUID != 0)); then
	echo "SKIP: needs root to mount a small tmpfs"
	exit 77
fi
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 (the control socket client) not found"; exit 77; }

rm -rf "$outdir" && mkdir -p "$outdir/fs" "$outdir/run" && chmod 700 "$outdir/run" || exit 2
if ! mount -t tmpfs -o size=1M osio-test "$outdir/fs"; then
	echo "SKIP: cannot mount a tmpfs at $outdir/fs"
	exit 77
fi
pid=''
cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	umount "$outdir/fs" 2>/dev/null
}
trap cleanup EXIT

img=$outdir/fs/disk.img
truncate -s 64M "$img"
# 4 MiB of pattern: more than the file system holds. The disk's name in messages: vd0 (the
# first virtio disk) or ide0:0 (IDE controller 0, location 0).
if [[ $bus == virtio ]]; then
	append="serial=RGDISK0 start=0 count=8192" disk="$img,bus=virtio,format=raw,serial=RGDISK0"
	name=vd0
else
	append="start=0 count=8192" disk="$img,bus=ide,format=raw" name=ide0:0
fi
OSIO_RUNTIME_DIR=$outdir/run timeout -k 5 240 "$osio" run --name full --memory 128M --vnc none \
	--kernel "$kernel" --append "$append" --disk "$disk" --on-disk-error "$mode" \
	</dev/null >"$outdir/osio.out" 2>"$outdir/osio.err" &
pid=$!

# control CMD...: sends each command, prints the replies and the events that came with them;
# "wait-paused" polls query-status until the state is paused (60 s at most).
control() {
	python3 - "$outdir/run/full.sock" "$@" <<'EOF'
import json, socket, sys, time
path, cmds = sys.argv[1], sys.argv[2:]
deadline = time.time() + 60
while True:
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("no control socket at " + path)
        time.sleep(0.2)
f = s.makefile("rw")
f.readline()
for n, cmd in enumerate(cmds):
    if cmd == "wait-paused":
        while True:
            f.write(json.dumps({"execute": "query-status", "id": n}) + "\n")
            f.flush()
            while True:
                r = json.loads(f.readline())
                if r.get("id") == n:
                    break
            st = r["return"]
            if st.get("state") == "paused":
                print("paused:", st.get("paused-reason"))
                break
            if time.time() > deadline:
                sys.exit("the VM did not pause: state " + str(st.get("state")))
            time.sleep(0.5)
        continue
    f.write(json.dumps({"execute": cmd, "id": n}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if r.get("id") == n:
            print(cmd, "->", json.dumps(r))
            break
EOF
}

if [[ $mode == pause ]]; then
	if out=$(control wait-paused); then
		echo "$out"
		[[ $out == *"disk $name ($img): No space left on device"* ]] ||
			fail "the pause reason does not name the disk and the error"
		grep -q "the VM is paused: disk $name" "$outdir/osio.err" ||
			fail "no log line says the VM is paused and why"
		# What was written so far is intact; then room for the rest, and on.
		mount -o remount,size=64M "$outdir/fs" || fail "cannot grow the tmpfs"
		control resume || fail "resume failed"
	else
		fail "$out"
	fi
fi
wait "$pid"
rc=$?
pid=''
echo "osio: status $rc: $(grep '^RESULT:' "$outdir/osio.out")"
if [[ $mode == pause ]]; then
	((rc == 0)) && grep -q '^RESULT: PASS' "$outdir/osio.out" ||
		fail "after the resume the guest did not pass (status $rc)"
	mount -o remount,size=64M "$outdir/fs"
	pattern_verify "$img" 8192 "$outdir/pattern" ""
else
	# report: the guest sees VIRTIO_BLK_S_IOERR (IDE: ERR with ABRT), says so and fails; osio
	# runs on to its end.
	((rc == 1)) && grep -q '^RESULT: FAIL' "$outdir/osio.out" ||
		fail "the guest did not see the write error (status $rc)"
	grep -q "paused" "$outdir/osio.err" && fail "the VM paused under on_disk_error = report"
fi
if ((failures)); then
	echo "--- osio's messages:"
	cat "$outdir/osio.err"
	echo "--- the guest's output:"
	cat "$outdir/osio.out"
	echo "RESULT: FAIL $failures"
	exit 1
fi
echo "RESULT: PASS"
