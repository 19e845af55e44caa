#!/bin/bash
# Private switches with three VMs running at once (guest program netpriv): A and B on switch
# "lab1" exchange raw 0x88B5 frames both ways (broadcast and unicast), C on "lab2" sees none of
# them. The three run under QEMU TCG (each switch a multicast socket hub), then under osio (private
# switches), and must print the same.
set -u

usage() {
	cat <<'EOF'
usage: net-private.sh --kernel NETPRIV.ELF [--osio PATH] [--outdir DIR] [--timeout S]
                      [--models A,B,C] [--c-switch NAME] [--qemu-only]

  --kernel ELF     tests/guest/progs/netpriv.c, built
  --osio PATH      the osio binary (default: $OSIO, else osio on PATH)
  --outdir DIR     where the outputs stay (DIR/VMM/{a,b,c}.{out,err,status}, DIR/diff)
  --timeout S      each VM's limit (default 90)
  --models A,B,C   the adapter models of A, B and C (default e1000,virtio,virtio)
  --c-switch NAME  C's switch (default lab2); with lab1, C sees A's and B's frames and must
                   fail: the test then passes when C fails the same way in both VMMs
  --qemu-only      only the QEMU side (the reference)

Exit status 0 when both VMMs passed with the same output, 77 (skip) when osio cannot run
the test yet (no --nic, no switch command, no usable /dev/kvm) and QEMU passed, 1 otherwise.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
osio=${OSIO:-osio} kernel='' outdir='' timeout=90 models=e1000,virtio,virtio c_switch=lab2
qemu_only=0
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--timeout) timeout=${2-}; shift 2 ;;
	--models) models=${2-}; shift 2 ;;
	--c-switch) c_switch=${2-}; shift 2 ;;
	--qemu-only) qemu_only=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "net-private: unknown option '$1'" >&2; exit 2 ;;
	esac
done
die() {
	echo "net-private: $*" >&2
	exit 2
}
[[ -r $kernel ]] || die "cannot read the kernel '$kernel': build it first (cmake --build BUILD)"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout' is not a number of seconds"
IFS=, read -r model_a model_b model_c <<<"$models"
for m in "$model_a" "$model_b" "$model_c"; do
	[[ $m == e1000 || $m == virtio ]] || die "--models '$models': each is e1000 or virtio"
done
[[ -n $outdir ]] || outdir=$(mktemp -d "${TMPDIR:-/tmp}/net-private.XXXXXX")
mkdir -p "$outdir" || exit 2
# C fails by design when it shares A's and B's switch.
expect_c=0
[[ $c_switch == lab1 ]] && expect_c=1

# Fixed MACs: the guests may print them, and both VMMs give the same.
declare -A mac=([a]=52:54:00:0e:00:0a [b]=52:54:00:0e:00:0b [c]=52:54:00:0e:00:0c)
declare -A model=([a]=$model_a [b]=$model_b [c]=$model_c)
declare -A switch=([a]=lab1 [b]=lab1 [c]=$c_switch)

pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start VMM ROLE: runs one VM in the background (its output in DIR/ROLE.out, live in ROLE.live).
start() {
	local vmm=$1 r=$2 d=$outdir/$1 extra='' nic=${model[$2]}
	[[ $r == c ]] && extra=' listen=10'
	(
		"$here/run-guest.sh" --vmm "$vmm" --osio "$osio" --kernel "$kernel" --timeout "$timeout" \
			--nic "$nic,switch=${switch[$r]},mac=${mac[$r]}" --live-output "$d/$r.live" \
			--append "nic=$nic role=$r mac=${mac[$r]}$extra" >"$d/$r.out" 2>"$d/$r.err"
		echo $? >"$d/$r.status"
	) &
	pids+=($!)
}

