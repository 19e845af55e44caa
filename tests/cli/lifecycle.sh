#!/bin/bash
# ctest cli/lifecycle: the VM lifecycle end to end, as a user drives it, with the worker confined
# (seccomp on, as osio start runs it): a VM made by osio create whose guest (lifecycle.elf)
# counts on COM1 and into its disk and turns off on the ACPI power button. create, start, list
# shows Running, serial shows the guest, shutdown through ACPI reaches Off with the count on disk,
# start again goes on from the disk, pause stops the count and resume lets it go on, save then
# start goes on counting with no new boot, a checkpoint taken while running and applied brings
# back its count, one taken while off and applied brings back its disk; every worker's log
# says it was confined, and nothing crashed.
# Usage: lifecycle.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
tmp=$(mktemp -d /tmp/osio-lifecycle.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
[[ -r $guests/lifecycle.elf ]] || { echo "SKIP: $guests/lifecycle.elf is not built"; exit 77; }
vm_env "$tmp"
unset OSIO_SANDBOX OSIO_SECCOMP
trap 'vm_kill_all; rm -rf "$tmp"' EXIT

vm=life
log=$OSIO_STORE_DIR/vms/$vm/worker.log
"$osio" create $vm --memory 64M --cpus 1 --disk 16M --switch none >"$tmp/out" 2>&1 &&
	pass "create: $(head -1 "$tmp/out")" || fail "create: $(cat "$tmp/out")"
vm_boot_kernel $vm "$guests/lifecycle.elf" "period=100" || exit 1

# --- start, list, serial ---
"$osio" start $vm >"$tmp/out" 2>&1 && pass "start: $(cat "$tmp/out")" || fail "start: $(cat "$tmp/out")"
vm_wait_count $vm 3 || fail "the guest does not count: $(vm_serial $vm 1 | tail -3)"
"$osio" list >"$tmp/list" 2>&1
grep -Eq "^$vm +Running " "$tmp/list" && pass "list: Running" || fail "list: $(cat "$tmp/list")"
vm_serial $vm 1 >"$tmp/serial"
grep -q '^lifecycle: boot (the disk holds no count)' "$tmp/serial" &&
	pass "serial shows the guest's first boot" || fail "serial: $(head -5 "$tmp/serial")"
grep -q 'seccomp filter' "$log" && pass "the worker runs confined" ||
	fail "worker.log does not say the worker is confined: $(tail -5 "$log")"

# --- shutdown through the ACPI power button ---
"$osio" shutdown $vm --timeout 60 >"$tmp/out" 2>&1 && pass "shutdown: $(cat "$tmp/out")" ||
	fail "shutdown: $(cat "$tmp/out")"
[[ $(vm_state $vm) == off ]] && pass "Off after shutdown" || fail "after shutdown: $(vm_state $vm)"
grep -q 'status 0' "$log" && pass "the guest turned itself off (status 0)" ||
	fail "worker.log: $(tail -3 "$log")"

# --- start again: the guest goes on from the count its disk holds ---
"$osio" start $vm >/dev/null 2>"$tmp/err" || fail "second start: $(cat "$tmp/err")"
vm_wait_count $vm 2 || fail "no count after the second start"
on_disk=$(vm_serial $vm 1 | sed -n 's/^lifecycle: boot (the disk holds count \([0-9]*\))$/\1/p')
[[ $on_disk =~ ^[1-9][0-9]*$ ]] && pass "second boot: the disk holds count $on_disk" ||
	fail "second boot: $(vm_serial $vm 1 | head -3)"

# --- pause: the count stops; resume: it goes on ---
"$osio" pause $vm >/dev/null 2>"$tmp/err" || fail "pause: $(cat "$tmp/err")"
[[ $(vm_state $vm) == paused ]] && pass "state paused" || fail "after pause: $(vm_state $vm)"
a=$(vm_last_count $vm)
sleep 2
b=$(vm_last_count $vm)
[[ -n $a && $a == "$b" ]] && pass "paused: the count stays at $a" || fail "paused: count $a then $b"
"$osio" list >"$tmp/list" 2>&1
grep -Eq "^$vm +Paused " "$tmp/list" && pass "list: Paused" || fail "list: $(cat "$tmp/list")"
"$osio" resume $vm >/dev/null 2>"$tmp/err" || fail "resume: $(cat "$tmp/err")"
vm_wait_count $vm $((b + 3)) && pass "resumed: the count goes on past $b" ||
	fail "resumed: the count stays at $(vm_last_count $vm)"

# --- save, then start: the count goes on where it was, with no new boot (paused first, so
# that the count at the save is known exactly) ---
"$osio" pause $vm >/dev/null 2>"$tmp/err" || fail "pause: $(cat "$tmp/err")"
vm_serial $vm 1 >"$tmp/pre"
saved=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$tmp/pre" | tail -1)
"$osio" save $vm >"$tmp/out" 2>&1 && pass "save: $(cat "$tmp/out")" || fail "save: $(cat "$tmp/out")"
"$osio" list >"$tmp/list" 2>&1
grep -Eq "^$vm +Saved " "$tmp/list" && pass "list: Saved" || fail "list: $(cat "$tmp/list")"
"$osio" start $vm >/dev/null 2>"$tmp/err" || fail "start from saved: $(cat "$tmp/err")"
vm_wait_count $vm $((saved + 4)) || fail "no count after the resume"
vm_serial $vm 1 >"$tmp/post"
if why=$(vm_counts_go_on "$tmp/pre" "$tmp/post"); then
	pass "resumed without a boot, the count going on: $why"
else
	fail "after the resume: $why"
fi
[[ -e $OSIO_STORE_DIR/vms/$vm/saved.vmstate ]] && fail "saved.vmstate is still there" ||
	pass "the saved state is gone once the VM runs from it"

# --- a checkpoint of the running VM (paused, to know its count), applied: the count comes
# back ---
"$osio" pause $vm >/dev/null 2>"$tmp/err" || fail "pause: $(cat "$tmp/err")"
vm_serial $vm 1 >"$tmp/pre"
at=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$tmp/pre" | tail -1)
"$osio" checkpoint $vm create running >"$tmp/out" 2>&1 && pass "checkpoint create (running)" ||
	fail "checkpoint create (running): $(cat "$tmp/out")"
"$osio" resume $vm >/dev/null 2>"$tmp/err" || fail "resume: $(cat "$tmp/err")"
vm_wait_count $vm $((at + 5)) || fail "no count after the checkpoint"
"$osio" checkpoint $vm apply running >"$tmp/out" 2>&1 || fail "apply: $(cat "$tmp/out")"
[[ $(vm_state $vm) == saved ]] && pass "applied: the VM is Saved at the checkpoint" ||
	fail "after apply: $(vm_state $vm)"
"$osio" start $vm >/dev/null 2>"$tmp/err" || fail "start at the checkpoint: $(cat "$tmp/err")"
vm_wait_count $vm $((at + 4)) || fail "no count after starting at the checkpoint"
vm_serial $vm 1 >"$tmp/post"
if why=$(vm_counts_go_on "$tmp/pre" "$tmp/post"); then
	pass "the count goes on from the checkpoint, not from later: $why"
else
	fail "after the apply: $why"
fi

# --- a checkpoint of the VM while off, applied: the disk comes back ---
"$osio" stop $vm >/dev/null 2>"$tmp/err" || fail "stop: $(cat "$tmp/err")"
"$osio" checkpoint $vm create off >"$tmp/out" 2>&1 && pass "checkpoint create (off)" ||
	fail "checkpoint create (off): $(cat "$tmp/out")"
"$osio" start $vm >/dev/null 2>"$tmp/err" || fail "start after the checkpoint: $(cat "$tmp/err")"
disk_at=$(vm_serial $vm 1 | sed -n 's/^lifecycle: boot (the disk holds count \([0-9]*\))$/\1/p')
vm_wait_count $vm $((disk_at + 5)) || fail "no count after the off checkpoint"
"$osio" shutdown $vm --timeout 60 >/dev/null 2>"$tmp/err" || fail "shutdown: $(cat "$tmp/err")"
"$osio" checkpoint $vm apply off >"$tmp/out" 2>&1 || fail "apply off: $(cat "$tmp/out")"
"$osio" start $vm >/dev/null 2>"$tmp/err" || fail "start after apply: $(cat "$tmp/err")"
vm_wait_count $vm 1 || true
now=$(vm_serial $vm 1 | sed -n 's/^lifecycle: boot (the disk holds count \([0-9]*\))$/\1/p')
[[ -n $disk_at && $now == "$disk_at" ]] &&
	pass "the disk is back at the checkpoint's count $disk_at" ||
	fail "after applying the off checkpoint the disk holds '$now', expected '$disk_at'"
"$osio" stop $vm >/dev/null 2>&1

if grep -Eq 'Sanitizer|runtime error|SIGSYS|Bad system call' "$log"; then
	fail "worker.log shows a crash: $(grep -E 'Sanitizer|runtime error|SIGSYS' "$log" | head -3)"
fi
echo "lifecycle: $passes passed, $failures failed"
((failures == 0))
