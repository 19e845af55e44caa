#!/bin/bash
# osio run's network adapters as users meet them: every mistake in --nic or in a vmconfig's
# [nic] (model, options, forwards, MACs, queues, unknown or unsuitable switches, a missing
# TFTP directory) is one clear line naming the option or FILE:LINE, never a crash; a [nic]
# without mac gets one written into the file once (comments kept, one info line), and a
# vmconfig that cannot be written gets a warning and a MAC for the run.
# usage: nic-errors.sh OSIO GUEST_DIR
set -u
osio=$1
guests=$(cd "$2" && pwd) || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
export OSIO_STORE_DIR=$tmp/store
[[ -n ${OSIO_RUNTIME_DIR-} ]] || export OSIO_RUNTIME_DIR=$tmp/run

kernel=$guests/debugexit.elf
[[ -r $kernel ]] || { echo "FAIL: $kernel missing: build the guest programs"; exit 1; }
mkdir -p -m 700 "$OSIO_RUNTIME_DIR"
run=("$osio" run --vnc none --kernel "$kernel")

# --nic on the command line.
expect_error "no value" 2 "--nic needs a value" -- "$osio" run --nic
expect_error "model" 1 "^osio: error: --nic rtl8139: model = 'rtl8139': not one of e1000, virtio" -- \
	"${run[@]}" --nic rtl8139
expect_error "model first" 2 "--nic switch=lab: the model comes first: --nic e1000" -- \
	"${run[@]}" --nic switch=lab
expect_error "unknown option" 2 "--nic e1000,speed=10: unknown option 'speed'; the options are switch=" \
	-- "${run[@]}" --nic e1000,speed=10
expect_error "option without value" 2 "--nic e1000,mac: no value for 'mac'" -- \
	"${run[@]}" --nic e1000,mac
expect_error "bad forward" 1 \
	"--nic e1000,forward=tcp:2222: forward = 'tcp:2222': forward 'tcp:2222': .*; write PROTO:\[HOSTADDR:\]HOSTPORT -> " \
	-- "${run[@]}" --nic e1000,forward=tcp:2222
expect_error "second forward bad" 1 "forward = 'tcp:2222->22, udp:x->1': forward 'udp:x->1'" -- \
	"${run[@]}" --nic 'e1000,forward=tcp:2222->22,forward=udp:x->1'
expect_error "multicast MAC" 1 "mac = '01:00:5e:00:00:01': a multicast MAC address" -- \
	"${run[@]}" --nic e1000,mac=01:00:5e:00:00:01
expect_error "same MAC twice" 1 \
	"mac = '52:4F:53:00:00:01': \[nic \"nic0\"\] on line [0-9]+ has it too; give each adapter its own address" \
	-- "${run[@]}" --nic e1000,mac=52:4f:53:00:00:01 --nic virtio,mac=52:4F:53:00:00:01
expect_error "queues on e1000" 1 "queues is used only with model = virtio" -- \
	"${run[@]}" --nic e1000,queues=2
expect_error "unknown switch" 1 \
	"^osio: error: nic 'nic0': no switch 'lab'; create it with: osio switch create lab --type private" \
	-- "${run[@]}" --nic e1000,switch=lab
expect_error "no TFTP directory" 1 \
	"nic 'nic0': tftp = $tmp/nowhere: No such file or directory; name a directory" -- \
	"${run[@]}" --nic "e1000,tftp=$tmp/nowhere"
expect_error "nine adapters" 2 "--nic: at most 8 network adapters" -- \
	"${run[@]}" --nic e1000 --nic e1000 --nic e1000 --nic e1000 --nic e1000 --nic e1000 \
	--nic e1000 --nic e1000 --nic e1000
"$osio" switch create lab --type private >/dev/null 2>&1 || fail "osio switch create lab failed"
expect_error "forward on a private switch" 1 \
	"nic 'nic0': forward, tftp and bootfile work on a NAT switch only, and 'lab' is a private switch" \
	-- "${run[@]}" --nic 'e1000,switch=lab,forward=tcp:2222->22'
# Unplugged, an adapter may name a switch that is not there (yet).
"${run[@]}" --quiet --nic e1000,switch=later,connected=no >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if ((rc == 42)) && ! grep -qv 'osio: note:' "$tmp/err"; then
	passes=$((passes + 1))
	echo "ok: unplugged, unknown switch: the VM runs"
else
	fail "unplugged, unknown switch: status $rc: $(cat "$tmp/err")"
fi

