#!/bin/bash
# ctest cli/dvd-change: DVD changes on a running VM as its guest sees them. A VM made by osio
# create (no disk, no network, an IDE DVD drive with ISO A) runs dvdread.elf, which polls the
# drive over ATAPI and prints a line on COM1 each time what it reads changes. The guest reports
# A's volume label and size; osio dvd insert B: "medium changed" and B's label and size; eject:
# empty; a file that is not there or a folder: one clear line, and the guest sees what it saw;
# a file that is no ISO: a disc without a volume; A again, and A over A. As root also a VM whose
# worker drops to a temporary user gets ISO C that lies in a root-only folder (0700) and is mode
# 0600: osio dvd insert C opens it as the caller and passes it, and the guest reads C's label
# (skipped without root).
# Usage: dvd-change.sh OSIO GUEST_DIR
set -u
osio=$(realpath "$1") guests=$(realpath "$2")
tmp=$(mktemp -d /tmp/osio-dvd-change.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
[[ -r $guests/dvdread.elf ]] || { echo "SKIP: $guests/dvdread.elf is not built"; exit 77; }
command -v xorriso >/dev/null ||
	{ echo "SKIP: xorriso not found: install the Debian package xorriso"; exit 77; }
vm_env "$tmp"
# Others may enter (a worker that drops to another user reaches its VM folder through it).
chmod 755 "$tmp"
unset OSIO_SANDBOX OSIO_SECCOMP
user=''
cleanup() {
	vm_kill_all
	[[ -n $user ]] && userdel "$user" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# mkiso NAME LABEL KIB: $tmp/NAME.iso, volume LABEL, holding a file of KIB KiB; prints the
# guest's line for it (its size in 2048-byte blocks).
mkiso() {
	mkdir -p "$tmp/src-$1" && truncate -s "$3K" "$tmp/src-$1/data.bin" &&
		xorriso -as mkisofs -quiet -V "$2" -o "$tmp/$1.iso" "$tmp/src-$1" 2>"$tmp/xorriso.log" ||
		{ echo "xorriso failed: $(cat "$tmp/xorriso.log")" >&2; return 1; }
	echo "dvd: \"$2\" 2048-byte blocks $(($(stat -c %s "$tmp/$1.iso") / 2048))"
}
line_a=$(mkiso A OSIO_DVD_A 64) && line_b=$(mkiso B "Second disc B" 900) ||
	{ fail "cannot make the ISO images"; exit 1; }
[[ $line_a != "${line_b/Second disc B/OSIO_DVD_A}" ]] || { fail "A and B have one size"; exit 1; }

# guest_lines VM: what the guest printed so far about the drive (and any failure).
guest_lines() {
	vm_serial "$1" 1 | grep -E '^(dvd: |FAIL|RESULT)'
}

# expect_lines NAME VM BEFORE EXPECTED...: the guest's lines after the first BEFORE of them are
# EXPECTED, one by one, within 60 s (the serial console shows the recent output first).
expect_lines() {
	local name=$1 vm=$2 before=$3 want got i
	shift 3
	want=$(printf '%s\n' "$@")
	for ((i = 0; i < 30; i++)); do
		got=$(guest_lines "$vm" | tail -n +$((before + 1)))
		[[ $got == "$want" ]] && { pass "$name: $(paste -sd '|' <<<"$got")"; return 0; }
		# More lines than expected, or other ones: no point in waiting.
		(($(wc -l <<<"$got") >= $#)) && [[ -n $got ]] && break
		sleep 1
	done
	fail "$name: the guest printed [$(paste -sd '|' <<<"$got")]," \
		"expected [$(paste -sd '|' <<<"$want")]"
	return 1
}

# unchanged NAME VM BEFORE: a second and a half (seven looks of the guest) later it has printed
# nothing new.
unchanged() {
	local got
	sleep 1.5
	got=$(guest_lines "$2" | tail -n +$(($3 + 1)))
	[[ -z $got ]] && pass "$1: the guest's drive did not change" ||
		fail "$1: the guest printed [$(paste -sd '|' <<<"$got")]"
}

count() { guest_lines "$1" | wc -l; }

vm=dvd
log=$OSIO_STORE_DIR/vms/$vm/worker.log
cfg=$OSIO_STORE_DIR/vms/$vm/$vm.vmconfig
expect_ok "create with ISO A in its DVD drive" -- "$osio" create $vm --memory 64M --cpus 1 \
	--disk none --switch none --dvd "$tmp/A.iso"
vm_boot_kernel $vm "$guests/dvdread.elf" "period=200" || exit 1
expect_ok "start" -- "$osio" start $vm
drive_line="dvd: ATAPI drive at secondary master"
expect_lines "the guest finds the drive at 1:0 and reads A" $vm 0 "$drive_line" "$line_a"

n=$(count $vm)
expect_ok "dvd insert B" -- "$osio" dvd $vm insert "$tmp/B.iso"
expect_lines "the guest sees the change to B" $vm "$n" "dvd: medium changed" "$line_b"
grep -q "^file = $tmp/B.iso\$" "$cfg" && pass "the vmconfig has B" ||
	fail "the vmconfig has $(grep -A3 '^\[dvd' "$cfg")"

# Mistakes: one line naming the file, and the guest goes on reading B.
n=$(count $vm)
expect_error "dvd insert of a missing file" 1 "$tmp/nope.iso: [Nn]o such file" -- \
	"$osio" dvd $vm insert "$tmp/nope.iso"
mkdir "$tmp/folder.iso"
expect_error "dvd insert of a folder" 1 "$tmp/folder.iso: .*([Ff]older|[Dd]irectory)" -- \
	"$osio" dvd $vm insert "$tmp/folder.iso"
: >"$tmp/empty.iso"
expect_error "dvd insert of an empty file" 1 "$tmp/empty.iso: not a usable disc image .*give an ISO" \
	-- "$osio" dvd $vm insert "$tmp/empty.iso"
unchanged "after the refused inserts" $vm "$n"
grep -q "^file = $tmp/B.iso\$" "$cfg" && pass "the vmconfig still has B" ||
	fail "after the refused inserts the vmconfig has $(grep -A3 '^\[dvd' "$cfg")"

n=$(count $vm)
expect_ok "dvd eject" -- "$osio" dvd $vm eject
expect_lines "the guest sees an empty drive" $vm "$n" "dvd: empty"
n=$(count $vm)
expect_error "dvd insert of a missing file into the empty drive" 1 "nope.iso: [Nn]o such file" -- \
	"$osio" dvd $vm insert "$tmp/nope.iso"
unchanged "the drive stays empty" $vm "$n"

# A file that holds no ISO 9660 volume is a disc all the same (5000 bytes: two whole blocks).
head -c 5000 /dev/urandom >"$tmp/noiso.bin"
n=$(count $vm)
expect_ok "dvd insert of a file that is no ISO" -- "$osio" dvd $vm insert "$tmp/noiso.bin"
expect_lines "the guest finds no volume on it" $vm "$n" "dvd: medium changed" \
	"dvd: no ISO 9660 volume, 2048-byte blocks 2"

n=$(count $vm)
expect_ok "dvd insert A again" -- "$osio" dvd $vm insert "$tmp/A.iso"
expect_lines "the guest sees A again" $vm "$n" "dvd: medium changed" "$line_a"
# The same disc inserted once more is a new medium to the guest.
n=$(count $vm)
expect_ok "dvd insert A over A" -- "$osio" dvd $vm insert "$tmp/A.iso"
expect_lines "the guest sees A changed for A" $vm "$n" "dvd: medium changed" "$line_a"
expect_ok "stop" -- "$osio" stop $vm
if grep -Eq 'Sanitizer|runtime error|SIGSYS|Bad system call' "$log"; then
	fail "worker.log shows a crash: $(grep -E 'Sanitizer|runtime error|SIGSYS' "$log" | head -3)"
fi

# --- root: a worker that dropped to another user gets a disc only root can open ---------------
if ((EUID != 0)); then
	echo "SKIP (part): the worker that drops to another user needs root"
elif ! command -v useradd >/dev/null || ! command -v userdel >/dev/null; then
	echo "SKIP (part): useradd/userdel are not installed"
else
	user=osiodvd$$
	useradd -M -N -g users -s /usr/sbin/nologin "$user" || { fail "useradd $user"; user=''; }
	if [[ -n $user ]] && ! setpriv --reuid="$user" --regid=users --init-groups -- \
		test -r "$guests/dvdread.elf"; then
		echo "SKIP (part): user $user cannot read $guests/dvdread.elf (a private folder)"
		userdel "$user"
		user=''
	fi
fi
if [[ -n $user ]]; then
	# The store is open to others (above); C's folder is root's alone.
	mkdir -m 700 "$tmp/private"
	line_c=$(mkiso C ROOT_ONLY_C 300) && mv "$tmp/C.iso" "$tmp/private/C.iso" &&
		chmod 600 "$tmp/private/C.iso" || fail "cannot make ISO C"
	vm=dropped
	log=$OSIO_STORE_DIR/vms/$vm/worker.log
	expect_ok "create a VM with an empty DVD drive" -- "$osio" create $vm --memory 64M --cpus 1 \
		--disk none --switch none
	vm_boot_kernel $vm "$guests/dvdread.elf" "period=200" || exit 1
	sed -i "s|^\[vm\]$|[vm]\nworker_user = $user|" "$OSIO_STORE_DIR/vms/$vm/$vm.vmconfig"
	expect_ok "start it" -- "$osio" start $vm
	grep -q "sandbox: user $user" "$log" && pass "its worker became user $user" ||
		fail "worker.log: $(grep -i sandbox "$log")"
	expect_lines "the guest sees an empty drive" $vm 0 "$drive_line" "dvd: empty"
	n=$(count $vm)
	expect_ok "dvd insert of C (0600 in a 0700 folder of root's)" -- \
		"$osio" dvd $vm insert "$tmp/private/C.iso"
	expect_lines "the guest reads C" $vm "$n" "dvd: medium changed" "$line_c"
	expect_ok "stop it" -- "$osio" stop $vm
	if grep -Eq 'Sanitizer|runtime error|SIGSYS|Bad system call' "$log"; then
		fail "worker.log shows a crash: $(grep -E 'Sanitizer|runtime error|SIGSYS' "$log" | head -3)"
	fi
fi

echo "dvd-change: $passes passed, $failures failed"
((failures == 0))
