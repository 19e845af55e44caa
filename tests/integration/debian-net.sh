#!/usr/bin/env bash
# ctest integration/debian-net-MODEL(-qemu): the Debian kernel with a busybox initramfs on the
# network, with the e1000 or virtio-net adapter: on the NAT switch it gets a DHCP lease (udhcpc)
# and fetches a file with wget from an HTTP server on the host's loopback; then two guests at once
# on one private switch ping each other. osio: hardware KVM only (else SKIP, exit 77); QEMU TCG
# (-netdev user, a multicast socket hub) proves the test.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: debian-net.sh --vmm osio|qemu [--model e1000|virtio] [--osio PATH] [--outdir DIR]
                     [--timeout S]

  --vmm osio      run in osio; skipped (exit 77) unless kvm_intel or kvm_amd is loaded
  --vmm qemu      run in QEMU TCG: proves the artefacts, /init and the checks right
  --model MODEL   the network adapter of every guest: e1000 (default) or virtio
  --osio PATH     the osio binary
  --outdir DIR    keep the consoles, the HTTP server's log and the initramfs there (default: a
                  new temporary directory)
  --timeout S     give up on each guest after S seconds (default 300)
The kernel and busybox come from scripts/fetch-guest-artefacts.sh (Debian archive needed); the
HTTP server is python3's. QEMU's private switch is a multicast group on 127.0.0.1.
EOF
}

me=debian-net
timeout_s=300
mem=256M cpus=1
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
model=e1000
rest=()
while (($#)); do
	case $1 in
	--model)
		model=${2-}
		shift
		(($#)) && shift
		;;
	*) rest+=("$1"); shift ;;
	esac
done
deb_parse_args "${rest[@]}"
case $model in
e1000) driver=e1000 ;;
virtio) driver=virtio_net ;;
*) usage >&2; echo "$me: --model must be e1000 or virtio" >&2; exit 2 ;;
esac
deb_check_vmm
for tool in python3 objcopy cpio gzip md5sum; do
	command -v "$tool" >/dev/null ||
		{ echo "FAIL: '$tool' not found (Debian: python3, binutils, cpio)"; exit 1; }
done

deb_outdir
outdir=$(cd "$outdir" && pwd)
deb_fetch

# --- the initramfs: busybox, both adapters' drivers, udhcpc's script and /init.
deb_initramfs_root "$outdir/initramfs.root"
deb_add_modules virtio_pci virtio_net e1000
mkdir -p "$root/etc"
cat >"$root/etc/udhcpc.script" <<'EOF'
#!/bin/busybox sh
# udhcpc's hook: configures the lease it got and prints it.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ifconfig "$interface" "$ip" netmask "$subnet"
	for r in $router; do
		route add default gw "$r" dev "$interface"
		break
	done
	echo "OSIO-NET-LEASE ip=$ip subnet=$subnet router=$router dns=$dns server=$serverid"
	;;
esac
exit 0
EOF
# shellcheck disable=SC2016
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
export PATH=/bin:/sbin
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev && exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || echo "OSIO-NET-FAIL insmod $m"
done
# Warnings and errors only from here on: link-up messages must not split the marker lines.
echo "5 4 1 7" >/proc/sys/kernel/printk
arg() { sed -n "s/.*osio\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
now() { cut -d. -f1 /proc/uptime; }
off() {
	sync
	poweroff -f
}

# The adapter appears as its driver probes it.
end=$(($(now) + 30))
while [ ! -e /sys/class/net/eth0 ] && [ "$(now)" -lt $end ]; do sleep 0.1; done
if [ ! -e /sys/class/net/eth0 ]; then
	echo "OSIO-NET-FAIL no eth0 (interfaces: $(ls /sys/class/net | tr '\n' ' '))"
	off
fi
drv=$(basename "$(readlink /sys/class/net/eth0/device/driver)")
echo "OSIO-NET-NIC eth0 driver=$drv mac=$(cat /sys/class/net/eth0/address)"
ip link set lo up

case $(arg role) in
nat)
	ip link set eth0 up
	if ! udhcpc -i eth0 -f -q -n -t 10 -T 2 -s /etc/udhcpc.script; then
		echo "OSIO-NET-FAIL udhcpc got no lease"
		off
	fi
	url=$(arg url)
	# (busybox 1.35's wget -T crashes: timeout bounds it instead)
	if timeout 60 wget -q -O /tmp/file "$url"; then
		echo "OSIO-NET-FETCH md5=$(md5sum </tmp/file | cut -d' ' -f1) bytes=$(wc -c </tmp/file)"
	else
		echo "OSIO-NET-FAIL wget $url"
	fi
	;;
