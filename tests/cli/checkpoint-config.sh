#!/bin/bash
# osio checkpoint keeps the VM's settings, as Hyper-V's checkpoints do: memory and vCPUs changed
# after a checkpoint come back on apply, a NIC added later is gone, a disk added later leaves the
# settings but its file stays, a renamed VM keeps its new name, a checkpoint made before osio
# kept settings (no ID.vmconfig) applies its disks only, delete removes the copy; and, where KVM
# can be used, a running VM's checkpoint (the lifecycle guest) keeps the settings the VM runs
# with, not the vmconfig edited while it ran (for its next start), and resumes after apply
# because its saved state matches those settings.
# Usage: checkpoint-config.sh OSIO GUEST_DIR
# shellcheck disable=SC2016 # jq programs in single quotes
set -u
osio=$1 guests=$2
tmp=$(mktemp -d /tmp/osio-checkpoint-config.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

for t in qemu-img jq; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (qemu-utils, jq)"; exit 77; }
done
vm_env "$tmp" || exit 2
trap 'vm_kill_all; rm -rf "$tmp"' EXIT

# key VM SECTION KEY: the value the VM's vmconfig gives KEY in the first [SECTION...].
key() {
	sed -n "/^\[$2[] ]/,/^\[/s/^$3 = //p" "$OSIO_STORE_DIR/vms/$1/$1.vmconfig" | head -1
}

# set_key VM KEY VALUE: changes a [vm] key, as a user editing the file would.
set_key() {
	sed -i "s/^$2 = .*/$2 = $3/" "$OSIO_STORE_DIR/vms/$1/$1.vmconfig"
}

vm=cc
dir=$OSIO_STORE_DIR/vms/$vm
expect_ok "create the VM" -- "$osio" create "$vm" --memory 64M --cpus 1 --disk 16M --switch none
sed -i 's/^\[vm\]$/# settings a person wrote\n[vm]/' "$dir/$vm.vmconfig"
expect_ok "create A" -- "$osio" checkpoint "$vm" create A
idA=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
check "A keeps the settings in checkpoints/$idA.vmconfig" \
	grep -q '^memory = 64M$' "$dir/checkpoints/$idA.vmconfig"
check "A's copy names the image A froze" \
	grep -q "^file = $vm.vhdx$" "$dir/checkpoints/$idA.vmconfig"

# Afterwards: more memory and vCPUs, a NIC, a second disk.
set_key "$vm" memory 128M
set_key "$vm" cpus 2
qemu-img create -q -f qcow2 "$dir/data.qcow2" 16M
printf '\n[nic "lan"]\nswitch = default\n\n[disk "data"]\nfile = data.qcow2\nbus = virtio\n' \
	>>"$dir/$vm.vmconfig"
expect_ok "list" -- "$osio" checkpoint "$vm" list
differ="memory 64M, now 128M; cpus 1, now 2; disk 'data' added since; nic 'lan' added since"
check "list says what differs from now" grep -Eq "^ {33}settings: $differ$" "$tmp/out"
expect_ok "list --json" -- "$osio" checkpoint "$vm" list --json
check "--json: settings_differ lists the same" jq -e --arg d "$differ" \
	'.checkpoints[0].settings_differ | join("; ") == $d' "$tmp/out"
expect_ok "apply A" -- "$osio" checkpoint "$vm" apply A
check "apply says the settings are A's" grep -q "settings are the checkpoint's again" "$tmp/out"
check "memory is A's again" test "$(key "$vm" vm memory)" = 64M
check "the vCPUs are A's again" test "$(key "$vm" vm cpus)" = 1
check "the NIC added after A is gone" sh -c "! grep -q '^\[nic' '$dir/$vm.vmconfig'"
check "the disk added after A left the settings" sh -c "! grep -q 'data' '$dir/$vm.vmconfig'"
left="disk 'data' was added after the checkpoint: it leaves the VM's settings; .*data.qcow2 is kept"
check "apply says the disk left and its file is kept" grep -q "$left" "$tmp/out"
check "the disk's file is still there" test -f "$dir/data.qcow2"
check "the system disk is on a new image on A's" grep -Eq '^file = cc-[0-9a-f]{8}\.avhdx$' \
	"$dir/$vm.vmconfig"
check "the comment is kept" grep -q '^# settings a person wrote$' "$dir/$vm.vmconfig"
"$osio" checkpoint "$vm" list --json >"$tmp/out" 2>&1
check "after apply nothing differs from A" jq -e '.checkpoints[0].settings_differ == []' "$tmp/out"

# A renamed VM keeps its new name (and the UUID it had).
expect_ok "rename" -- "$osio" rename "$vm" cn
vm=cn
dir=$OSIO_STORE_DIR/vms/$vm
uuid=$(key "$vm" vm uuid)
set_key "$vm" memory 256M
expect_ok "apply A after the rename" -- "$osio" checkpoint "$vm" apply A
check "the renamed VM keeps its new name" test "$(key "$vm" vm name)" = cn
check "it keeps its UUID" test -n "$uuid" -a "$(key "$vm" vm uuid)" = "$uuid"
check "memory is A's again after the rename" test "$(key "$vm" vm memory)" = 64M
expect_ok "list after the rename" -- "$osio" list
check "osio list shows the VM by its new name" grep -q '^cn ' "$tmp/out"

# A checkpoint from before osio kept settings: its disks only.
expect_ok "create B" -- "$osio" checkpoint "$vm" create B
idB=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
rm "$dir/checkpoints/$idB.vmconfig"
set_key "$vm" memory 512M
expect_ok "apply an old-style checkpoint" -- "$osio" checkpoint "$vm" apply B
check "apply says the settings were not recorded" grep -q "no copy of the VM's settings" "$tmp/out"
check "the settings stay as they are" test "$(key "$vm" vm memory)" = 512M
"$osio" checkpoint "$vm" list --json >"$tmp/out" 2>&1
check "--json: an old-style checkpoint's settings_differ is null" \
	jq -e --arg b "$idB" '.checkpoints[] | select(.id == $b) | .settings_differ == null' \
	"$tmp/out"

# Delete removes the copy.
expect_ok "delete A" -- "$osio" checkpoint "$vm" delete A
check "A's copy of the settings is gone" test ! -e "$dir/checkpoints/$idA.vmconfig"
expect_ok "delete B" -- "$osio" checkpoint "$vm" delete B
check "no copy of settings is left" \
	test "$(find "$dir/checkpoints" -name '*.vmconfig' 2>/dev/null | wc -l)" -eq 0

# --- a running VM's checkpoint resumes after apply although memory changed since ---
if [[ ! -r /dev/kvm || ! -w /dev/kvm || ! -r $guests/lifecycle.elf ]]; then
	echo "note: the running part is left out (no usable /dev/kvm or lifecycle.elf)"
else
	vm=lc
	dir=$OSIO_STORE_DIR/vms/$vm
	truncate -s 1M "$tmp/A.iso" "$tmp/B.iso"
	"$osio" create "$vm" --memory 64M --cpus 1 --disk 16M --switch none --dvd "$tmp/A.iso" \
		>/dev/null || exit 2
	vm_boot_kernel "$vm" "$guests/lifecycle.elf" "period=100" || exit 2
	expect_ok "start" -- "$osio" start "$vm"
	vm_wait_count "$vm" 3 && pass "the guest counts" || fail "the guest does not count"
	# Edited while it runs: for the next start, not the hardware R's state belongs to.
	set_key "$vm" memory 128M
	# A disc changed while it runs: the hardware's, so R's too.
	expect_ok "dvd insert B" -- "$osio" dvd "$vm" insert "$tmp/B.iso"
	expect_ok "create R while it runs" -- "$osio" checkpoint "$vm" create R
	idR=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
	check "R keeps the settings it runs with, not the edited vmconfig" \
		grep -q '^memory = 64M$' "$dir/checkpoints/$idR.vmconfig"
	check "the edit stays in the vmconfig" test "$(key "$vm" vm memory)" = 128M
	check "R's copy names the image R froze" grep -q "^file = $vm.vhdx$" \
		"$dir/checkpoints/$idR.vmconfig"
	check "R's copy names the disc in the drive" grep -q "^file = $tmp/B.iso$" \
		"$dir/checkpoints/$idR.vmconfig"
	# A second one: the worker's disk is the image R made, which only the vmconfig names.
	cur=$(key "$vm" disk file)
	expect_ok "create S while it runs" -- "$osio" checkpoint "$vm" create S
	idS=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
	check "S's copy names the image R made ($cur)" grep -q "^file = $cur$" \
		"$dir/checkpoints/$idS.vmconfig"
	check "S keeps the memory it runs with" \
		grep -q '^memory = 64M$' "$dir/checkpoints/$idS.vmconfig"
	expect_ok "stop" -- "$osio" stop "$vm"
	expect_ok "apply R" -- "$osio" checkpoint "$vm" apply R
	check "R's memory is back" test "$(key "$vm" vm memory)" = 64M
	[[ $(vm_state "$vm") == saved ]] && pass "after apply the VM is Saved" ||
		fail "after apply it is $(vm_state "$vm")"
	expect_ok "start after apply" -- "$osio" start "$vm"
	sleep 1
	vm_serial "$vm" 1 >"$tmp/serial"
	[[ $(vm_state "$vm") == running ]] && pass "the VM runs" ||
		fail "the VM is $(vm_state "$vm"): $(tail -3 "$dir/worker.log" 2>/dev/null)"
	! grep -q '^lifecycle: boot' "$tmp/serial" && grep -q '^count ' "$tmp/serial" &&
		pass "it resumed from R's state (no new boot)" ||
		fail "it did not resume: $(head -3 "$tmp/serial")"
	"$osio" stop "$vm" >/dev/null 2>&1
fi

echo "$passes passed, $failures failed"
((failures == 0))