# trio VMM: C first (listening before A and B start), then A and B; waits for all three.
trio() {
	local vmm=$1 d=$outdir/$1 r deadline
	rm -rf "$d"
	mkdir -p "$d"
	# One store and runtime directory for the three: the switches are where they meet.
	export OSIO_STORE_DIR=$d/store OSIO_RUNTIME_DIR=$d/run
	mkdir -m 0700 "$OSIO_STORE_DIR" "$OSIO_RUNTIME_DIR"
	pids=()
	start "$vmm" c
	deadline=$((SECONDS + timeout))
	until grep -q '^c: listening' "$d/c.live" 2>/dev/null; do
		if [[ -e $d/c.status ]] || ((SECONDS > deadline)); then
			break
		fi
		sleep 0.2
	done
	start "$vmm" a
	start "$vmm" b
	wait "${pids[@]}"
	pids=()
	: >"$d/all.out"
	for r in a b c; do
		echo "$(<"$d/$r.status"): ${switch[$r]}: $r" >>"$d/all.out"
		grep -v '^peer:' "$d/$r.out" | sed "s/^/$r | /" >>"$d/all.out"
	done
}

# verdict VMM: every VM ended as expected.
verdict() {
	local vmm=$1 d=$outdir/$1 r ok=0 want st
	for r in a b c; do
		want=0
		[[ $r == c ]] && want=$expect_c
		st=$(<"$d/$r.status")
		if [[ $st != "$want" ]]; then
			echo "FAIL: $vmm: $r (${model[$r]} on ${switch[$r]}) exited with status $st, expected $want"
			ok=1
		elif ((want == 0)) && ! grep -q '^RESULT: PASS$' "$d/$r.out"; then
			echo "FAIL: $vmm: $r printed no 'RESULT: PASS'"
			ok=1
		fi
	done
	if ((expect_c == 0)); then
		if ! grep -q '^ok: a: frames crossed both ways' "$d/a.out" ||
			! grep -q '^ok: b: frames crossed both ways' "$d/b.out" ||
			! grep -q '^c: saw no frame' "$d/c.out"; then
			echo "FAIL: $vmm: A and B did not exchange frames, or C saw some"
			ok=1
		fi
	fi
	return $ok
}

show() {
	local d=$outdir/$1 r
	for r in a b c; do
		echo "---- $1: $r ($d/$r.out) ----"
		cat "$d/$r.out"
		[[ -s $d/$r.err ]] && { echo "---- $1: $r messages ----"; tail -n 20 "$d/$r.err"; }
	done
}

echo "net-private: A ${model[a]} and B ${model[b]} on lab1, C ${model[c]} on $c_switch"
echo "outputs kept in $outdir"
trio qemu
if ! verdict qemu; then
	show qemu
	echo "(QEMU is the reference: the program or its expectations are wrong, not osio)"
	exit 1
fi
echo "== qemu: as expected"
((qemu_only)) && exit 0

help=$("$osio" run --help 2>&1) || help=''
skip=''
if [[ -z $help ]]; then
	skip="'$osio' has no working 'run' command"
elif ! grep -q -- '--nic\b' <<<"$help"; then
	skip="'$osio run' has no --nic option yet"
elif ! "$osio" switch list >/dev/null 2>&1; then
	skip="'$osio switch list' does not work yet"
elif [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	skip="/dev/kvm is missing or not readable and writable by $(id -un)"
fi
if [[ -n $skip ]]; then
	show qemu
	echo "SKIP: $skip; QEMU side passed"
	exit 77
fi

trio osio
failed=0
verdict osio || failed=1
if diff -u --label qemu --label osio "$outdir/qemu/all.out" "$outdir/osio/all.out" \
	>"$outdir/diff"; then
	echo "ok: osio printed the same as QEMU"
else
	echo "FAIL: the outputs differ (QEMU first; 'peer:' lines left out):"
	cat "$outdir/diff"
	failed=1
fi
if ((failed)); then
	show osio
	exit 1
fi
echo "== osio: as expected"
cat "$outdir/osio/all.out"
exit 0
