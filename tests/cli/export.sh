#!/bin/bash
# osio export and osio import carry the whole VM: a Saved VM (the lifecycle guest counts on COM1
# and writes each count to its IDE disk) with two checkpoints, one made while it ran and one of
# the Saved VM, is exported and imported under another name with the original gone: the import
# lists the same checkpoint tree, resumes its saved count without a new boot, every copied
# image is clean and chained to copies only, and applying each checkpoint brings back the disk
# it froze. An import without --copy, and an export or import that runs out of space, leave
# nothing behind.
# Usage: export.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
tmp=$(mktemp -d /tmp/osio-export.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
[[ -r $guests/lifecycle.elf ]] || { echo "SKIP: $guests/lifecycle.elf is not built"; exit 77; }
for t in qemu-img jq; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (qemu-utils, jq)"; exit 77; }
done
vm_env "$tmp" || exit 2
small=$tmp/small
trap 'vm_kill_all; mountpoint -q "$small" && umount "$small"; rm -rf "$tmp"' EXIT

vms=$OSIO_STORE_DIR/vms
vm=ex dir=$vms/ex

check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi
}

# disk_count FILE: the count the guest last wrote into the image FILE (read through its parents).
disk_count() {
	rm -f "$tmp/disk.raw"
	"$osio" disk convert -f raw "$1" "$tmp/disk.raw" >/dev/null 2>&1 || return 1
	head -c 64 "$tmp/disk.raw" | tr -d '\0' | sed -n 's/^OSIO-LIFECYCLE count=\([0-9]*\).*/\1/p'
}

# system_disk VMDIR NAME: the image the VM's system disk uses now.
system_disk() {
	echo "$1/$(sed -n '/^\[disk "system"\]/,/^\[/s/^file = //p' "$1/$2.vmconfig")"
}

