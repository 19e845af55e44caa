#!/bin/bash
# An internal switch: a VM on a host bridge. In a network namespace of its own (removed at exit)
# the test makes bridge osbr-t with 10.99.0.1/24; the guest program netpriv (role=arp, 10.99.0.2)
# asks the bridge's MAC by ARP and prints it (checked against `ip link`), then the host's
# `ping -c 3 10.99.0.2` must get its replies and the guest prints the pings it answered. QEMU TCG
# runs it first on a TAP device on the same kind of bridge (the reference), then osio on the
# internal switch `osio switch create t --type internal --bridge osbr-t`; same output. Root only.
set -u

usage() {
	cat <<'EOF'
usage: net-internal.sh --kernel NETPRIV.ELF [--osio PATH] [--outdir DIR] [--model e1000|virtio]
                       [--timeout S] [--qemu-only]

Exit status 0 when both VMMs passed with the same output, 77 (skip) when not root, when
network namespaces cannot be made, or (after QEMU passed) when osio cannot run the test yet;
1 otherwise.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
osio=${OSIO:-osio} kernel='' outdir='' model=virtio timeout=90 qemu_only=0
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--model) model=${2-}; shift 2 ;;
	--timeout) timeout=${2-}; shift 2 ;;
	--qemu-only) qemu_only=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "net-internal: unknown option '$1'" >&2; exit 2 ;;
	esac
done
die() {
	echo "net-internal: $*" >&2
	exit 2
}
[[ -r $kernel ]] || die "cannot read the kernel '$kernel': build it first (cmake --build BUILD)"
[[ $model == e1000 || $model == virtio ]] || die "--model must be e1000 or virtio"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout' is not a number of seconds"
if (($(id -u) != 0)); then
	echo "SKIP: the internal switch test needs root (network namespace, bridge, TAP devices)"
	exit 77
fi
command -v ip >/dev/null || { echo "SKIP: no 'ip' command (Debian: iproute2)"; exit 77; }
# ping: iputils' or busybox's (busybox-static is one of the test dependencies).
ping=(ping)
command -v ping >/dev/null || ping=(busybox ping)
"${ping[@]}" -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 ||
	{ echo "SKIP: no working ping (Debian: iputils-ping or busybox-static)"; exit 77; }
[[ -n $outdir ]] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/net-internal.XXXXXX")
mkdir -p "$outdir" || exit 2

