#!/bin/bash
# ctest cli/system-mode: osio --system shared by the members of a group, as /var/lib/osio and
# /run/osio are shared by the group osio. As root: a temporary group and users, a store and a
# runtime folder root:GROUP 2770 (what share/systemd/tmpfiles.conf makes), a KVM device node of
# the group. Two members manage one VM (one starts it, the other lists and stops it, and starts
# it again); a VM that root starts, whose worker becomes a user of the group (as workers become
# osio), is still the members' to list and stop; a non-member gets one line saying to join the
# group; the per-user store keeps its strict check. The group's members share more than the store:
# another member takes a screenshot through the VNC socket of a member's VM (a plain RFB
# client), and the VMs of two members, and of a member and one root started, exchange frames on
# private switches, where what a member could plant (a FIFO, a symlink, a socket of a
# non-member) is refused with a line in the VM's log.
# Usage: system-mode.sh OSIO GUEST_DIR
set -u
osio=$(realpath "$1") guests=$(realpath "$2")
failures=0 passes=0
((EUID == 0)) || { echo "SKIP: needs root (it makes a group and users)"; exit 77; }
for c in groupadd useradd userdel groupdel setpriv; do
	command -v $c >/dev/null || { echo "SKIP: $c is not installed"; exit 77; }
done
[[ -c /dev/kvm ]] || { echo "SKIP: no /dev/kvm"; exit 77; }
for g in lifecycle netpriv; do
	[[ -r $guests/$g.elf ]] || { echo "SKIP: $guests/$g.elf is not built"; exit 77; }
done
python=/usr/bin/python3
[[ -x $python ]] || { echo "SKIP: $python is not installed (the RFB client)"; exit 77; }
tmp=$(mktemp -d /tmp/osio-system-mode.XXXXXX)
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