# [nic] in a vmconfig: FILE:LINE.
vmc=$tmp/vm.vmconfig
printf '[boot]\nkernel = %s\n\n[nic "lan"]\nswitch = nowhere\nmac = 52:4f:53:00:00:02\n' \
	"$kernel" >"$vmc"
expect_error "vmconfig: unknown switch" 1 \
	"^osio: error: nic 'lan' \($vmc:4\): no switch 'nowhere'; create it with: osio switch create nowhere --type private" \
	-- "$osio" run --vnc none "$vmc"
printf '[nic "lan"]\nmodel = e1000\nforward = tcp:127.0.0.1:2222 -> 22, udp:5555\n' >"$vmc"
expect_error "vmconfig: bad forward" 1 "^$vmc:3:37: error: forward = .*: forward 'udp:5555'" -- \
	"$osio" run --vnc none "$vmc"
printf '[nic "a"]\nmac = 52:4f:53:00:00:01\n[nic "b"]\nmac = 52:4f:53:00:00:01\n' >"$vmc"
expect_error "vmconfig: same MAC twice" 1 \
	"^$vmc:4:7: error: mac = '52:4f:53:00:00:01': \[nic \"a\"\] on line 2 has it too" -- \
	"$osio" run --vnc none "$vmc"

# MACs written back once, comments and layout kept.
printf '# my VM\n[boot]\nkernel = %s\n\n[nic "lan"]   # the LAN\n  model = virtio   # fast\n\n# spare\n[nic]\nconnected = no\n' \
	"$kernel" >"$vmc"
cp "$vmc" "$tmp/before"
"$osio" run --vnc none "$vmc" >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
macs=$(grep -oE '52:4f:53(:[0-9a-f]{2}){3}' "$vmc" | tr '\n' ' ')
read -r m1 m2 <<<"$macs"
if ((rc != 42)); then
	fail "write-back: exit status $rc: $(cat "$tmp/err")"
elif ! grep -q "osio: $vmc: new MAC addresses written into the file: \[nic \"lan\"\] $m1, \[nic\] $m2\$" "$tmp/err"; then
	fail "write-back: no info line naming both MACs: $(cat "$tmp/err")"
elif [[ -z $m2 || $m1 == "$m2" ]]; then
	fail "write-back: not two distinct MACs in the file: $(cat "$vmc")"
elif ! diff <(sed "s/^  model = virtio   # fast\$/&\n  mac = $m1/; s/^connected = no\$/&\nmac = $m2/" "$tmp/before") "$vmc" >/dev/null; then
	fail "write-back: the file changed otherwise: $(diff "$tmp/before" "$vmc")"
else
	passes=$((passes + 1))
	echo "ok: write-back: $(grep -v 'note:' "$tmp/err")"
fi
cp "$vmc" "$tmp/after"
"$osio" run --vnc none "$vmc" >"$tmp/out" 2>"$tmp/err" </dev/null
if grep -q "MAC" "$tmp/err" || ! cmp -s "$vmc" "$tmp/after"; then
	fail "write-back: the second run changed the MACs: $(cat "$tmp/err")"
else
	passes=$((passes + 1))
	echo "ok: write-back: the second run keeps them"
fi

# A vmconfig that cannot be written: a warning, and a MAC for this run.
ro=$tmp/ro
mkdir -p "$ro"
printf '[boot]\nkernel = %s\n[nic "lan"]\n' "$kernel" >"$ro/vm.vmconfig"
if ((EUID != 0)); then
	chmod 555 "$ro"
	"$osio" run --vnc none "$ro/vm.vmconfig" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	chmod 755 "$ro"
else
	# root writes anywhere: a read-only bind mount in a mount namespace of its own.
	unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 99
		shift; exec "$@"' sh "$ro" "$osio" run --vnc none "$ro/vm.vmconfig" \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
fi
if ((rc == 99)); then
	echo "skip: read-only vmconfig: cannot make a read-only mount here"
elif ((rc != 42)); then
	fail "read-only: exit status $rc: $(cat "$tmp/err")"
elif ! grep -Eq "osio: warning: $ro/vm.vmconfig: cannot keep the new MAC address in the file \(.*\): \[nic \"lan\"\] 52:4f:53(:[0-9a-f]{2}){3} for this run only; write mac = \.\.\. into the section to keep it" "$tmp/err"; then
	fail "read-only: no warning: $(cat "$tmp/err")"
elif grep -q mac "$ro/vm.vmconfig"; then
	fail "read-only: the file changed"
else
	passes=$((passes + 1))
	echo "ok: read-only: $(grep warning "$tmp/err")"
fi

echo "$passes passed, $failures failed"
((failures == 0))