# frozen VMDIR LABEL DISK: the image checkpoint LABEL froze for DISK.
frozen() {
	local f
	f=$(jq -r --arg l "$2" --arg d "$3" \
		'.checkpoints[] | select(.label == $l) | .disks[] | select(.disk == $d) | .file' \
		"$1/checkpoints/checkpoints.json")
	[[ $f == /* ]] && echo "$f" || echo "$1/$f"
}

# images_clean DIR: every image in DIR passes qemu-img check (qcow2) or osio disk check.
images_clean() {
	local f bad=0
	for f in "$1"/*.qcow2 "$1"/*.vhdx "$1"/*.avhdx; do
		[[ -e $f ]] || continue
		case $f in
		*.qcow2) qemu-img check -q "$f" || { echo "$f"; bad=1; } ;;
		*) "$osio" disk check "$f" >/dev/null 2>&1 || { echo "$f"; bad=1; } ;;
		esac
	done
	return $bad
}

# chained_within DIR: every image in DIR reads its parents from DIR alone (qemu-img for qcow2,
# osio disk info for VHDX, which qemu-img cannot open as a differencing disk).
chained_within() {
	local f
	for f in "$1"/*.qcow2; do
		[[ -e $f ]] || continue
		qemu-img info -U --backing-chain --output=json "$f" |
			jq -r '.[].filename' | grep -v "^$1/[^/]*$" && return 1
	done
	for f in "$1"/*.vhdx "$1"/*.avhdx; do
		[[ -e $f ]] || continue
		"$osio" disk info --json "$f" | jq -r '.filename, .parents[]?.filename' |
			grep -v "^$1/[^/]*$" && return 1
	done
	return 0
}

# --- a Saved VM with two checkpoints --------------------------------------------------------
"$osio" create "$vm" --memory 64M --cpus 1 --disk 16M --switch none >/dev/null || exit 2
vm_boot_kernel "$vm" "$guests/lifecycle.elf" "period=100" || exit 2
qemu-img create -q -f qcow2 "$dir/data.qcow2" 16M
printf '\n[disk "data"]\nfile = data.qcow2\nbus = virtio\n' >>"$dir/$vm.vmconfig"

expect_ok "start" -- "$osio" start "$vm" || exit 1
vm_wait_count "$vm" 5 || { fail "the guest does not count"; exit 1; }
expect_ok "checkpoint R while it runs" -- "$osio" checkpoint "$vm" create R || exit 1
idR=$(jq -r '.checkpoints[] | select(.label == "R") | .id' "$dir/checkpoints/checkpoints.json")
# R's vmconfig (osio checkpoint keeps one; made here if not) names its system disk by an absolute
# path, and checkpoints/ holds a file export does not know.
[[ -f $dir/checkpoints/$idR.vmconfig ]] || cp "$dir/$vm.vmconfig" "$dir/checkpoints/$idR.vmconfig"
sed -i "s|^file = $vm.vhdx$|file = $dir/$vm.vhdx|" "$dir/checkpoints/$idR.vmconfig"
echo "kept as it is" >"$dir/checkpoints/notes.txt"
vm_wait_count "$vm" $(($(vm_last_count "$vm") + 5)) || fail "the guest stopped counting"
expect_ok "pause" -- "$osio" pause "$vm"
vm_serial "$vm" 1 >"$tmp/pre"
expect_ok "save" -- "$osio" save "$vm" || exit 1
expect_ok "checkpoint S of the Saved VM" -- "$osio" checkpoint "$vm" create S || exit 1
[[ $(vm_state "$vm") == saved ]] || fail "the VM is $(vm_state "$vm"), not saved"
countR=$(disk_count "$(frozen "$dir" R system)")
countS=$(disk_count "$(frozen "$dir" S system)")
[[ -n $countR && -n $countS ]] && ((countR >= 5 && countS > countR)) &&
	pass "R froze count $countR, S count $countS" || fail "R froze '$countR', S '$countS'"
"$osio" checkpoint "$vm" list >"$tmp/list.orig" 2>&1

# --- export ---------------------------------------------------------------------------------
mkdir -p "$tmp/x"
expect_ok "export the Saved VM" -- "$osio" export "$vm" "$tmp/x" || exit 1
exp=$tmp/x/$vm
check "export says it took the checkpoints and the state" \
	grep -q "with its 2 checkpoints and its saved state" "$tmp/out"
check "export: saved.vmstate" cmp "$dir/saved.vmstate" "$exp/saved.vmstate"
ids=$(jq -r '.checkpoints[].id' "$dir/checkpoints/checkpoints.json")
n=0
for id in $ids; do
	cmp -s "$dir/checkpoints/$id.vmstate" "$exp/checkpoints/$id.vmstate" && n=$((n + 1))
done
((n == 2)) && pass "export: both checkpoints' states" || fail "export: $n checkpoint states"
check "export: the tree names only files in the export" \
	test -z "$(jq -r '.checkpoints[].disks[].file, .current[].file' \
		"$exp/checkpoints/checkpoints.json" | grep /)"
for f in $(jq -r '.checkpoints[].disks[].file' "$exp/checkpoints/checkpoints.json"); do
	[[ -f $exp/$f ]] || fail "export: $f is missing"
done
check "export: unknown files in checkpoints/ as they are" \
	cmp "$dir/checkpoints/notes.txt" "$exp/checkpoints/notes.txt"
bad=
for f in "$exp"/checkpoints/*.vmconfig; do
	[[ -e $f ]] || { bad="no checkpoint vmconfig"; break; }
	for d in $(sed -n 's/^file = //p' "$f"); do
		[[ $d != */* && -f $exp/$d ]] || bad+=" $(basename "$f"): $d"
	done
done
[[ -z $bad ]] && pass "export: the checkpoints' vmconfigs name the copies" ||
	fail "export: the checkpoints' vmconfigs name$bad"
grep -q "^file = $vm.vhdx$" "$exp/checkpoints/$idR.vmconfig" &&
	pass "export: an absolute path into the VM's folder became relative" ||
	fail "export: R's vmconfig: $(grep '^file' "$exp/checkpoints/$idR.vmconfig")"
check "export: every image is clean" images_clean "$exp"
if out=$(chained_within "$exp"); then
	pass "export: the copies are chained among themselves"
else
	fail "export: an image reads $out"
fi

# --- import under another name, the original gone ----------------------------------------
before=$(ls "$vms")
expect_error "import without --copy" 1 "has checkpoints.*import it with --copy" -- \
	"$osio" import "$exp/$vm.vmconfig" --name ex2
check "nothing left behind by the refused import" test "$(ls "$vms")" == "$before"
expect_ok "import --copy" -- "$osio" import "$exp/$vm.vmconfig" --name ex2 --copy || exit 1
check "import says it is Saved with 2 checkpoints" \
	grep -q "Its 2 checkpoints came with it" "$tmp/out"
mv "$dir" "$tmp/ex.away"
rm -rf "$exp"
d2=$vms/ex2
check "import: the VM is Saved" test "$(vm_state ex2)" == saved
"$osio" checkpoint ex2 list >"$tmp/list.new" 2>&1
if diff "$tmp/list.orig" "$tmp/list.new" >"$tmp/diff"; then
	pass "import: the same checkpoint tree"
else
	fail "import: the tree differs: $(cat "$tmp/diff")"
fi
check "import: every image is clean" images_clean "$d2"
if out=$(chained_within "$d2"); then
	pass "import: the copies are chained among themselves"
else
	fail "import: an image reads $out"
fi

# --- the import resumes, and each checkpoint applies --------------------------------------
expect_ok "start the import" -- "$osio" start ex2
sleep 1
vm_serial ex2 2 >"$tmp/post"
if out=$(vm_counts_go_on "$tmp/pre" "$tmp/post"); then
	pass "the import resumed the saved count ($out)"
else
	fail "the import did not resume: $out"
fi
"$osio" stop ex2 >/dev/null 2>&1
for c in R S; do
	want=$([[ $c == R ]] && echo "$countR" || echo "$countS")
	expect_ok "apply $c on the import" -- "$osio" checkpoint ex2 apply "$c"
	got=$(disk_count "$(system_disk "$d2" ex2)")
	[[ $got == "$want" ]] && pass "after apply $c the disk holds count $want" ||
		fail "after apply $c the disk holds count '$got', expected $want"
done

# --- a checkpoint of a disk outside the VM's folder: the base is copied in, the child reconnected
"$osio" create out --memory 64M --disk 16M --switch none >/dev/null || fail "create out"
mkdir -p "$tmp/ext" "$tmp/x3"
mv "$vms/out/out.vhdx" "$tmp/ext/out.vhdx"
sed -i "s|^file = out.vhdx$|file = $tmp/ext/out.vhdx|" "$vms/out/out.vmconfig"
expect_ok "checkpoint of a disk outside the folder" -- "$osio" checkpoint out create C
expect_ok "its export copies the base in" -- "$osio" export out "$tmp/x3"
check "the base disk is in the export" test -f "$tmp/x3/out/out.vhdx"
child=$(grep '^file = ' "$tmp/x3/out/out.vmconfig" | head -1 | sed 's/^file = //')
parent=$("$osio" disk info --json "$tmp/x3/out/$child" 2>/dev/null | jq -r .parent)
[[ $parent == out.vhdx ]] && pass "the exported child names the copied base ($child -> out.vhdx)" ||
	fail "the exported child $child names '$parent' as its parent"
mv "$tmp/ext/out.vhdx" "$tmp/ext/out.vhdx.away"
expect_ok "the export opens without the outside base" -- \
	"$osio" disk info "$tmp/x3/out/$child"
mv "$tmp/ext/out.vhdx.away" "$tmp/ext/out.vhdx"
expect_ok "the original still opens" -- "$osio" disk info "$tmp/ext/out.vhdx"

# --- a disk outside the folder with a name the export already has: renamed into it ---------
"$osio" create two --memory 64M --disk 16M --switch none >/dev/null || fail "create two"
mkdir -p "$tmp/ext2" "$tmp/x4"
"$osio" disk create "$tmp/ext2/two.vhdx" --size 8M >/dev/null || fail "disk create"
printf '\n[disk "other"]\nfile = %s\n' "$tmp/ext2/two.vhdx" >>"$vms/two/two.vmconfig"
expect_ok "export of two disks called two.vhdx" -- "$osio" export two "$tmp/x4"
[[ $(grep -c '^file = two\(-2\)\?\.vhdx$' "$tmp/x4/two/two.vmconfig") == 2 &&
	-f $tmp/x4/two/two.vhdx && -f $tmp/x4/two/two-2.vhdx ]] &&
	pass "the outside disk became two-2.vhdx" ||
	fail "export of two: $(grep '^file' "$tmp/x4/two/two.vmconfig"; ls "$tmp/x4/two")"

# --- no space: one line, nothing left ------------------------------------------------------
mkdir -p "$small"
if mount -t tmpfs -o size=6m tmpfs "$small" 2>/dev/null; then
	expect_error "export without space" 1 "$small/ex2/.*No space left on device" -- \
		"$osio" export ex2 "$small"
	check "nothing left in the full folder" test -z "$(ls -A "$small")"
	mkdir -p "$tmp/x2" "$small/store"
	"$osio" export ex2 "$tmp/x2" >/dev/null 2>&1 || fail "export of the import"
	OSIO_STORE_DIR=$small/store expect_error "import without space" 1 "No space left on device" \
		-- "$osio" import "$tmp/x2/ex2/ex2.vmconfig" --copy
	check "nothing left in the full store" test -z "$(ls -A "$small/store/vms" 2>/dev/null)"
	umount "$small"
else
	echo "note: cannot mount a small tmpfs (not root?): no-space checks left out"
fi

echo "$passes passed, $failures failed"
((failures == 0))