private)
	ip=$(arg ip) peer=$(arg peer) mark=$(arg mark) peermark=$(arg peermark)
	ip addr add "$ip/24" dev eth0
	ip link set eth0 up
	# The peer boots at the same time: wait for its first answer, then ping it 3 times.
	end=$(($(now) + 120))
	until ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
		[ "$(now)" -ge $end ] && break
		sleep 0.2
	done
	ping -c 3 -W 2 "$peer" >/tmp/ping 2>&1
	st=$?
	sed 's/^/ping: /' /tmp/ping
	rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping)
	echo "OSIO-NET-PING from=$ip to=$peer received=${rx:-0}/3 status=$st"
	# Done: a second address tells the peer so; stay until the peer's shows (it may still be
	# pinging this guest), and a little longer, for the peer to see this one's.
	ip addr add "$mark/24" dev eth0
	end=$(($(now) + 90))
	until ping -c 1 -W 1 "$peermark" >/dev/null 2>&1; do
		[ "$(now)" -ge $end ] && break
		sleep 0.2
	done
	if [ "$(now)" -lt $end ]; then
		echo "OSIO-NET-PEER-DONE $peermark"
	else
		echo "OSIO-NET-FAIL the peer did not finish within 90 s"
	fi
	sleep 3
	;;
*)
	echo "OSIO-NET-FAIL no osio.role=nat|private on the command line"
	;;
esac
echo "OSIO-NET-END"
off
EOF
chmod 0755 "$root/init" "$root/etc/udhcpc.script"
deb_pack_initramfs

