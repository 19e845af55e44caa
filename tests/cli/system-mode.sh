#!/bin/bash
# ctest cli/system-mode: osio --system shared by the members of a group, as /var/lib/osio and
# /run/osio are shared by the group osio. As root: a temporary group and users, a store and a
# runtime folder root:GROUP 2770 (what share/systemd/tmpfiles.conf makes), a KVM device node of
# the group. Two members manage one VM (one starts it, the other lists and stops it, and starts
# it again); a VM that root starts, whose worker becomes a user of the group (as workers become
# osio), is still the members' to list and stop; a non-member gets one line saying to join the
# group; the per-user store keeps its strict check.
# Usage: system-mode.sh OSIO GUEST_DIR
set -u
osio=$(realpath "$1") guests=$(realpath "$2")
failures=0 passes=0
((EUID == 0)) || { echo "SKIP: needs root (it makes a group and users)"; exit 77; }
for c in groupadd useradd userdel groupdel setpriv; do
	command -v $c >/dev/null || { echo "SKIP: $c is not installed"; exit 77; }
done
[[ -c /dev/kvm ]] || { echo "SKIP: no /dev/kvm"; exit 77; }
[[ -r $guests/lifecycle.elf ]] || { echo "SKIP: $guests/lifecycle.elf is not built"; exit 77; }
tmp=$(mktemp -d /tmp/osio-system-mode.XXXXXX)
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

