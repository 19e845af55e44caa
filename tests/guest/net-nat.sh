#!/bin/bash
# The netnat guest program on the NAT switch under QEMU TCG (-netdev user) and under osio: DHCP,
# UDP and HTTP to servers on the host's loopback, then a datagram and a TCP line sent by this
# script through host port forwards while the guest listens; both VMMs must print the same.
set -u

usage() {
	cat <<'EOF'
usage: net-nat.sh --kernel ELF [--osio PATH] [--outdir DIR] [--nic e1000|virtio]
                  [--timeout S] [--vmm both|qemu|osio]

Starts tests/guest/tools/netserve.py (UDP echo and HTTP servers on 127.0.0.1), runs the netnat
program with run-guest.sh --nic MODEL,forward=udp:127.0.0.1:P->5555,forward=tcp:127.0.0.1:Q->7777
under QEMU TCG and then under osio, and while the guest listens sends "ping from the host" to
P (expecting "echo: ping from the host") and the line "line from the host" to Q (expecting
"echo: line from the host"). Both runs must pass and print the same lines ("peer:" lines
excepted). The outputs stay in --outdir (VMM.out, VMM.err, VMM.host, diff). If osio has no
'run --nic' yet or /dev/kvm is unusable, only QEMU runs and the test is skipped (77) when QEMU
passed.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
osio=${OSIO:-osio} kernel='' outdir='' model=e1000 timeout=120 which=both
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--nic) model=${2-}; shift 2 ;;
	--timeout) timeout=${2-}; shift 2 ;;
	--vmm) which=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "net-nat: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -r $kernel ]] || { echo "net-nat: cannot read the kernel '$kernel': build it first" >&2; exit 2; }
[[ $model == e1000 || $model == virtio ]] || { echo "net-nat: --nic e1000 or virtio" >&2; exit 2; }
[[ $which =~ ^(both|qemu|osio)$ ]] || { echo "net-nat: --vmm both, qemu or osio" >&2; exit 2; }
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "net-nat: --timeout is a number of seconds" >&2; exit 2; }
command -v python3 >/dev/null || { echo "net-nat: python3 is needed for the host side" >&2; exit 2; }
[[ -n $outdir ]] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/net-nat.XXXXXX")
mkdir -p "$outdir" || exit 2
rm -f "$outdir"/{qemu,osio}.{out,err,live,host,status,compared} "$outdir"/{diff,netserve.out,netserve.err}

