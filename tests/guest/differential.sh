#!/bin/bash
# Runs one guest test program in QEMU TCG and in osio and requires the same
# verdict and the same output from both (lines starting with "peer:" excepted).
set -u

usage() {
	cat <<'EOF'
usage: differential.sh --kernel ELF [--osio PATH] [--outdir DIR]
                       [--expect-status N] [run-guest.sh options...]

Runs the program with tests/guest/run-guest.sh under QEMU TCG, then under
osio, with the same options (--memory, --cpus, --append, --input,
--allow-reset, --timeout). Both must exit with --expect-status (default 0;
with 0 the output must hold "RESULT: PASS", with 1 "RESULT: FAIL") and print
the same lines, except those starting with "peer:" (facts that legitimately
differ, like the boot loader's name), which are shown but not compared.
The outputs stay in --outdir (qemu.out, osio.out, *.err, diff).
If osio has no 'run' command yet or /dev/kvm cannot be used, only QEMU runs
and the test is skipped (exit 77) when QEMU passed.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
osio=${OSIO:-osio} kernel='' outdir='' expect=0
pass=()
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--expect-status) expect=${2-}; shift 2 ;;
	--memory | --cpus | --append | --input | --timeout) pass+=("$1" "${2-}"); shift 2 ;;
	--allow-reset | --powers-off) pass+=("$1"); shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "differential: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -n $kernel ]] || { echo "differential: --kernel ELF is required" >&2; exit 2; }
[[ $expect =~ ^[0-9]+$ ]] || { echo "differential: --expect-status must be a number" >&2; exit 2; }
if [[ -z $outdir ]]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/differential.XXXXXX")
fi
mkdir -p "$outdir" || exit 2
rm -f "$outdir"/{qemu,osio}.{out,err,status} "$outdir/diff"
name=$(basename "$kernel" .elf)

# run VMM: runs the guest, keeps its output, prints the verdict line.
run() {
	local vmm=$1 rc start end
	start=$(date +%s)
	"$here/run-guest.sh" --vmm "$vmm" --osio "$osio" --kernel "$kernel" "${pass[@]}" \
		>"$outdir/$vmm.out" 2>"$outdir/$vmm.err"
	rc=$?
	end=$(date +%s)
	echo "$rc" >"$outdir/$vmm.status"
	echo "== $vmm: status $rc in $((end - start)) s: $(grep '^RESULT:' "$outdir/$vmm.out" | tail -n1)"
	return "$rc"
}

# verdict VMM STATUS: checks one run against the expectation.
verdict() {
	local vmm=$1 rc=$2 want=
	((expect == 0)) && want='^RESULT: PASS$'
	((expect == 1)) && want='^RESULT: FAIL [0-9]+$'
	if ((rc != expect)); then
		echo "FAIL: $name under $vmm exited with status $rc, expected $expect"
		return 1
	fi
	if [[ -n $want ]] && ! grep -Eq "$want" "$outdir/$vmm.out"; then
		echo "FAIL: $name under $vmm did not print a line matching '$want'"
		return 1
	fi
	return 0
}

show() {
	local vmm=$1
	echo "---- $vmm output ($outdir/$vmm.out) ----"
	cat "$outdir/$vmm.out"
	if [[ -s $outdir/$vmm.err ]]; then
		echo "---- $vmm messages ($outdir/$vmm.err) ----"
		tail -n 20 "$outdir/$vmm.err"
	fi
}

echo "differential: $name ${pass[*]}"
echo "outputs kept in $outdir"
run qemu
qemu_rc=$?
if ! verdict qemu "$qemu_rc"; then
	show qemu
	echo "(QEMU is the reference: the program or its expectations are wrong, not osio)"
	exit 1
fi

if ! "$osio" run --help >/dev/null 2>&1; then
	show qemu
	echo "SKIP: '$osio' has no working 'run' command yet; QEMU side passed"
	exit 77
fi
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	show qemu
	echo "SKIP: /dev/kvm is missing or not readable and writable by $(id -un); QEMU side passed"
	exit 77
fi

run osio
osio_rc=$?
failed=0
verdict osio "$osio_rc" || failed=1

grep -v '^peer:' "$outdir/qemu.out" >"$outdir/qemu.compared"
grep -v '^peer:' "$outdir/osio.out" >"$outdir/osio.compared"
if ! diff -u --label "qemu ($name)" --label "osio ($name)" \
	"$outdir/qemu.compared" "$outdir/osio.compared" >"$outdir/diff"; then
	echo "FAIL: the output under osio differs from QEMU's ('-' QEMU, '+' osio):"
	cat "$outdir/diff"
	failed=1
fi

echo "---- peer: lines (not compared) ----"
sed 's/^/qemu  /' <(grep '^peer:' "$outdir/qemu.out")
sed 's/^/osio  /' <(grep '^peer:' "$outdir/osio.out")

if ((failed)); then
	show osio
	exit 1
fi
echo "PASS: $name gives the same output and status $expect under QEMU and osio"
exit 0