id=$$
grp=osiot$id usera=osiota$id userb=osiotb$id userw=osiotw$id userc=osiotc$id
cleanup() {
	local f pid
	for f in "$tmp"/store/vms/*/.running; do
		[[ -f $f ]] && read -r pid _ <"$f" && [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
	done
	for u in $usera $userb $userw $userc; do userdel "$u" 2>/dev/null; done
	groupdel "$grp" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
groupadd "$grp" || { fail "groupadd $grp"; exit 1; }
# Members by a supplementary group (as adduser USER osio makes them); w has it as its primary
# group, as the user osio has; c is not a member.
useradd -M -N -g users -G "$grp" -s /usr/sbin/nologin "$usera" &&
	useradd -M -N -g users -G "$grp" -s /usr/sbin/nologin "$userb" &&
	useradd -M -N -g "$grp" -s /usr/sbin/nologin "$userw" &&
	useradd -M -N -g users -s /usr/sbin/nologin "$userc" || { fail "useradd"; exit 1; }

chmod 755 "$tmp"
as_probe() { HOME=$tmp setpriv --reuid="$usera" --regid=users --init-groups -- "$@"; }
if ! as_probe test -x "$osio" || ! as_probe test -r "$guests/lifecycle.elf"; then
	echo "SKIP: another user cannot reach $osio or $guests (a private folder above the build)"
	exit 77
fi
install -d -o root -g "$grp" -m 2770 "$tmp/store" "$tmp/run"
# The members' way to KVM (a node of /dev/kvm's device, for the group).
read -r major minor < <(stat -c '%t %T' /dev/kvm)
mknod "$tmp/kvm" c $((16#$major)) $((16#$minor)) || { fail "mknod"; exit 1; }
chgrp "$grp" "$tmp/kvm" && chmod 660 "$tmp/kvm"
export OSIO_SYSTEM=1 OSIO_STORE_DIR=$tmp/store OSIO_RUNTIME_DIR=$tmp/run OSIO_KVM_DEVICE=$tmp/kvm
unset OSIO_SANDBOX OSIO_SECCOMP

# as USER COMMAND...: runs the command as that user with the groups /etc/group gives it.
as() {
	local u=$1
	shift
	(cd "$tmp" && HOME=$tmp setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@")
}

# state_as USER VM: the VM's state as osio --system list --json shows it to that user.
state_as() {
	as "$1" "$osio" --system list --json 2>/dev/null |
		jq -r --arg n "$2" '.[] | select(.name == $n) | .state'
}

# run_as NAME USER COMMAND...: the command works as that user (status 0).
run_as() {
	local name=$1 u=$2
	shift 2
	if as "$u" "$@" >"$tmp/out" 2>"$tmp/err"; then
		pass "$name: $(head -1 "$tmp/out")"
	else
		fail "$name: status $?: $(grep -v 'note:' "$tmp/err" | head -3)"
	fi
}

# --- one member makes the VM, starts it; the other lists it and stops it ------------------------
run_as "a member creates a VM" "$usera" "$osio" --system create shared --memory 64M --cpus 1 \
	--disk none --switch none
cfg=$tmp/store/vms/shared/shared.vmconfig
as "$usera" sed -i -e '/^order = /d' \
	-e "s|^\[boot\]|[boot]\nkernel = $guests/lifecycle.elf\nappend = \"period=100 disk=0\"|" "$cfg"
[[ $(stat -c %G "$tmp/store/vms/shared") == "$grp" && $(stat -c %a "$tmp/store/vms/shared") == 2770 ]] &&
	pass "the VM's folder is the group's: $(stat -c '%U:%G %a' "$tmp/store/vms/shared")" ||
	fail "the VM's folder: $(stat -c '%U:%G %a' "$tmp/store/vms/shared")"
[[ $(stat -c %a "$cfg") == 660 ]] && pass "its vmconfig is group-writable (660)" ||
	fail "its vmconfig has mode $(stat -c %a "$cfg")"
run_as "the member starts it" "$usera" "$osio" --system start shared
sock=$tmp/run/shared.sock
[[ $(stat -c '%a %G' "$sock") == "660 $grp" ]] && pass "its control socket: 660, group $grp" ||
	fail "its control socket: $(stat -c '%a %U:%G' "$sock")"
[[ $(state_as "$userb" shared) == running ]] && pass "the other member lists it Running" ||
	fail "the other member sees: $(state_as "$userb" shared)"
[[ $(state_as "$usera" shared) == running ]] && pass "the first member lists it Running" ||
	fail "the first member sees: $(state_as "$usera" shared)"
as "$userb" timeout 3 "$osio" --system serial shared </dev/null >"$tmp/serial" 2>&1
grep -q "^count [0-9]" "$tmp/serial" && pass "the other member sees its serial console" ||
	fail "osio serial as the other member: $(head -3 "$tmp/serial")"
run_as "the other member stops it" "$userb" "$osio" --system stop shared
[[ $(state_as "$usera" shared) == off ]] && pass "Off for the first member" ||
	fail "after the stop: $(state_as "$usera" shared)"
run_as "the other member starts it again" "$userb" "$osio" --system start shared
# The power button counts once the guest has set ACPI up, which it has when it counts (slow on a
# loaded machine): wait for that before pressing it.
for ((i = 0; i < 20; i++)); do
	as "$usera" timeout 3 "$osio" --system serial shared </dev/null >"$tmp/serial2" 2>&1
	grep -q "^count [0-9]" "$tmp/serial2" && break
done
run_as "the first member shuts it down" "$usera" "$osio" --system shutdown shared --timeout 60

# --- a VM root starts: its worker becomes a user of the group, the members still manage it ------
run_as "a member creates a second VM" "$usera" "$osio" --system create byroot --memory 64M \
	--cpus 1 --disk none --switch none
cfg=$tmp/store/vms/byroot/byroot.vmconfig
as "$usera" sed -i -e '/^order = /d' -e "s|^\[vm\]$|[vm]\nworker_user = $userw|" \
	-e "s|^\[boot\]|[boot]\nkernel = $guests/lifecycle.elf\nappend = \"period=100 disk=0\"|" "$cfg"
if "$osio" --system start byroot >"$tmp/out" 2>"$tmp/err"; then
	pass "root starts it: $(cat "$tmp/out")"
else
	fail "root starts it: $(cat "$tmp/err")"
fi
grep -q "sandbox: user $userw" "$tmp/store/vms/byroot/worker.log" &&
	pass "its worker became user $userw" || fail "worker.log: $(grep sandbox "$tmp/store/vms/byroot/worker.log")"
[[ $(state_as "$userb" byroot) == running ]] && pass "a member lists it Running" ||
	fail "a member sees: $(state_as "$userb" byroot)"
run_as "a member stops it" "$userb" "$osio" --system stop byroot
run_as "a member starts it" "$usera" "$osio" --system start byroot
run_as "a member saves it" "$userb" "$osio" --system save byroot
[[ $(state_as "$usera" byroot) == saved ]] && pass "Saved" || fail "after save: $(state_as "$usera" byroot)"

# --- a user outside the group ------------------------------------------------------------------
as "$userc" "$osio" --system list >"$tmp/out" 2>"$tmp/err"
rc=$?
((rc == 1)) && [[ $(grep -vc note: "$tmp/err") == 1 ]] &&
	grep -q "you are not in the $grp group.*sudo adduser $userc $grp, then log in again" "$tmp/err" &&
	pass "a non-member: $(cat "$tmp/err")" || fail "a non-member: status $rc: $(cat "$tmp/err")"
if [[ ! -e /var/lib/osio ]]; then
	(unset OSIO_STORE_DIR && as "$userc" "$osio" --system list) >"$tmp/out" 2>"$tmp/err"
	grep -q "the system VM store /var/lib/osio does not exist: install osio's package" "$tmp/err" &&
		pass "no /var/lib/osio: $(cat "$tmp/err")" || fail "no /var/lib/osio: $(cat "$tmp/err")"
fi

# --- per-user mode keeps its strict check: a group-writable store is refused -------------------
mkdir -m 770 "$tmp/mine" && chown "$usera" "$tmp/mine"
(unset OSIO_SYSTEM && OSIO_STORE_DIR=$tmp/mine as "$usera" "$osio" create mine --disk none \
	--switch none) >"$tmp/out" 2>"$tmp/err"
grep -q "must belong to uid .* and be writable only by it" "$tmp/err" &&
	pass "per-user mode refuses a group-writable store" || fail "per-user mode: $(cat "$tmp/err")"

echo "$passes passed, $failures failed"
((failures == 0))