id=$$ listener=''
grp=osiot$id usera=osiota$id userb=osiotb$id userw=osiotw$id userc=osiotc$id
cleanup() {
	local f pid
	for f in "$tmp"/store/vms/*/.running; do
		[[ -f $f ]] && read -r pid _ <"$f" && [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
	done
	[[ -n $listener ]] && kill "$listener" 2>/dev/null
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
mkdir -m 1777 "$tmp/shots"
# rfbshot.py SOCKET OUT.ppm: a plain RFB 3.8 client (security None, raw pixels) saves the whole
# screen; prints its size and the desktop's name.
cat >"$tmp/rfbshot.py" <<'EOF'
import socket, struct, sys
def recv(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit('the server closed the connection after %d of %d bytes' % (len(b), n))
        b += c
    return b
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(20)
try:
    s.connect(sys.argv[1])
except OSError as e:
    sys.exit('connect %s: %s' % (sys.argv[1], e.strerror))
if not recv(s, 12).startswith(b'RFB 003.'):
    sys.exit('not an RFB server')
s.sendall(b'RFB 003.008\n')
types = recv(s, recv(s, 1)[0])
if 1 not in types:
    sys.exit('no security type None: %r' % types)
s.sendall(b'\x01')
if struct.unpack('>I', recv(s, 4))[0] != 0:
    sys.exit('security failed')
s.sendall(b'\x01')  # ClientInit: shared
w, h = struct.unpack('>HH', recv(s, 4))
fmt = struct.unpack('>BBBBHHHBBB3x', recv(s, 16))
bpp, depth, big, truecolor, rmax, gmax, bmax, rsh, gsh, bsh = fmt
name = recv(s, struct.unpack('>I', recv(s, 4))[0]).decode()
if bpp != 32 or not truecolor:
    sys.exit('pixel format %d bpp, true colour %d: expected 32, 1' % (bpp, truecolor))
s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, w, h))  # the whole screen, not incremental
px = bytearray(w * h * 3)
got = 0
while got < w * h:
    kind = recv(s, 1)[0]
    if kind != 0:
        sys.exit('message %d before the picture' % kind)
    n = struct.unpack('>xH', recv(s, 3))[0]
    for _ in range(n):
        x, y, rw, rh, enc = struct.unpack('>HHHHi', recv(s, 12))
        if enc != 0 or x + rw > w or y + rh > h:
            sys.exit('rectangle %dx%d+%d+%d encoding %d' % (rw, rh, x, y, enc))
        data = recv(s, rw * rh * 4)
        for row in range(rh):
            for col in range(rw):
                v = struct.unpack_from('<I' if not big else '>I', data, (row * rw + col) * 4)[0]
                o = ((y + row) * w + x + col) * 3
                px[o:o + 3] = bytes(((v >> rsh) & rmax, (v >> gsh) & gmax, (v >> bsh) & bmax))
        got += rw * rh
with open(sys.argv[2], 'wb') as f:
    f.write(b'P6 %d %d 255\n' % (w, h) + bytes(px))
print('%dx%d of "%s"' % (w, h, name))
EOF
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
printf '\n[display]\nvnc = %s\n' "$tmp/run/shared.vnc" | as "$usera" tee -a "$cfg" >/dev/null
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
vnc=$tmp/run/shared.vnc
[[ $(stat -c '%a %G' "$vnc") == "660 $grp" ]] && pass "its VNC socket: 660, group $grp" ||
	fail "its VNC socket: $(stat -c '%a %U:%G' "$vnc")"
if as "$userb" "$python" "$tmp/rfbshot.py" "$vnc" "$tmp/shots/b.ppm" >"$tmp/out" 2>&1; then
	pass "the other member takes a screenshot through its VNC socket: $(cat "$tmp/out")"
else
	fail "a screenshot through the VNC socket as the other member: $(tail -2 "$tmp/out")"
fi
as "$userc" "$python" "$tmp/rfbshot.py" "$vnc" "$tmp/shots/c.ppm" >"$tmp/out" 2>&1 &&
	fail "a non-member took a screenshot: $(cat "$tmp/out")" ||
	pass "a non-member cannot: $(tail -1 "$tmp/out")"
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

# --- private switches shared by the group's VMs ------------------------------------------------
# net_vm NAME USER ROLE MAC SWITCH: a VM of USER running netpriv in ROLE on SWITCH, COM1 in the
# file com1.log of its folder.
net_vm() {
	local name=$1 u=$2 role=$3 mac=$4 sw=$5 cfg=$tmp/store/vms/$1/$1.vmconfig
	if ! as "$u" "$osio" --system create "$name" --memory 64M --cpus 1 --disk none \
		--switch "$sw" >"$tmp/out" 2>"$tmp/err"; then
		fail "create $name: $(cat "$tmp/err")"
		return 1
	fi
	local boot="kernel = $guests/netpriv.elf\nappend = \"nic=e1000 role=$role mac=$mac"
	boot+=' wait=90"'
	as "$u" sed -i -e '/^order = /d' -e "s|^mac = .*|mac = $mac|" \
		-e "s|^\[boot\]|[boot]\n$boot|" "$cfg"
	printf '\n[serial "com1"]\nbackend = file\npath = com1.log\n' |
		as "$u" tee -a "$cfg" >/dev/null
}
# net_verdict NAME ROLE: the guest program of that VM ended and saw frames cross both ways.
net_verdict() {
	local log=$tmp/store/vms/$1/com1.log wlog=$tmp/store/vms/$1/worker.log
	grep -q "$2: frames crossed both ways" "$log" 2>/dev/null &&
		grep -q '^RESULT: PASS' "$log" &&
		pass "$1 ($2): $(grep -m1 "^$2: .*from" "$log")" ||
		fail "$1 ($2): $(grep -E 'FAIL|RESULT' "$log" 2>/dev/null | head -3)" \
			"$(grep -i 'switch' "$wlog" | head -2)"
}
# wait_off NAME...: until each VM is off (its guest program ended), 150 s at most.
wait_off() {
	local n deadline=$((SECONDS + 150))
	for n in "$@"; do
		while [[ $(state_as "$usera" "$n") == running ]] && ((SECONDS < deadline)); do
			sleep 1
		done
	done
}
run_as "a member makes private switches" "$usera" "$osio" --system switch create lab \
	--type private
run_as "and another" "$userb" "$osio" --system switch create lab2 --type private
# What a hostile member could leave in the switch's folder, made by that member (accepted: a
# folder of the group): a FIFO and a symlink named like ports, and a socket of a non-member
# (a hard link could bring one in) that must never be connected to.
sw=$tmp/run/switches/lab
as "$userb" mkdir -p "$sw" && as "$userb" chmod 2770 "$tmp/run/switches" "$sw"
as "$userb" mkfifo "$sw/524f53000001.1.0"
as "$userb" ln -s "$sw/524f53000003.1.0" "$sw/524f53000002.1.0"
"$python" - "$sw/524f53000003.1.0" "$tmp/accepted" "$userc" >"$tmp/listener.log" 2>&1 <<'EOF' &
import os, pwd, select, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
u = pwd.getpwnam(sys.argv[3])
os.chown(sys.argv[1], u.pw_uid, u.pw_gid)
os.chmod(sys.argv[1], 0o666)
s.listen(16)
n = 0
open(sys.argv[2], 'w').write('0')
while True:
    if select.select([s], [], [], 1)[0]:
        s.accept()
        n += 1
        open(sys.argv[2], 'w').write(str(n))
EOF
listener=$!
for ((i = 0; i < 50; i++)); do [[ -e $tmp/accepted ]] && break; sleep 0.1; done
# On lab: a VM of each member. On lab2: one root starts (its worker becomes $userw, of the
# group by its primary group) and one of a member.
net_vm neta "$usera" a 52:54:00:0e:00:0a lab
net_vm netb "$userb" b 52:54:00:0e:00:0b lab
net_vm netra "$usera" a 52:54:00:0e:01:0a lab2
net_vm netrb "$userb" b 52:54:00:0e:01:0b lab2
as "$usera" sed -i -e "s|^\[vm\]$|[vm]\nworker_user = $userw|" "$tmp/store/vms/netra/netra.vmconfig"
run_as "a member starts a VM on lab" "$usera" "$osio" --system start neta
[[ $(stat -c '%a %G' "$sw") == "2770 $grp" ]] &&
	pass "the other member's switch folder is used: $(stat -c '%U:%G %a' "$sw")" ||
	fail "the switch's folder: $(stat -c '%U:%G %a' "$sw")"
port=$(find "$sw" -maxdepth 1 -name '5254000e000a.*' -printf '%m %g' 2>/dev/null)
[[ $port == "660 $grp" ]] && pass "its port's socket: 660, group $grp" ||
	fail "its port's socket: '$port'"
run_as "the other member starts a VM on lab" "$userb" "$osio" --system start netb
if "$osio" --system start netra >"$tmp/out" 2>"$tmp/err"; then
	pass "root starts a VM on lab2: $(cat "$tmp/out")"
else
	fail "root starts a VM on lab2: $(cat "$tmp/err")"
fi
run_as "a member starts a VM on lab2" "$userb" "$osio" --system start netrb
wait_off neta netb netra netrb
net_verdict neta a
net_verdict netb b
net_verdict netra a
net_verdict netrb b
grep -q "sandbox: user $userw" "$tmp/store/vms/netra/worker.log" &&
	pass "netra's worker was $userw" || fail "netra's worker: $(grep sandbox \
		"$tmp/store/vms/netra/worker.log")"
[[ $(cat "$tmp/accepted") == 0 ]] && pass "the non-member's socket was never connected to" ||
	fail "the non-member's socket was connected to $(cat "$tmp/accepted") times"
[[ -p $sw/524f53000001.1.0 && -L $sw/524f53000002.1.0 ]] &&
	pass "the FIFO and the symlink are left alone" ||
	fail "the FIFO or the symlink was removed"
for what in "a FIFO" "a symbolic link" "a socket of uid $(id -u "$userc")"; do
	grep -q "private switch 'lab': $sw/[0-9a-f.]* is $what" "$tmp/store/vms/neta/worker.log" &&
		pass "in the VM's log: $(grep -m1 "is $what" "$tmp/store/vms/neta/worker.log")" ||
		fail "no line about $what in neta's log:" \
			"$(grep -m3 switch "$tmp/store/vms/neta/worker.log")"
done

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
