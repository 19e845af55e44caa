#!/bin/bash
# ctest cli/lifecycle-ctl: osio start, serial, stop, shutdown, reset, pause, resume, save, status
# and dvd on store VMs running test guests (lifecycle.elf counts on COM1 and powers off on the
# ACPI power button; kbdecho.elf ignores it): what each command prints and waits for, its
# errors, the worker's log, two starts at once, and a start whose worker fails.
# Usage: lifecycle-ctl.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
tmp=$(mktemp -d /tmp/osio-lifecycle-ctl.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
for g in lifecycle kbdecho; do
	[[ -r $guests/$g.elf ]] || { echo "SKIP: $guests/$g.elf is not built"; exit 77; }
done
vm_env "$tmp" || exit 2
# The workers run confined, as osio start runs them for users.
unset OSIO_SANDBOX
trap 'vm_kill_all; rm -rf "$tmp"' EXIT

# vm NAME GUEST APPEND: a store VM that boots GUEST directly, with a DVD drive and no disk.
vm() {
	"$osio" create "$1" --memory 64M --cpus 1 --disk none --switch none >/dev/null ||
		{ fail "osio create $1"; return 1; }
	vm_boot_kernel "$1" "$guests/$2.elf" "$3"
}

# ok NAME PATTERN -- COMMAND...: status 0 and one line on stdout matching PATTERN.
ok() {
	local name=$1 pattern=$2 rc
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if ((rc != 0)); then
		fail "$name: exit status $rc: $(grep -v 'osio: note:' "$tmp/err" | head -3)"
	elif [[ $(wc -l <"$tmp/out") != 1 ]] || ! grep -Eq -- "$pattern" "$tmp/out"; then
		fail "$name: printed '$(head -3 "$tmp/out")', expected '$pattern'"
	elif crashed; then
		fail "$name: crashed"
	else
		pass "$name: $(cat "$tmp/out")"
		return 0
	fi
	return 1
}

# state_of NAME: its state as osio status --json says it (not osio list: vm_state).
state_of() {
	"$osio" status "$1" --json 2>/dev/null | sed -n 's/^  "state": "\(.*\)",*$/\1/p'
}

vm lc lifecycle "period=100 disk=0" || exit 1
vm deaf kbdecho "timeout=600" || exit 1

# --- start ---
ok "start" "^VM 'lc' started \(VNC (127\.0\.0\.1:[0-9]+|none); serial: osio serial lc\)$" -- \
	"$osio" start lc
log=$OSIO_STORE_DIR/vms/lc/worker.log
grep -Eq '^=== [0-9-]+ [0-9:]+ UTC: osio start lc \(pid [0-9]+\)$' "$log" &&
	pass "worker.log has this start's line" || fail "worker.log: $(head -3 "$log")"
expect_error "start of a running VM" 1 "VM 'lc' is already running \(pid [0-9]+\)" -- \
	"$osio" start lc
[[ $(state_of lc) == running ]] && pass "status --json: running" ||
	fail "status --json says '$(state_of lc)'"
"$osio" status lc >"$tmp/status" 2>&1
grep -q '^State: *running' "$tmp/status" && grep -q '^PID: *[0-9]' "$tmp/status" &&
	pass "status" || fail "status: $(cat "$tmp/status")"
"$osio" status lc --json >"$tmp/status.json"
grep -q '"time-ns"' "$tmp/status.json" && grep -q '"rss"' "$tmp/status.json" &&
	pass "status --json has the stats" || fail "status --json: $(head -c 400 "$tmp/status.json")"

# --- serial: the recent output comes first, then the count goes on ---
sleep 1
vm_serial lc 2 >"$tmp/serial"
tr -d '\r' <"$tmp/serial" | grep -q '^lifecycle: boot' &&
	pass "serial shows the boot line printed before the attach" ||
	fail "serial: no boot line in $(head -c 300 "$tmp/serial")"
n=$(tr -d '\r' <"$tmp/serial" | grep -c '^count ')
((n >= 5)) && pass "serial: $n counts" || fail "serial: only $n counts"

# --- on a terminal: raw mode, the detach key, the VM runs on ---
if command -v script >/dev/null; then
	{ sleep 2; printf '\035'; sleep 1; } |
		timeout 20 script -qefc "$osio serial lc" /dev/null >"$tmp/tty" 2>&1
	rc=$?
	tr -d '\r' <"$tmp/tty" >"$tmp/tty.txt"
	if ((rc == 0)) && grep -q "Ctrl-\] detaches" "$tmp/tty.txt" &&
		grep -q "detached; the VM runs on" "$tmp/tty.txt" && grep -q '^count ' "$tmp/tty.txt"; then
		pass "serial on a terminal: Ctrl-] detaches"
	else
		fail "serial on a terminal (status $rc): $(tail -c 300 "$tmp/tty.txt")"
	fi
	[[ $(state_of lc) == running ]] && pass "after the detach the VM runs on" ||
		fail "after the detach: $(state_of lc)"
fi

# --- a second attach takes over from the first ---
timeout 20 "$osio" serial lc </dev/null >"$tmp/first" 2>&1 &
first=$!
sleep 1
vm_serial lc 1 >/dev/null
wait $first
rc=$?
((rc == 0)) && tr -d '\r' <"$tmp/first" | grep -q "another client took over" &&
	pass "a second attach takes over; the first is told and ends" ||
	fail "takeover: status $rc, the first saw $(tail -c 200 "$tmp/first")"

# --- pause and resume ---
ok "pause" "^VM 'lc' is paused$" -- "$osio" pause lc
[[ $(state_of lc) == paused ]] && pass "status: paused" || fail "status after pause: $(state_of lc)"
a=$(vm_last_count lc)
sleep 1
b=$(vm_last_count lc)
[[ -n $a && $a == "$b" ]] && pass "paused: the count stays at $a" ||
	fail "paused: the count went from '$a' to '$b'"
ok "pause again" "^VM 'lc' is paused$" -- "$osio" pause lc
ok "resume" "^VM 'lc' is running$" -- "$osio" resume lc
sleep 1
c=$(vm_last_count lc)
[[ -n $c && -n $b ]] && ((c > b)) && pass "resumed: the count goes on ($b -> $c)" ||
	fail "resumed: the count went from '$b' to '$c'"

# --- reset: the guest boots again ---
ok "reset" "^VM 'lc' was reset$" -- "$osio" reset lc
sleep 1
boots=$(vm_serial lc 1 | tr -d '\r' | grep -c '^lifecycle: boot')
((boots >= 2)) && pass "reset: a second boot line" || fail "reset: $boots boot lines"

# --- dvd ---
iso=$tmp/disc.iso
head -c 1048576 /dev/zero >"$iso"
cfg=$OSIO_STORE_DIR/vms/lc/lc.vmconfig
ok "dvd insert" "^VM 'lc': ide1:0 has $iso now$" -- "$osio" dvd lc insert "$iso"
grep -q "^file = $iso\$" "$cfg" && pass "dvd insert is kept in the vmconfig" ||
	fail "dvd insert: the vmconfig has $(grep -A3 '^\[dvd' "$cfg")"
ok "dvd eject" "^VM 'lc': ide1:0 is empty now$" -- "$osio" dvd lc eject
grep -Eq '^file = (""|)$' "$cfg" && pass "dvd eject is kept in the vmconfig" ||
	fail "dvd eject: the vmconfig has $(grep -A3 '^\[dvd' "$cfg")"
expect_error "dvd eject of an empty drive" 1 "ide1:0 is empty" -- "$osio" dvd lc eject
expect_error "dvd insert of a missing file" 1 "$tmp/nope.iso: no such file; give the path" -- \
	"$osio" dvd lc insert "$tmp/nope.iso"
expect_error "dvd insert of a folder" 1 "$tmp: a folder, not an ISO image" -- \
	"$osio" dvd lc insert "$tmp"
expect_error "dvd usage" 2 "usage: osio dvd" -- "$osio" dvd lc spin

# --- screenshot: a PNG of the screen, written beside the file and renamed over it ---
echo old >"$tmp/shot.png"
ok "screenshot" "^VM 'lc': its screen \([0-9]+x[0-9]+\) is in $tmp/shot.png$" -- \
	"$osio" screenshot lc "$tmp/shot.png"
dims=$(python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24)
print("%dx%d" % struct.unpack(">II", d[16:24]) if d[:8] == b"\x89PNG\r\n\x1a\n" else "no PNG")' \
	"$tmp/shot.png")
grep -q "its screen ($dims)" "$tmp/out" && pass "the file is a PNG of that size ($dims)" ||
	fail "screenshot: the file is $dims, the command said $(cat "$tmp/out")"
ls -A "$tmp" | grep -q '^\.shot\.png\.' && fail "screenshot left its temporary file" ||
	pass "no temporary file is left"
"$osio" screenshot lc - >"$tmp/stdout.png" 2>"$tmp/err"
cmp -s <(head -c 8 "$tmp/stdout.png") <(printf '\x89PNG\r\n\x1a\n') &&
	pass "screenshot to standard output" || fail "screenshot -: $(head -2 "$tmp/err")"
expect_error "screenshot into a missing folder" 1 "$tmp/no/shot.png: cannot write there" -- \
	"$osio" screenshot lc "$tmp/no/shot.png"
expect_error "screenshot usage" 2 "usage: osio screenshot NAME FILE.png" -- "$osio" screenshot lc

# --- shutdown: the guest powers off on the button ---
ok "shutdown" "^VM 'lc' shut down$" -- "$osio" shutdown lc --timeout 60
[[ $(state_of lc) == Off ]] && pass "status after shutdown: Off" ||
	fail "status after shutdown: '$(state_of lc)'"
grep -q "ends with status 0" "$log" && pass "worker.log: the worker ended with status 0" ||
	fail "worker.log: $(tail -3 "$log")"
expect_error "stop of an Off VM" 1 "VM 'lc' is not running \(it is Off\); osio start lc" -- \
	"$osio" stop lc
expect_error "serial of an Off VM" 1 "VM 'lc' is not running" -- "$osio" serial lc
expect_error "pause of an Off VM" 1 "VM 'lc' is not running" -- "$osio" pause lc

# --- two starts at once: exactly one succeeds, the other says why in one line ---
"$osio" start lc >"$tmp/s1.out" 2>"$tmp/s1.err" &
p1=$!
"$osio" start lc >"$tmp/s2.out" 2>"$tmp/s2.err" &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
if ((r1 + r2 == 1)); then
	pass "two starts at once: one succeeded"
	for i in 1 2; do
		if [[ -s $tmp/s$i.err ]] && grep -v 'osio: note:' "$tmp/s$i.err" | grep -q .; then
			n=$(grep -vc 'osio: note:' "$tmp/s$i.err")
			((n == 1)) && grep -Eq "busy|already running" "$tmp/s$i.err" &&
				pass "the other start: $(cat "$tmp/s$i.err")" ||
				fail "the other start said: $(cat "$tmp/s$i.err")"
		fi
	done
else
	fail "two starts at once: statuses $r1 and $r2: $(cat "$tmp/s1.err" "$tmp/s2.err")"
fi

# --- stop: off at once ---
ok "stop" "^VM 'lc' is off$" -- "$osio" stop lc
[[ $(state_of lc) == Off ]] && pass "status after stop: Off" || fail "after stop: $(state_of lc)"

# --- a guest that ignores the power button ---
ok "start deaf" "^VM 'deaf' started" -- "$osio" start deaf
expect_error "shutdown that times out" 1 "did not shut down within 2 s" -- \
	"$osio" shutdown deaf --timeout 2
[[ $(state_of deaf) == running ]] && pass "after the timeout the VM runs on" ||
	fail "after the timeout: $(state_of deaf)"
ok "shutdown --force" "^VM 'deaf' was powered off$" -- "$osio" shutdown deaf --timeout 2 --force
[[ $(state_of deaf) == Off ]] && pass "status after --force: Off" ||
	fail "after --force: $(state_of deaf)"
expect_error "shutdown with a bad timeout" 2 "--timeout soon" -- "$osio" shutdown deaf --timeout soon

# --- save: the worker ends, the state is on disk, the VM is Saved ---
# A log over 1 MiB is moved aside at the next start.
head -c 1100000 /dev/zero | tr '\0' x >>"$log"
ok "start for save" "^VM 'lc' started" -- "$osio" start lc
[[ -f $log.1 && $(stat -c %s "$log.1") -gt 1048576 && $(stat -c %s "$log") -lt 65536 ]] &&
	head -1 "$log" | grep -q '^=== .*osio start lc' &&
	pass "the large worker.log became worker.log.1" ||
	fail "log rotation: $(ls -l "$log"*)"
sleep 1
if "$osio" save lc >"$tmp/out" 2>"$tmp/err"; then
	grep -q "^VM 'lc' saved (.*saved.vmstate" "$tmp/out" && pass "save: $(cat "$tmp/out")" ||
		fail "save printed: $(cat "$tmp/out")"
	[[ -f $OSIO_STORE_DIR/vms/lc/saved.vmstate ]] && pass "saved.vmstate exists" ||
		fail "no saved.vmstate"
	[[ $(state_of lc) == Saved ]] && pass "status after save: Saved" ||
		fail "after save: $(state_of lc)"
	ok "start --fresh" "^VM 'lc' started" -- "$osio" start lc --fresh
	[[ ! -e $OSIO_STORE_DIR/vms/lc/saved.vmstate ]] &&
		pass "start --fresh discarded the saved state" || fail "saved.vmstate is still there"
	"$osio" stop lc >/dev/null 2>&1
else
	fail "save: $(cat "$tmp/err")"
	"$osio" stop lc >/dev/null 2>&1
fi

# --- a worker that fails: its reason on one line ---
printf '\n[disk "main"]\nfile = missing.vhdx\n' >>"$cfg"
expect_error "start with a missing disk" 1 \
	"VM 'lc' did not start: .*missing\.vhdx: no such file.*\(its log: .*worker\.log\)" -- \
	"$osio" start lc
[[ ! -e $OSIO_RUNTIME_DIR/lc.sock ]] && pass "no control socket left behind" ||
	fail "a control socket is left behind"

# --- usage and names ---
expect_error "start of no such VM" 1 "there is no VM called 'ghost'" -- "$osio" start ghost
expect_error "stop of no such VM" 1 "there is no VM called 'ghost'" -- "$osio" stop ghost
expect_error "a bad name" 1 "not a valid VM name" -- "$osio" stop 'a/b'
expect_error "start without a name" 2 "usage: osio start" -- "$osio" start

echo "$passes passed, $failures failed"
((failures == 0))