serve_pid='' vmm_pid=''
cleanup() {
	[[ -n $vmm_pid ]] && kill "$vmm_pid" 2>/dev/null
	[[ -n $serve_pid ]] && kill "$serve_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

netserve=$here/tools/netserve.py
python3 "$netserve" serve >"$outdir/netserve.out" 2>"$outdir/netserve.err" &
serve_pid=$!
for _ in $(seq 50); do
	[[ -s $outdir/netserve.out ]] && break
	sleep 0.1
done
read -r udp_arg http_arg <"$outdir/netserve.out" ||
	{ echo "net-nat: netserve.py did not start: $(cat "$outdir/netserve.err")"; exit 1; }
guest_udp=5555 guest_tcp=7777
append="nic=$model ${udp_arg} ${http_arg} listen_udp=$guest_udp listen_tcp=$guest_tcp bulk=200000 wait=60"

# wait_line VMM TEXT: waits until the guest printed a line starting with TEXT (false if the VMM
# ended or the time ran out first).
wait_line() {
	local deadline=$((SECONDS + timeout))
	while ((SECONDS < deadline)); do
		grep -q "^$2" "$outdir/$1.live" 2>/dev/null && return 0
		kill -0 "$vmm_pid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

# run VMM: the guest under VMM with the forwards, and the host's side of them; 0 if all passed.
run() {
	local vmm=$1 ports fwd_udp fwd_tcp rc ok=0 reply start=$SECONDS
	ports=$(python3 "$netserve" free-ports 2) || return 1
	read -r fwd_udp fwd_tcp <<<"$ports"
	"$here/run-guest.sh" --vmm "$vmm" --osio "$osio" --kernel "$kernel" --timeout "$timeout" \
		--nic "$model,forward=udp:127.0.0.1:$fwd_udp->$guest_udp,forward=tcp:127.0.0.1:$fwd_tcp->$guest_tcp" \
		--append "$append" --live-output "$outdir/$vmm.live" \
		>"$outdir/$vmm.out" 2>"$outdir/$vmm.err" &
	vmm_pid=$!
	{
		echo "forwards: udp 127.0.0.1:$fwd_udp -> $guest_udp, tcp 127.0.0.1:$fwd_tcp -> $guest_tcp"
		if wait_line "$vmm" "udp: listening on $guest_udp"; then
			reply=$(python3 "$netserve" udp "$fwd_udp" "ping from the host" --timeout 20 2>&1)
			echo "udp reply: $reply"
			[[ $reply == "echo: ping from the host" ]] || { echo "FAIL: the UDP forward"; ok=1; }
		else
			echo "FAIL: the guest never listened on UDP $guest_udp"
			ok=1
		fi
		if wait_line "$vmm" "tcp: listening on $guest_tcp"; then
			# The guest polls: give its listen a moment to start after the line.
			sleep 0.5
			reply=$(python3 "$netserve" tcp "$fwd_tcp" "line from the host" --timeout 20 2>&1)
			echo "tcp reply: $reply"
			[[ $reply == "echo: line from the host" ]] || { echo "FAIL: the TCP forward"; ok=1; }
		else
			echo "FAIL: the guest never listened on TCP $guest_tcp"
			ok=1
		fi
	} >"$outdir/$vmm.host"
	wait "$vmm_pid"
	rc=$?
	vmm_pid=
	echo "$rc" >"$outdir/$vmm.status"
	echo "== $vmm: status $rc in $((SECONDS - start)) s: $(grep '^RESULT:' "$outdir/$vmm.out" | tail -n1)"
	sed "s/^/   host: /" "$outdir/$vmm.host"
	((rc == 0)) && grep -q '^RESULT: PASS$' "$outdir/$vmm.out" || ok=1
	grep -qx 'http: body "This is hello.txt."' "$outdir/$vmm.out" ||
		{ echo "FAIL: $vmm: the guest did not print hello.txt's body"; ok=1; }
	return $ok
}

show() {
	echo "---- $1 output ($outdir/$1.out) ----"
	cat "$outdir/$1.out"
	[[ -s $outdir/$1.err ]] && { echo "---- $1 messages ----"; tail -n 20 "$outdir/$1.err"; }
}

echo "net-nat: $(basename "$kernel") --nic $model, servers $udp_arg $http_arg; outputs in $outdir"
if [[ $which != osio ]]; then
	if ! run qemu; then
		show qemu
		echo "FAIL: under QEMU (the reference: the program or the test is wrong, not osio)"
		exit 1
	fi
	[[ $which == qemu ]] && { echo "PASS: QEMU only (--vmm qemu)"; exit 0; }
fi

help=$("$osio" run --help 2>&1) || help=''
if [[ -z $help ]] || ! grep -q -- '--nic\b' <<<"$help"; then
	echo "SKIP: '$osio run' has no --nic option yet; QEMU side passed"
	exit 77
fi
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	echo "SKIP: /dev/kvm is missing or not readable and writable by $(id -un); QEMU side passed"
	exit 77
fi
failed=0
run osio || failed=1
[[ $which == osio ]] && { ((failed)) && show osio; exit $failed; }

grep -v '^peer:' "$outdir/qemu.out" >"$outdir/qemu.compared"
grep -v '^peer:' "$outdir/osio.out" >"$outdir/osio.compared"
if ! diff -u --label "qemu (netnat)" --label "osio (netnat)" "$outdir/qemu.compared" \
	"$outdir/osio.compared" >"$outdir/diff"; then
	echo "FAIL: the output under osio differs from QEMU's ('-' QEMU, '+' osio):"
	cat "$outdir/diff"
	failed=1
fi
if ((failed)); then
	show osio
	exit 1
fi
echo "PASS: netnat ($model) gives the same output under QEMU and osio, and the forwards work"
exit 0
