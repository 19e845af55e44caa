#!/bin/bash
# osio rename as users meet it: the folder, the vmconfig (its [vm] name, comments kept, the
# guest's UUID pinned) and the disks named after the VM take the new name, paths into the
# folder follow, checkpoints keep working, a saved state goes along; every refusal is one line
# and changes nothing; a failure midway (a read-only checkpoints folder, a folder that cannot
# be moved) is undone byte for byte; the checkpoints' copies of the settings follow as the
# vmconfig does.
# usage: rename.sh OSIO
# shellcheck disable=SC2016 # the conditions of checks are single-quoted: eval'd later
set -u
osio=$1
tmp=$(mktemp -d)
mounts=()
holders=()
cleanup() {
	local m
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
	((${#holders[@]})) && kill "${holders[@]}" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export OSIO_STORE_DIR=$tmp/store
export OSIO_RUNTIME_DIR=${OSIO_RUNTIME_DIR:-$tmp/run}
mkdir -p "$OSIO_RUNTIME_DIR" && chmod 700 "$OSIO_RUNTIME_DIR"
vms=$OSIO_STORE_DIR/vms
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

if ! "$osio" rename --help >/dev/null 2>&1; then
	echo "skip: this osio has no rename command yet (cli/main.c registers it)"
	exit 77
fi

checks() {
	check "$1" eval "$2"
}

# jqe FILTER: jq -e on the last command's output, quietly.
jqe() {
	jq -e "$1" "$tmp/out" >/dev/null
}

# key FILE SECTION KEY: the value of KEY in the section whose header is SECTION.
key() {
	awk -v sec="$2" -v k="$3" '
		/^\[/ { insec = ($0 == sec); next }
		insec && $1 == k && $2 == "=" {
			sub(/^[^=]*= */, ""); sub(/ *$/, ""); print; exit }' "$1"
}

# The store's folders and every file under them with its checksum: "nothing changed".
snapshot() {
	(cd "$vms" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 md5sum)
}

# A disk image's own view: osio disk info says its size (through its parents).
disk_ok() {
	"$osio" disk info "$1" >/dev/null 2>&1
}

# --- a VM without checkpoints ----------------------------------------------------------------

expect_ok "create web" -- "$osio" create web --disk 64M --switch none
"$osio" disk create "$vms/web/web-2.vhdx" --size 32M >/dev/null || fail "disk web-2.vhdx"
"$osio" disk create "$vms/web/other.vhdx" --size 32M >/dev/null || fail "disk other.vhdx"
echo "an ISO" >"$vms/web/media.iso"
echo "secret" >"$vms/web/vnc.pass"
cat >>"$vms/web/web.vmconfig" <<EOF

# the data disk, named after the VM
[disk "data"]
file = web-2.vhdx
bus = virtio

[disk "other"]
# not named after the VM: keeps its name
file = other.vhdx
bus = virtio

[dvd "media"]
file = $vms/web/media.iso

[display]
vnc_password_file = $vms/web/vnc.pass
EOF
cfg_before=$(cat "$vms/web/web.vmconfig")
expect_ok "rename web app" -- "$osio" rename web app
check "says so" grep -q "VM 'web' is now called 'app'" "$tmp/out"
cfg=$vms/app/app.vmconfig
checks "the folder moved, the vmconfig renamed" '[ -f "$cfg" ] && [ ! -e "$vms/web" ] &&
	[ ! -e "$vms/app/web.vmconfig" ]'
check "[vm] name = app" [ "$(key "$cfg" '[vm]' name)" = app ]
check "comments kept" grep -q '^# the data disk, named after the VM$' "$cfg"
check "the other lines as they were" \
	[ "$(diff <(echo "$cfg_before") "$cfg" | grep -c '^[<>]')" = 11 ]
check "the guest keeps its UUID" grep -Eq '^uuid = [0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-' "$cfg"
checks "app.vhdx and app-2.vhdx" '[ -f "$vms/app/app.vhdx" ] && [ -f "$vms/app/app-2.vhdx" ] &&
	[ ! -e "$vms/app/web.vhdx" ] && [ ! -e "$vms/app/web-2.vhdx" ]'
check "the disks' paths" [ "$(key "$cfg" '[disk "system"]' file) \
$(key "$cfg" '[disk "data"]' file) $(key "$cfg" '[disk "other"]' file)" = \
	"app.vhdx app-2.vhdx other.vhdx" ]
check "absolute paths into the folder follow it" [ "$(key "$cfg" '[dvd "media"]' file) \
$(key "$cfg" '[display]' vnc_password_file)" = "$vms/app/media.iso $vms/app/vnc.pass" ]
checks "the images still open" 'disk_ok "$vms/app/app.vhdx" && disk_ok "$vms/app/app-2.vhdx"'
expect_ok "list" -- "$osio" list --json
check "list: app, no web" jqe 'map(.name) == ["app"]'
uuid=$(key "$cfg" '[vm]' uuid)
expect_ok "rename back" -- "$osio" rename app web
check "the UUID stays as written" [ "$(key "$vms/web/web.vmconfig" '[vm]' uuid)" = "$uuid" ]
check "web.vhdx again" [ -f "$vms/web/web.vhdx" ]

# --- refusals: one line each, nothing changed ------------------------------------------------

expect_ok "create db" -- "$osio" create db --disk none --switch none
before=$(snapshot)
expect_error "no such VM" 1 "no VM called 'ghost'" -- "$osio" rename ghost x
expect_error "a bad new name" 1 "not a valid VM name" -- "$osio" rename web ../x
expect_error "a bad old name" 1 "not a valid VM name" -- "$osio" rename -- -x y
expect_error "the new name taken" 1 "VM 'db' exists already" -- "$osio" rename web db
expect_error "the same name" 1 "called that already" -- "$osio" rename web web
expect_error "one name" 2 "usage: osio rename OLD NEW" -- "$osio" rename web
expect_error "three names" 2 "too many" -- "$osio" rename web a b
expect_error "unknown option" 2 "unknown option '--force'" -- "$osio" rename --force web a
mkdir "$vms/stray"
expect_error "a folder without a vmconfig in the way" 1 "exists already" -- "$osio" rename web stray
rmdir "$vms/stray"
"$osio" disk create "$vms/web/new.vhdx" --size 1M >/dev/null
expect_error "a disk's new name taken" 1 "new.vhdx exists already.*move it away" -- \
	"$osio" rename web new
rm "$vms/web/new.vhdx"
expect_error "busy with another command" 1 "VM 'web' is busy: another osio command" \
	-- flock -n "$vms/web/.lock" -c "'$osio' rename web busy"
# A worker's claim held as the worker holds it: Starting.
boot_id=$(cat /proc/sys/kernel/random/boot_id)
bash -c 'exec 9<>"$1" && flock -n 9 && exec sleep 300' hold "$vms/web/.running" >/dev/null 2>&1 &
held=$!
holders+=("$held")
echo "$held $boot_id $(cut -d' ' -f1 /proc/uptime | cut -d. -f1)000000000" >"$vms/web/.running"
sleep 0.2
expect_error "a running VM" 1 "VM 'web' is Starting \(pid $held\).*osio stop web" -- \
	"$osio" rename web up
kill "$held"
wait "$held" 2>/dev/null
rm -f "$vms/web/.crashed" "$vms/web/.running" "$vms/web/worker.log"
check "nothing changed by the refusals" [ "$(snapshot)" = "$before" ]
cp "$vms/db/db.vmconfig" "$tmp/db.good"
echo "memroy = 1G" >>"$vms/db/db.vmconfig"
expect_error "a damaged vmconfig" 1 \
	"db.vmconfig:[0-9]+:1: error: unknown key 'memroy'.*fix the vmconfig" -- \
	"$osio" rename db db2
cp "$tmp/db.good" "$vms/db/db.vmconfig"

# --- Saved and Crashed VMs go too ------------------------------------------------------------

echo "not really a state" >"$vms/db/saved.vmstate"
expect_ok "rename a saved VM" -- "$osio" rename db db2
check "its saved state went along" [ -f "$vms/db2/saved.vmstate" ]
expect_ok "list" -- "$osio" list --json
check "db2 is Saved" jqe '.[] | select(.name == "db2") | .state == "saved"'
rm "$vms/db2/saved.vmstate"
echo "1 $boot_id 5 1700000000" >"$vms/db2/.crashed"
expect_ok "rename a crashed VM" -- "$osio" rename db2 db3
expect_ok "list" -- "$osio" list --json
check "db3 is Crashed" jqe '.[] | select(.name == "db3") | .state == "crashed"'

# --- checkpoints -----------------------------------------------------------------------------

expect_ok "create ck" -- "$osio" create ck --disk 64M --switch none
expect_ok "checkpoint" -- "$osio" checkpoint ck create first
expect_ok "rename ck ck2" -- "$osio" rename ck ck2
c2=$vms/ck2/ck2.vmconfig
check "a checkpoint's image keeps its name (a differencing image names it)" \
	[ -f "$vms/ck2/ck.vhdx" ]
check "the current image as it was" [ "$(key "$c2" '[disk "system"]' file)" = \
	"$(jq -r '.current[0].file' "$vms/ck2/checkpoints/checkpoints.json")" ]
checks "it opens through its parent" 'disk_ok "$vms/ck2/$(key "$c2" "[disk \"system\"]" file)"'
expect_ok "checkpoint list" -- "$osio" checkpoint ck2 list
check "the checkpoint is there" grep -q first "$tmp/out"
expect_ok "apply it" -- "$osio" checkpoint ck2 apply first
expect_ok "delete it (merges)" -- "$osio" checkpoint ck2 delete first
checks "merged into ck.vhdx, which opens" 'disk_ok "$vms/ck2/$(key "$c2" "[disk \"system\"]" file)"'

# A disk of Now's that checkpoints.json lists (the user's own, named after the VM): its
# record there follows it.
expect_ok "create tr" -- "$osio" create tr --disk 64M --switch none
expect_ok "checkpoint tr" -- "$osio" checkpoint tr create one
"$osio" disk create "$vms/tr/tr-2.vhdx" --size 16M >/dev/null || fail "disk tr-2.vhdx"
printf '\n[disk "extra"]\nfile = tr-2.vhdx\nbus = virtio\n' >>"$vms/tr/tr.vmconfig"
j=$vms/tr/checkpoints/checkpoints.json
jq '.current += [{"disk": "extra", "file": "tr-2.vhdx", "owned": false}]' "$j" >"$tmp/j" &&
	cp "$tmp/j" "$j"
expect_ok "checkpoint list reads the tree" -- "$osio" checkpoint tr list
# The checkpoint's copy of the settings has a path that follows the folder: undone too.
tr_copy=$(ls "$vms"/tr/checkpoints/*.vmconfig)
echo "an ISO" >"$vms/tr/tr.iso"
printf '\n[dvd "cd"]\nfile = %s\n' "$vms/tr/tr.iso" >>"$tr_copy"

# A checkpoint's copy of the settings follows too: a read-only disk named after the VM (moved)
# and a DVD named by its absolute path into the folder; applied after the rename, the VM's
# settings name files that are there.
expect_ok "create cs" -- "$osio" create cs --disk 64M --switch none
"$osio" disk create "$vms/cs/cs-2.vhdx" --size 16M >/dev/null || fail "disk cs-2.vhdx"
echo "an ISO" >"$vms/cs/cs.iso"
printf '\n[disk "ro"]\nfile = cs-2.vhdx\nbus = virtio\nreadonly = yes\n\n[dvd "cd"]\nfile = %s\n' \
	"$vms/cs/cs.iso" >>"$vms/cs/cs.vmconfig"
expect_ok "checkpoint cs" -- "$osio" checkpoint cs create kept
id=$(sed -E 's/.*\(([0-9a-f]{8})\).*/\1/' "$tmp/out")
copy=$vms/cs2/checkpoints/$id.vmconfig
echo "# the user's note" >>"$vms/cs/checkpoints/$id.vmconfig"
expect_ok "rename cs cs2" -- "$osio" rename cs cs2
check "the copy names the moved read-only disk" [ "$(key "$copy" '[disk "ro"]' file)" = cs2-2.vhdx ]
check "the copy's DVD path follows the folder" \
	[ "$(key "$copy" '[dvd "cd"]' file)" = "$vms/cs2/cs.iso" ]
check "the copy's comment is kept" grep -q "^# the user's note$" "$copy"
expect_ok "apply after the rename" -- "$osio" checkpoint cs2 apply kept
# shellcheck disable=SC2034 # read by the checks' eval
c=$vms/cs2/cs2.vmconfig
checks "the applied settings name files that are there" '[ -f "$vms/cs2/$(key "$c" \
	"[disk \"ro\"]" file)" ] && [ -f "$(key "$c" "[dvd \"cd\"]" file)" ]'
checks "osio disk info opens the read-only disk and the system disk" \
	'disk_ok "$vms/cs2/$(key "$c" "[disk \"ro\"]" file)" &&
	disk_ok "$vms/cs2/$(key "$c" "[disk \"system\"]" file)"'
expect_ok "rename cs2 cs3 (the copy moves again)" -- "$osio" rename cs2 cs3
check "the copy again" [ "$(key "$vms/cs3/checkpoints/$id.vmconfig" '[disk "ro"]' file) \
$(key "$vms/cs3/checkpoints/$id.vmconfig" '[dvd "cd"]' file)" = "cs3-2.vhdx $vms/cs3/cs.iso" ]

# --- a failure midway is undone (needs root for the mounts) ----------------------------------

if mount --bind "$vms/tr/checkpoints" "$vms/tr/checkpoints" 2>/dev/null &&
	mounts+=("$vms/tr/checkpoints") &&
	mount -o remount,ro,bind "$vms/tr/checkpoints" 2>/dev/null; then
	before=$(snapshot)
	expect_error "checkpoints.json cannot be written" 1 "checkpoints.json" -- \
		"$osio" rename tr tr9
	check "all undone: the disks, the vmconfig, the folder" [ "$(snapshot)" = "$before" ]
	umount "$vms/tr/checkpoints"
	# The folder itself a mount point: it cannot move, at the very last step.
	mount --bind "$vms/tr" "$vms/tr" && mounts+=("$vms/tr")
	expect_error "the folder cannot be moved" 1 "cannot rename the VM's folder" -- \
		"$osio" rename tr tr9
	check "all undone again" [ "$(snapshot)" = "$before" ]
	umount "$vms/tr"
else
	echo "skip: failures midway (bind mounts need root)"
fi
expect_ok "rename tr tr9" -- "$osio" rename tr tr9
check "tr-2.vhdx became tr9-2.vhdx, in the vmconfig" \
	[ "$(key "$vms/tr9/tr9.vmconfig" '[disk "extra"]' file)" = tr9-2.vhdx ]
check "and in checkpoints.json" [ "$(jq -r '.current[1].file' \
	"$vms/tr9/checkpoints/checkpoints.json")" = tr9-2.vhdx ]
check "and in the checkpoint's copy of the settings" [ "$(key \
	"$vms/tr9/checkpoints/${tr_copy##*/}" '[dvd "cd"]' file)" = "$vms/tr9/tr.iso" ]
checks "the frozen tr.vhdx stays" '[ -f "$vms/tr9/tr.vhdx" ] && [ -f "$vms/tr9/tr9-2.vhdx" ]'
expect_ok "checkpoint list after" -- "$osio" checkpoint tr9 list
expect_ok "apply after" -- "$osio" checkpoint tr9 apply one

echo "$passes passed, $failures failed"
((failures == 0))