# --- the host's side: an HTTP server on a free loopback port, the switches' store.
work=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX")
declare -A vm_pid=() vm_started=() vm_status=() vm_secs=()
cleanup() {
	local p
	for p in "${vm_pid[@]}" ${http_pid:+"$http_pid"}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$work/www"
file=osio-net-$$.bin
head -c $((1024 * 1024 + 777)) /dev/urandom >"$work/www/$file"
want_md5=$(md5sum <"$work/www/$file" | cut -d' ' -f1)
want_bytes=$(wc -c <"$work/www/$file")
http_log=$outdir/http.log
: >"$http_log"
(cd "$work/www" && exec python3 -u -c '
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stdout.write("HTTP " + (fmt % args) + "\n")
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("port %d" % s.server_address[1])
s.serve_forever()') >"$http_log" 2>&1 &
http_pid=$!
port=''
for ((i = 0; i < 50; i++)); do
	port=$(sed -n 's/^port //p' "$http_log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "FAIL: the HTTP server did not start: $(cat "$http_log")"; exit 1; }

export OSIO_STORE_DIR=$work/store OSIO_RUNTIME_DIR=$work/run
mkdir -m 0700 "$OSIO_STORE_DIR" "$OSIO_RUNTIME_DIR"
if [ "$vmm" = osio ]; then
	"$osio" switch create debnet --type private >"$outdir/switch.log" 2>&1 || {
		echo "FAIL: osio switch create debnet --type private: $(cat "$outdir/switch.log")"
		exit 1
	}
fi
# QEMU's private switch: a multicast group on the loopback, on a port of this run's own (the
# guest tests' hubs use 20000-29999).
mcast_port=$((30000 + $$ % 10000))

# vm_start NAME SWITCH MAC APPEND: boots a guest in the background with one adapter of the model
# on SWITCH (nat, or the private switch); its console in $outdir/$vmm-NAME.out.
vm_start() {
	local name=$1 sw=$2 mac=$3 append=$4 cmd netdev dev
	case $vmm in
	osio)
		[ "$sw" = nat ] && sw=default
		cmd=("$osio" run --name "$me-$name-$$" --kernel "$kernel" --initrd "$initramfs"
			--append "$append" --memory "$mem" --cpus "$cpus" --on-reboot exit --vnc none
			--nic "$model,switch=$sw,mac=$mac")
		;;
	qemu)
		netdev=user,id=n0
		[ "$sw" = nat ] ||
			netdev=socket,id=n0,mcast=230.0.0.1:$mcast_port,localaddr=127.0.0.1
		dev=e1000
		[ "$model" = virtio ] && dev=virtio-net-pci
		cmd=(qemu-system-x86_64 -accel tcg -M pc -m "$mem" -smp "$cpus" -nodefaults
			-display none -serial stdio -monitor none -no-reboot
			-kernel "$kernel" -initrd "$initramfs" -append "$append"
			-netdev "$netdev" -device "$dev,netdev=n0,mac=$mac,romfile=")
		;;
	esac
	rm -f "$outdir/$vmm-$name".*
	timeout -k 10 "$timeout_s" "${cmd[@]}" </dev/null >"$outdir/$vmm-$name.out" \
		2>"$outdir/$vmm-$name.err" &
	vm_pid[$name]=$!
	vm_started[$name]=$SECONDS
}

# vm_wait NAME: waits for the guest; its status, seconds and $out.txt (the console without CRs).
vm_wait() {
	local name=$1
	vm_use "$name"
	set +e
	wait "${vm_pid[$name]}"
	status=$?
	set -e
	unset "vm_pid[$name]"
	vm_status[$name]=$status
	vm_secs[$name]=$((SECONDS - vm_started[$name]))
	tr -d '\r' <"$out" >"$out.txt"
	vm_use "$name"
	if [ "$status" = 124 ] || [ "$status" = 137 ]; then
		fail "$name: the guest did not finish within $timeout_s s"
	fi
}

# vm_use NAME: out, err, status and secs (what fail and deb_powered_off read) of that guest.
# shellcheck disable=SC2034 # err, secs: fail's and the caller's
vm_use() {
	out=$outdir/$vmm-$1.out err=$outdir/$vmm-$1.err
	status=${vm_status[$1]-} secs=${vm_secs[$1]-}
}

# check_nic NAME MAC: /init found the adapter, bound to the model's driver, with the MAC given.
check_nic() {
	local nic
	nic=$(grep -a -m 1 -o 'OSIO-NET-NIC .*' "$out.txt" || true)
	[ -n "$nic" ] || fail "$1: no network interface in the guest ($(grep -a -m 1 -o 'OSIO-NET-FAIL.*' "$out.txt"))"
	[ "$nic" = "OSIO-NET-NIC eth0 driver=$driver mac=$2" ] ||
		fail "$1: eth0 is not the $model adapter with MAC $2: $nic"
}

echo "$me: $(basename "$kernel") in $vmm with $model adapters, $cpus vCPU, $mem each"

# --- 1. NAT: a DHCP lease and an HTTP fetch from the host's loopback.
mac=52:54:00:de:b1:01
base="console=ttyS0 panic=-1"
vm_start nat nat $mac "$base osio.role=nat osio.url=http://10.0.2.2:$port/$file"
vm_wait nat
check_nic nat $mac
grep -a 'OSIO-NET-FAIL' "$out.txt" >/dev/null &&
	fail "nat: in the guest: $(grep -a -o 'OSIO-NET-FAIL.*' "$out.txt" | tr '\n' ';')"
lease=$(grep -a -m 1 -o 'OSIO-NET-LEASE .*' "$out.txt" || true)
[ -n "$lease" ] || fail "nat: udhcpc printed no lease"
[[ $lease == "OSIO-NET-LEASE ip=10.0.2.15 subnet=255.255.255.0 router=10.0.2.2 "* ]] ||
	fail "nat: the lease is not 10.0.2.15/24 with router 10.0.2.2: $lease"
fetched=$(grep -a -m 1 -o 'OSIO-NET-FETCH md5=[0-9a-f]* bytes=[0-9]*' "$out.txt" || true)
[ "$fetched" = "OSIO-NET-FETCH md5=$want_md5 bytes=$want_bytes" ] ||
	fail "nat: the guest fetched '${fetched:-nothing}', not md5=$want_md5 bytes=$want_bytes"
grep -q "\"GET /$file HTTP/1.[01]\" 200 " "$http_log" ||
	fail "nat: the HTTP server saw no GET /$file: $(tr '\n' ' ' <"$http_log")"
deb_powered_off
echo "ok: nat: ${lease#OSIO-NET-LEASE }; fetched $want_bytes bytes (md5 $want_md5) over HTTP" \
	"in $secs s"

# --- 2. A private switch: two guests at once, each pings the other.
declare -A ip=([a]=192.168.50.1 [b]=192.168.50.2) mark=([a]=192.168.50.11 [b]=192.168.50.12)
declare -A macs=([a]=52:54:00:de:b1:0a [b]=52:54:00:de:b1:0b) peer=([a]=b [b]=a)
for r in a b; do
	p=${peer[$r]}
	args="osio.role=private osio.ip=${ip[$r]} osio.peer=${ip[$p]}"
	args+=" osio.mark=${mark[$r]} osio.peermark=${mark[$p]}"
	vm_start "$r" debnet "${macs[$r]}" "$base $args"
done
for r in a b; do
	vm_wait "$r"
done
for r in a b; do
	vm_use "$r"
	p=${peer[$r]}
	check_nic "$r" "${macs[$r]}"
	want="OSIO-NET-PING from=${ip[$r]} to=${ip[$p]} received=3/3 status=0"
	got=$(grep -a -m 1 -o 'OSIO-NET-PING .*' "$out.txt" || true)
	[ "$got" = "$want" ] || fail "$r: ping ${ip[$p]} failed: ${got:-no OSIO-NET-PING line}"
	grep -a -q 'OSIO-NET-FAIL' "$out.txt" &&
		fail "$r: in the guest: $(grep -a -o 'OSIO-NET-FAIL.*' "$out.txt" | tr '\n' ';')"
	grep -a -q "OSIO-NET-PEER-DONE ${mark[$p]}" "$out.txt" ||
		fail "$r: never saw $p finish"
	deb_powered_off
	echo "ok: private: $r (${ip[$r]}) pinged $p (${ip[$p]}): 3 of 3 answered; off after $secs s"
done
echo "PASS: $me ($vmm, $model): DHCP lease, HTTP fetch, pings both ways on a private switch"