ns=osio-nit-$$
bridge=osbr-t
bridge_mac=02:0e:00:99:00:01 # fixed: a bridge otherwise takes its lowest port's MAC
guest_mac=52:54:00:0e:00:02
guest_ip=10.99.0.2
vm_pid=''
cleanup() {
	[[ -n $vm_pid ]] && kill "$vm_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! ip netns add "$ns" 2>"$outdir/netns.err"; then
	echo "SKIP: cannot create a network namespace: $(cat "$outdir/netns.err")"
	exit 77
fi
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
in_ns ip link add "$bridge" address "$bridge_mac" type bridge || die "cannot create bridge $bridge"
in_ns ip addr add 10.99.0.1/24 dev "$bridge"
in_ns ip link set "$bridge" up
args="nic=$model role=arp ip=$guest_ip target=10.99.0.1 listen=60 pings=3 mac=$guest_mac"

# qemu_run OUT: QEMU TCG with the program, its adapter on a TAP device in the bridge (run-guest.sh
# maps its switches to QEMU's NAT and socket hubs only).
qemu_run() {
	local tap=qtap-t dev=e1000
	in_ns ip tuntap add dev "$tap" mode tap || return 125
	in_ns ip link set "$tap" master "$bridge" up || return 125
	[[ $model == virtio ]] && dev=virtio-net-pci
	in_ns timeout -k 5 "$timeout" qemu-system-x86_64 -accel tcg -M pc -m 128M -nodefaults \
		-display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -vga std \
		-no-reboot -kernel "$kernel" -append "mem=128M cpus=1 now=$(date +%s) $args" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "$dev,netdev=n0,mac=$guest_mac,romfile=,addr=0x3" </dev/null >"$1.live" 2>"$2"
	local rc=$?
	tr -d '\r' <"$1.live" >"$1"
	in_ns ip link del "$tap" 2>/dev/null
	# isa-debug-exit: (V << 1) | 1.
	((rc & 1)) && return $((rc >> 1))
	return 125
}

osio_run() {
	in_ns env OSIO_STORE_DIR="$OSIO_STORE_DIR" OSIO_RUNTIME_DIR="$OSIO_RUNTIME_DIR" \
		"$here/run-guest.sh" --vmm osio --osio "$osio" --kernel "$kernel" --timeout "$timeout" \
		--nic "$model,switch=t,mac=$guest_mac" --append "$args" --live-output "$1.live" \
		>"$1" 2>"$2"
}

# side VMM: runs the guest in the background, pings it once it waits, checks what it printed.
side() {
	local vmm=$1 out=$outdir/$1.out err=$outdir/$1.err live=$outdir/$1.out.live deadline rc ok=0 mac
	rm -f "$out" "$err" "$live" "$outdir/$vmm.ping"
	if [[ $vmm == qemu ]]; then
		qemu_run "$out" "$err" &
	else
		osio_run "$out" "$err" &
	fi
	vm_pid=$!
	deadline=$((SECONDS + timeout))
	until grep -q '^arp: waiting for pings' "$live" 2>/dev/null; do
		if ! kill -0 "$vm_pid" 2>/dev/null || ((SECONDS > deadline)); then
			break
		fi
		sleep 0.2
	done
	if grep -q '^arp: waiting for pings' "$live" 2>/dev/null; then
		if in_ns "${ping[@]}" -c 3 -W 5 "$guest_ip" >"$outdir/$vmm.ping" 2>&1; then
			echo "ok: $vmm: the host's ping -c 3 $guest_ip got replies ($(grep 'packets' "$outdir/$vmm.ping"))"
		else
			echo "FAIL: $vmm: ping -c 3 $guest_ip from the bridge's namespace:"
			cat "$outdir/$vmm.ping"
			ok=1
		fi
	fi
	wait "$vm_pid"
	rc=$?
	vm_pid=''
	if ((rc != 0)) || ! grep -q '^RESULT: PASS$' "$out"; then
		echo "FAIL: $vmm: the guest exited with status $rc (0 and RESULT: PASS expected)"
		ok=1
	fi
	mac=$(in_ns cat "/sys/class/net/$bridge/address")
	if grep -qx "arp: 10.99.0.1 is at $mac" "$out"; then
		echo "ok: $vmm: the guest found the bridge's MAC $mac"
	else
		echo "FAIL: $vmm: the guest did not print the bridge's MAC $mac (ip link)"
		ok=1
	fi
	if ((ok)); then
		echo "---- $vmm output ($out) ----"
		cat "$out"
		[[ -s $err ]] && { echo "---- $vmm messages ----"; tail -n 20 "$err"; }
	fi
	return $ok
}

echo "net-internal: $model on bridge $bridge (10.99.0.1/24) in namespace $ns"
echo "outputs kept in $outdir"
side qemu || { echo "(QEMU is the reference: the program or the test is wrong, not osio)"; exit 1; }
((qemu_only)) && exit 0

export OSIO_STORE_DIR=$outdir/store OSIO_RUNTIME_DIR=$outdir/run
rm -rf "$OSIO_STORE_DIR" "$OSIO_RUNTIME_DIR"
mkdir -m 0700 "$OSIO_STORE_DIR" "$OSIO_RUNTIME_DIR"
help=$("$osio" run --help 2>&1) || help=''
skip=''
if [[ -z $help ]]; then
	skip="'$osio' has no working 'run' command"
elif ! grep -q -- '--nic\b' <<<"$help"; then
	skip="'$osio run' has no --nic option yet"
elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	skip="/dev/kvm is missing or not readable and writable by $(id -un)"
elif ! in_ns "$osio" switch create t --type internal --bridge "$bridge" >"$outdir/switch.log" 2>&1; then
	skip="'osio switch create t --type internal --bridge $bridge' failed: $(tail -n 1 "$outdir/switch.log")"
fi
if [[ -n $skip ]]; then
	echo "SKIP: $skip; QEMU side passed"
	exit 77
fi
failed=0
side osio || failed=1
grep -v '^peer:' "$outdir/qemu.out" >"$outdir/qemu.cmp"
grep -v '^peer:' "$outdir/osio.out" >"$outdir/osio.cmp"
if diff -u --label qemu --label osio "$outdir/qemu.cmp" "$outdir/osio.cmp" >"$outdir/diff"; then
	echo "ok: osio printed the same as QEMU"
else
	echo "FAIL: the outputs differ (QEMU first; 'peer:' lines left out):"
	cat "$outdir/diff"
	failed=1
fi
((failed)) && exit 1
grep -v '^peer:' "$outdir/osio.out"
exit 0
