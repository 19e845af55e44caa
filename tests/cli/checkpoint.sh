#!/bin/bash
# osio checkpoint on VMs that are off, as users meet it: create A, change the disk, create B,
# change it, list shows the tree, apply A gives A's disk back, apply B gives B's, delete A and B
# merge everything into one image with B's content. Disks are written with qemu-io and read
# back with qemu-img convert -O raw + cmp; qemu-img check (qcow2) and osio disk check (VHDX,
# whose differencing images QEMU cannot open) are clean throughout. Then the mistakes: unknown
# checkpoint, bad label, busy VM, damaged tree file - one line each.
# usage: checkpoint.sh OSIO
set -u
osio=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OSIO_STORE_DIR=$tmp/store
export OSIO_RUNTIME_DIR=${OSIO_RUNTIME_DIR:-$tmp/run}
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in qemu-io qemu-img jq flock; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed (apt-get install qemu-utils jq util-linux)"
		exit 77
	fi
done

vm=ck
dir=$OSIO_STORE_DIR/vms/$vm

# The image the VM's disk 'system' uses now.
current() {
	local f
	f=$(sed -n '/^\[disk "system"\]/,/^\[/s/^file = //p' "$dir/$vm.vmconfig")
	echo "$dir/$f"
}

# snapshot NAME: the disk as the guest sees it, as raw bytes in $tmp/NAME.raw.
snapshot() {
	rm -f "$tmp/$1.raw"
	qemu-img convert -O raw "$(current)" "$tmp/$1.raw"
}

# same NAME WANT: the disk reads exactly as snapshot WANT did.
same() {
	snapshot now
	if cmp -s "$tmp/now.raw" "$tmp/$2.raw"; then
		pass "$1"
	else
		fail "$1: the disk differs from $2"
	fi
}

