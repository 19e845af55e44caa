#!/usr/bin/env bash
# ctest integration/ipxe-boot(-qemu): network boot with Debian's iPXE ROMs (ipxe-qemu) on the NAT
# switch, for e1000 and virtio-net: boot = network, DHCP from the switch, a script over TFTP from
# its built-in server that prints a marker on the screen and fetches http://10.0.2.2:PORT/marker-MAC
# from a server on the host's loopback. osio: hardware KVM only (iPXE stops early on kvm_pvm);
# QEMU TCG (-netdev user) proves the script and the check.
set -uo pipefail

usage() {
	cat <<'EOF'
usage: ipxe-boot.sh --vmm osio|qemu [--osio PATH] [--outdir DIR] [--timeout S]

  --vmm osio   boot in osio; skipped (exit 77) unless kvm_intel or kvm_amd is loaded
  --vmm qemu   boot in QEMU TCG with -netdev user
  --osio PATH  the osio binary
  --outdir DIR keep the logs and screens there (default: a new temporary directory)
  --timeout S  give up on each boot after S seconds (default 120)
EOF
}

me=ipxe-boot
timeout_s=120
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
deb_parse_args "$@"
deb_check_vmm "iPXE stops early under a KVM without hardware virtualization"

fail() {
	echo "FAIL: $me ($vmm): $*"
	exit 1
}

for rom in efi-e1000.rom efi-virtio.rom; do
	[[ -r /usr/lib/ipxe/qemu/$rom ]] ||
		fail "/usr/lib/ipxe/qemu/$rom missing: install Debian's ipxe-qemu (install-deps.sh)"
done
command -v python3 >/dev/null || fail "python3 not found"

[[ -n $outdir ]] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX")
mkdir -p "$outdir" || fail "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/$me-work.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

# The host's HTTP server, on a free loopback port.
mkdir -p "$work/www"
python3 -u -c '
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stdout.write("GET %s\n" % self.path)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("port %d" % s.server_address[1])
s.serve_forever()' >"$outdir/http.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 50; i++)); do
	port=$(sed -n 's/^port //p' "$outdir/http.log")
	[[ -n $port ]] && break
	sleep 0.1
done
[[ -n $port ]] || fail "the HTTP server did not start: $(cat "$outdir/http.log")"
export OSIO_STORE_DIR=$work/store
[[ -n ${OSIO_RUNTIME_DIR-} ]] || export OSIO_RUNTIME_DIR=$work/run
mkdir -p -m 700 "$OSIO_RUNTIME_DIR"

n=0
for model in e1000 virtio; do
	n=$((n + 1))
	mac=52:4f:53:00:1b:0$n
	tftp=$work/tftp-$model
	mkdir -p "$tftp"
	# ${net0/mac:hexhyp} is the MAC with hyphens: what the server must see.
	cat >"$tftp/boot.ipxe" <<EOF
#!ipxe
echo OSIO-IPXE-MARKER $model \${net0/mac} \${net0/ip}
chain http://10.0.2.2:$port/marker-$model-\${net0/mac:hexhyp} ||
echo OSIO-IPXE-FETCHED
sleep 600
EOF
	want="GET /marker-$model-${mac//:/-}"
	screen=$outdir/$model.screen.txt
	log=$outdir/$vmm-$model.log
	rm -f "$screen"
	if [[ $vmm == osio ]]; then
		"$osio" run --name "$me-$model-$$" --boot network --vnc none --serial none \
			--nic "$model,mac=$mac,tftp=$tftp,bootfile=boot.ipxe" \
			--timeout "${timeout_s}s" --screen-text "$screen" >"$log" 2>&1 </dev/null &
	else
		dev=e1000
		# iPXE's virtio ROM is for the modern device (1af4:1041), as osio's with a ROM.
		[[ $model == virtio ]] && dev=virtio-net-pci,disable-legacy=on
		qemu-system-x86_64 -accel tcg -m 256 -display none -no-reboot -boot n \
			-netdev "user,id=n0,tftp=$tftp,bootfile=boot.ipxe" \
			-device "$dev,netdev=n0,mac=$mac,romfile=/usr/lib/ipxe/qemu/efi-$model.rom" \
			>"$log" 2>&1 </dev/null &
	fi
	vm=$!
	pids+=("$vm")
	start=$SECONDS
	while ((SECONDS - start < timeout_s)) && kill -0 "$vm" 2>/dev/null; do
		grep -q "^$want\$" "$outdir/http.log" && break
		sleep 0.5
	done
	secs=$((SECONDS - start))
	# osio takes the screen as the VM ends.
	kill -TERM "$vm" 2>/dev/null
	wait "$vm" 2>/dev/null
	grep -q "^$want\$" "$outdir/http.log" ||
		fail "$model: iPXE did not fetch /marker-$model-${mac//:/-} within $secs s (log: $(tail -n 3 "$log" | tr '\n' ' '); HTTP: $(tr '\n' ' ' <"$outdir/http.log"))"
	if [[ $vmm == osio ]]; then
		grep -q "OSIO-IPXE-MARKER $model $mac 10.0.2.15" "$screen" 2>/dev/null ||
			fail "$model: the marker is not on the screen: $(grep -v '^ *$' "$screen" 2>/dev/null | tail -n 5)"
	fi
	echo "ok: $model: iPXE got a lease, ran boot.ipxe from TFTP and fetched over HTTP in $secs s"
done
echo "PASS: $me ($vmm): network boot on e1000 and virtio-net"
