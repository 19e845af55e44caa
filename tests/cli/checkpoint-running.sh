#!/bin/bash
# osio checkpoint on a running VM (the lifecycle guest counts on COM1 and writes each count to
# its IDE disk): create keeps the VM running on new images and freezes the disk with the count
# of that moment; a checkpoint-create that fails half-way (its second disk cannot get a new
# image) leaves the VM running on its original images and no file behind; apply turns the VM
# off and makes it Saved, and osio start resumes it at the checkpoint (no new boot, the count
# goes on from the frozen one); delete is refused while the merge would touch the running disk
# and merges everything into one clean image once the VM is off.
# Usage: checkpoint-running.sh OSIO GUEST_DIR CTLCALL
set -u
osio=$1 guests=$2 ctlcall=$3
tmp=$(mktemp -d /tmp/osio-checkpoint-running.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
[[ -r $guests/lifecycle.elf ]] || { echo "SKIP: $guests/lifecycle.elf is not built"; exit 77; }
[[ -x $ctlcall ]] || { echo "SKIP: $ctlcall is not built"; exit 77; }
for t in qemu-img jq; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (qemu-utils, jq)"; exit 77; }
done
vm_env "$tmp" || exit 2
trap 'vm_kill_all; rm -rf "$tmp"' EXIT

vm=lc
dir=$OSIO_STORE_DIR/vms/$vm
cfg=$dir/$vm.vmconfig

# disk_count FILE: the count the guest last wrote into the image FILE (read through its parents).
disk_count() {
	rm -f "$tmp/disk.raw"
	"$osio" disk convert -f raw "$1" "$tmp/disk.raw" >/dev/null 2>&1 || return 1
	head -c 64 "$tmp/disk.raw" | tr -d '\0' | sed -n 's/^OSIO-LIFECYCLE count=\([0-9]*\).*/\1/p'
}

# system_disk: the image the system disk uses now.
system_disk() {
	echo "$dir/$(sed -n '/^\[disk "system"\]/,/^\[/s/^file = //p' "$cfg")"
}

ok() { # ok NAME PATTERN -- COMMAND...: status 0, stdout matches PATTERN
	local name=$1 pattern=$2 rc
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if ((rc != 0)); then
		fail "$name: exit status $rc: $(grep -v 'osio: note:' "$tmp/err" | head -3)"
	elif ! grep -Eq -- "$pattern" "$tmp/out"; then
		fail "$name: printed '$(head -5 "$tmp/out")', expected '$pattern'"
	elif crashed; then
		fail "$name: crashed"
	else
		pass "$name"
		return 0
	fi
	return 1
}

"$osio" create "$vm" --memory 64M --cpus 1 --disk 16M --switch none >/dev/null || exit 2
vm_boot_kernel "$vm" "$guests/lifecycle.elf" "period=100" || exit 2
qemu-img create -q -f qcow2 "$dir/data.qcow2" 16M
printf '\n[disk "data"]\nfile = data.qcow2\nbus = virtio\n' >>"$cfg"

ok "start" "started" -- "$osio" start "$vm" || exit 1
vm_wait_count "$vm" 5 && pass "the guest counts" || fail "the guest does not count: $(vm_last_count "$vm")"

# --- create on the running VM ---
ok "create R while it runs" \
	"^Created checkpoint 'R' \([0-9a-f]{8}\) of running VM 'lc' with its state$" -- \
	"$osio" checkpoint "$vm" create R
id=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
[[ $(vm_state "$vm") == running ]] && pass "the VM runs on" || fail "the VM is $(vm_state "$vm")"
[[ -s $dir/checkpoints/$id.vmstate ]] && pass "R has a state file" || fail "no $id.vmstate"
[[ $(system_disk) == "$dir/lc-$id.avhdx" ]] && pass "the system disk went on lc-$id.avhdx" ||
	fail "the system disk is $(system_disk)"
grep -q "^file = data-$id.qcow2$" "$cfg" && pass "the virtio disk went on data-$id.qcow2" ||
	fail "the data disk: $(grep data "$cfg")"
frozen=$(disk_count "$dir/lc.vhdx")
[[ -n $frozen ]] && ((frozen >= 5)) && pass "R froze the disk at count $frozen" ||
	fail "R's disk holds count '$frozen'"
vm_wait_count "$vm" $((frozen + 10)) && pass "the guest counts on after the checkpoint" ||
	fail "the count stopped at $(vm_last_count "$vm")"
after=$(vm_last_count "$vm")

# --- a checkpoint that fails half-way is undone ---
sys=$(system_disk)
"$ctlcall" "$vm" checkpoint-create "{\"state\": \"$dir/checkpoints/half.vmstate\", \"disks\": [
	{\"file\": \"$sys\", \"new\": \"$dir/half.avhdx\"},
	{\"file\": \"$dir/data-$id.qcow2\", \"new\": \"/nonexistent/half.qcow2\"}]}" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
((rc == 1)) && grep -q 'half.qcow2' "$tmp/err" && pass "a failing second disk fails the request" ||
	fail "checkpoint-create with a bad second disk: status $rc: $(cat "$tmp/err" "$tmp/out")"
[[ ! -e $dir/half.avhdx && ! -e $dir/checkpoints/half.vmstate ]] &&
	pass "nothing of it is left" || fail "left behind: $(ls "$dir" "$dir/checkpoints")"
"$ctlcall" "$vm" checkpoint-create "{\"state\": \"$dir/x.vmstate\", \"disks\": [
	{\"file\": \"$dir/lc.vhdx\", \"new\": \"$dir/x.avhdx\"}]}" >"$tmp/out" 2>"$tmp/err"
(($? == 1)) && grep -q 'no disk of the VM uses' "$tmp/err" && [[ ! -e $dir/x.vmstate ]] &&
	pass "a disk the VM does not use is refused" || fail "frozen disk accepted: $(cat "$tmp/err")"
vm_wait_count "$vm" $((after + 5)) && pass "the guest counts on after the failures" ||
	fail "the count stopped at $(vm_last_count "$vm")"

# --- delete while it runs ---
expect_error "delete R while it runs" 1 "turn it off first" -- "$osio" checkpoint "$vm" delete R

# --- apply: off, Saved, resumed at R ---
ok "apply R while it runs" "turned off to apply" -- "$osio" checkpoint "$vm" apply R
[[ $(vm_state "$vm") == saved ]] && pass "after apply the VM is Saved" || fail "it is $(vm_state "$vm")"
(($(disk_count "$(system_disk)") == frozen)) && pass "the disk is back at count $frozen" ||
	fail "the disk holds count $(disk_count "$(system_disk)")"
ok "start after apply" "started" -- "$osio" start "$vm"
sleep 1
vm_serial "$vm" 1 >"$tmp/serial"
first=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$tmp/serial" | head -1)
! grep -q '^lifecycle: boot' "$tmp/serial" && pass "the VM resumed (no new boot)" ||
	fail "the VM booted again"
# The first line may be the checkpoint's own count: saved while still in the UART's FIFO, it goes
# out after the resume.
[[ -n $first ]] && ((first >= frozen && first <= frozen + 2)) &&
	pass "the count goes on from the checkpoint ($frozen, then $first)" ||
	fail "after the apply the count is '$first' (the checkpoint had $frozen, it was at $after)"

# --- delete once off: one image left, clean ---
ok "stop" "is off" -- "$osio" stop "$vm"
ok "delete R" "Deleted checkpoint 'R'" -- "$osio" checkpoint "$vm" delete R
[[ $(system_disk) == "$dir/lc.vhdx" ]] && grep -q '^file = data.qcow2$' "$cfg" &&
	pass "the disks are their original images again" || fail "disks: $(grep 'file =' "$cfg")"
n=$(find "$dir" -maxdepth 1 \( -name '*.avhdx' -o -name 'data-*' \) | wc -l)
((n == 0)) && pass "no differencing image is left" || fail "$n differencing images left"
"$osio" disk check "$dir/lc.vhdx" >/dev/null 2>&1 && qemu-img check -q "$dir/data.qcow2" &&
	pass "the images are clean" || fail "an image is not clean"
c=$(disk_count "$dir/lc.vhdx")
[[ -n $c ]] && ((c > frozen)) && pass "the merged disk holds the last count ($c)" ||
	fail "the merged disk holds count '$c'"

echo "$passes passed, $failures failed"
((failures == 0))