# clean NAME: every image in the VM's folder passes its checker.
clean() {
	local f bad=0
	for f in "$dir"/*.qcow2 "$dir"/*.vhdx "$dir"/*.avhdx; do
		[ -e "$f" ] || continue
		case $f in
		*.qcow2) qemu-img check -q "$f" >"$tmp/check" 2>&1 || bad=1 ;;
		*) "$osio" disk check "$f" >"$tmp/check" 2>&1 || bad=1 ;;
		esac
		if ((bad)); then
			fail "$1: $f is not clean: $(head -3 "$tmp/check")"
			return
		fi
	done
	pass "$1"
}

# jqt FILTER FILE...: jq -e, quietly.
jqt() {
	jq -e "$@" >/dev/null
}

write() { # write PATTERN OFFSET LENGTH into the current image
	qemu-io -f qcow2 -c "write -q -P $1 $2 $3" "$(current)" >/dev/null
}

# --- a VM whose disk is qcow2, so that QEMU reads every image of the chain ---
expect_ok "create the VM" -- "$osio" create "$vm" --memory 64M --disk none
qemu-img create -q -f qcow2 "$dir/$vm.qcow2" 64M
printf '\n# the system disk (a comment osio must keep)\n[disk "system"]\n%s\n' \
	"file = $vm.qcow2"$'\n'"format = qcow2" >>"$dir/$vm.vmconfig"
write 0x11 0 1M
snapshot base

expect_ok "list without checkpoints" -- "$osio" checkpoint "$vm" list
check "list says there are none" grep -q 'no checkpoints' "$tmp/out"

expect_ok "create A" -- "$osio" checkpoint "$vm" create A
check "create names A" grep -q "Created checkpoint 'A'" "$tmp/out"
check "the disk went on a differencing image" test "$(current)" != "$dir/$vm.qcow2"
check "the vmconfig kept its comment" grep -q 'a comment osio must keep' "$dir/$vm.vmconfig"
check "the new image's parent is the old one" \
	sh -c "qemu-img info --output=json '$(current)' |
		jq -e '.\"backing-filename\" == \"$vm.qcow2\"' >/dev/null"
same "A reads as before it" base
write 0x22 512K 1M
write 0x23 20M 64K
snapshot A_after
clean "images clean after writing past A"

expect_ok "create B" -- "$osio" checkpoint "$vm" create B
write 0x33 3M 1M
write 0x34 512K 4K
snapshot B_after
clean "images clean after writing past B"

expect_ok "list" -- "$osio" checkpoint "$vm" list
check "list shows A at the root" grep -Eq '^[0-9a-f]{8}  .{19}  A$' "$tmp/out"
check "list shows B under A" grep -Eq '^[0-9a-f]{8}  .{19}    B$' "$tmp/out"
check "list shows Now under B" grep -Eq '^ {35}> Now$' "$tmp/out"
expect_ok "list --json" -- "$osio" checkpoint "$vm" list --json
idA=$(jq -r '.checkpoints[] | select(.label == "A") | .id' "$tmp/out")
idB=$(jq -r '.checkpoints[] | select(.label == "B") | .id' "$tmp/out")
check "--json: B's parent is A, Now hangs under B" \
	jqt --arg a "$idA" --arg b "$idB" \
	'(.checkpoints[] | select(.id == $b) | .parent) == $a and .now == $b' "$tmp/out"

# The default label is Hyper-V's: "NAME - YYYY-MM-DD HH:MM:SS".
expect_ok "create with the default label" -- "$osio" checkpoint "$vm" create
check "the default label" \
	grep -Eq "Created checkpoint '$vm - [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}' \(([0-9a-f]{8})\)" \
	"$tmp/out"
idC=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
expect_ok "delete the default-labelled one" -- "$osio" checkpoint "$vm" delete "$idC"
check "its images merged away" test "$(find "$dir" -maxdepth 1 -name '*.qcow2' | wc -l)" -eq 3
same "deleting the newest checkpoint keeps the disk" B_after

expect_ok "apply A" -- "$osio" checkpoint "$vm" apply A
check "apply says what it discarded" grep -q 'discarded' "$tmp/out"
same "after apply A the disk reads as at A" base
clean "images clean after apply A"
write 0x44 8M 64K
expect_ok "apply B by its id" -- "$osio" checkpoint "$vm" apply "$idB"
same "after apply B the disk reads as at B" A_after
clean "images clean after apply B"
expect_ok "list after the applies" -- "$osio" checkpoint "$vm" list
check "Now hangs under B again" grep -Eq '^ {35}> Now$' "$tmp/out"

expect_ok "delete A" -- "$osio" checkpoint "$vm" delete A
same "delete A keeps the disk" A_after
expect_ok "list after delete A" -- "$osio" checkpoint "$vm" list
check "A is gone from the list" sh -c "! grep -q '  A\$' '$tmp/out'"
expect_ok "delete B" -- "$osio" checkpoint "$vm" delete B
check "one image is left" test "$(find "$dir" -maxdepth 1 -name '*.qcow2' | wc -l)" -eq 1
check "the vmconfig points at the original image" test "$(current)" = "$dir/$vm.qcow2"
same "the single image has B's content" A_after
clean "the single image is clean"
expect_ok "list after deleting all" -- "$osio" checkpoint "$vm" list --json
check "no checkpoints are left" jqt '.checkpoints == [] and .now == null' "$tmp/out"

# --- the default VHDX disk: .avhdx images, merges read back with osio disk convert ---
vm2=ckx
expect_ok "create a VHDX VM" -- "$osio" create "$vm2" --memory 64M --disk 32M
dir2=$OSIO_STORE_DIR/vms/$vm2
qemu-io -f vhdx -c 'write -q -P 0x55 1M 2M' "$dir2/$vm2.vhdx" >/dev/null
"$osio" disk convert -f raw "$dir2/$vm2.vhdx" "$tmp/x0.raw" >/dev/null
expect_ok "VHDX: create" -- "$osio" checkpoint "$vm2" create X
avhdx=$(find "$dir2" -maxdepth 1 -name '*.avhdx')
check "VHDX: the differencing image is an .avhdx" test -n "$avhdx"
check "VHDX: it is a differencing VHDX" sh -c "'$osio' disk info '$avhdx' | grep -q differencing"
expect_ok "VHDX: apply" -- "$osio" checkpoint "$vm2" apply X
expect_ok "VHDX: delete" -- "$osio" checkpoint "$vm2" delete X
check "VHDX: only the original image is left" \
	test "$(find "$dir2" -maxdepth 1 -name '*vhdx' | wc -l)" -eq 1
"$osio" disk convert -f raw "$dir2/$vm2.vhdx" "$tmp/x1.raw" >/dev/null
check "VHDX: the content survived" cmp -s "$tmp/x0.raw" "$tmp/x1.raw"
clean2() { dir=$dir2 clean "$@"; }
clean2 "VHDX: clean"

# --- mistakes ---
expect_ok "create A again" -- "$osio" checkpoint "$vm" create A
expect_error "unknown checkpoint" 1 "no checkpoint 'nope'" -- "$osio" checkpoint "$vm" apply nope
expect_error "unknown checkpoint to delete" 1 "no checkpoint 'deadbeef'" -- \
	"$osio" checkpoint "$vm" delete deadbeef
expect_error "label with a newline" 1 "control characters" -- \
	"$osio" checkpoint "$vm" create "$(printf 'a\nb')"
expect_error "label like an id" 1 "looks like a checkpoint id" -- \
	"$osio" checkpoint "$vm" create 0badcafe
expect_error "label too long" 1 "1 to 100 characters" -- \
	"$osio" checkpoint "$vm" create "$(printf 'x%.0s' $(seq 101))"
expect_error "blank label" 1 "blank" -- "$osio" checkpoint "$vm" create "   "
expect_ok "a second A" -- "$osio" checkpoint "$vm" create A
expect_error "ambiguous label" 1 "2 checkpoints are labelled 'A'" -- \
	"$osio" checkpoint "$vm" apply A
expect_error "unknown VM" 1 "no VM 'ghost'" -- "$osio" checkpoint ghost list
expect_error "bad VM name" 1 "" -- "$osio" checkpoint ../x list
expect_error "unknown command" 2 "unknown checkpoint command 'frobnicate'" -- \
	"$osio" checkpoint "$vm" frobnicate
expect_error "apply without a checkpoint" 2 "usage: osio checkpoint NAME apply" -- \
	"$osio" checkpoint "$vm" apply

(
	exec 9>>"$dir/.lock"
	flock -n 9 && exec sleep 30
) &
holder=$!
sleep 0.5
expect_error "busy VM" 1 "is busy" -- "$osio" checkpoint "$vm" create busy
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

cp "$dir/checkpoints/checkpoints.json" "$tmp/tree.json"
printf '{"version": 1, "checkpoints": [' >"$dir/checkpoints/checkpoints.json"
expect_error "damaged tree file" 1 "checkpoints.json: damaged checkpoint list" -- \
	"$osio" checkpoint "$vm" list
jq '.checkpoints[0].parent = "0000beef"' "$tmp/tree.json" >"$dir/checkpoints/checkpoints.json"
expect_error "a parent that does not exist" 1 "parent 0000beef, which is not in the list" -- \
	"$osio" checkpoint "$vm" apply A
cp "$tmp/tree.json" "$dir/checkpoints/checkpoints.json"
expect_ok "the restored file works" -- "$osio" checkpoint "$vm" list

echo "$passes passed, $failures failed"
((failures == 0))
