#!/bin/bash
# Runs one guest test program in QEMU TCG and in osio and requires the same
# verdict and the same output from both (lines starting with "peer:" excepted).
set -u

usage() {
	cat <<'EOF'
usage: differential.sh (--kernel ELF | --dvd ISO | --disk IMG | --scratch-disk IMG)
                       [--osio PATH] [--outdir DIR] [--expect-status N]
                       [--screenshot --imgcmp PATH] [--screen-text]
                       [--expect-text TEXT] [--mkmedia PATH]
                       [run-guest.sh options...]

Runs the program with tests/guest/run-guest.sh under QEMU TCG, then under
osio, with the same options (--memory, --cpus, --append, --input,
--allow-reset, --powers-off, --timeout, --dvd, --disk, --boot; --kernel with
--dvd boots the program with the disc in the drive, --dvd '' an empty drive). Both must exit
with --expect-status (default 0; with 0 the output must hold "RESULT: PASS",
with 1 "RESULT: FAIL") and print the same lines, except those starting with
"peer:" (facts that legitimately differ, like the boot loader's name), which
are shown but not compared.

  --scratch-disk IMG  each VMM boots a fresh copy of IMG (DIR/VMM.img); with
                      --mkmedia, 'mkmedia check-disk' must then accept the copy
                      (the guest wrote its range and nothing else)
  --screenshot        each run saves the screen when the guest says
                      "screen: ready"; imgcmp must find them identical outside
                      the guest's "mask:" rectangles and its "probe:" pixels
                      right in both
  --screen-text       the same moment's text screen; both must be identical
  --expect-text TEXT  ... and contain TEXT (with --screen-text)
  --expect-size WxH   the screenshots must have this size
  --capture-at S      (run-guest.sh) take the screen S seconds after the start
                      instead, for software that says nothing on COM1; no
                      RESULT line is expected then
  --wait-text TEXT    (run-guest.sh) QEMU captures as soon as its text screen
                      shows TEXT

The outputs stay in --outdir (qemu.out, osio.out, *.err, diff, screens).
If osio has no 'run' command with the options the test needs, or /dev/kvm
cannot be used, only QEMU runs and the test is skipped (exit 77) when QEMU
passed.
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
osio=${OSIO:-osio} kernel='' outdir='' expect=0 scratch='' mkmedia='' imgcmp='' screenshot=0
screen_text=0 expect_text='' media='' expect_size='' timed=0
pass=()
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; pass+=("$1" "${2-}"); shift 2 ;;
	--dvd | --disk) media=${2-}; pass+=("$1" "${2-}"); shift 2 ;;
	--scratch-disk) scratch=${2-}; media=${2-}; shift 2 ;;
	--mkmedia) mkmedia=${2-}; shift 2 ;;
	--imgcmp) imgcmp=${2-}; shift 2 ;;
	--screenshot) screenshot=1; shift ;;
	--screen-text) screen_text=1; shift ;;
	--expect-text) expect_text=${2-}; shift 2 ;;
	--expect-size) expect_size=${2-}; shift 2 ;;
	--capture-at) timed=1; pass+=("$1" "${2-}"); shift 2 ;;
	--wait-text) pass+=("$1" "${2-}"); shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--expect-status) expect=${2-}; shift 2 ;;
	--memory | --cpus | --append | --input | --timeout | --boot) pass+=("$1" "${2-}"); shift 2 ;;
	--allow-reset | --powers-off | --rng) pass+=("$1"); shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "differential: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -n $kernel || -n $media ]] ||
	{ echo "differential: --kernel ELF, --dvd ISO, --disk IMG or --scratch-disk IMG is required" >&2; exit 2; }
[[ -z $scratch || -r $scratch ]] ||
	{ echo "differential: cannot read the disk image '$scratch': build it first" >&2; exit 2; }
((!screenshot)) || [[ -x $imgcmp ]] ||
	{ echo "differential: --screenshot needs --imgcmp PATH (the tests' image comparator)" >&2; exit 2; }
[[ $expect =~ ^[0-9]+$ ]] || { echo "differential: --expect-status must be a number" >&2; exit 2; }
if [[ -z $outdir ]]; then
	outdir=$(mktemp -d "${TMPDIR:-/tmp}/differential.XXXXXX")
fi
mkdir -p "$outdir" || exit 2
rm -f "$outdir"/{qemu,osio}.{out,err,status,img,check,ppm,png,screen.txt} "$outdir"/{diff,screen.diff}
rm -f "$outdir"/{screen-diff.ppm,qemu-screen.png,imgcmp.out}
if [[ -n $kernel ]]; then
	name=$(basename "$kernel" .elf)
else
	name=$(basename "$media")
fi

# run VMM: runs the guest, keeps its output (and disk, screen), prints the verdict line.
run() {
	local vmm=$1 rc start end extra=()
	if [[ -n $scratch ]]; then
		cp "$scratch" "$outdir/$vmm.img" || return 125
		extra+=(--disk "$outdir/$vmm.img")
	fi
	if ((screenshot)); then
		if [[ $vmm == qemu ]]; then
			extra+=(--screenshot "$outdir/qemu.ppm")
		else
			extra+=(--screenshot "$outdir/osio.png")
		fi
	fi
	((screen_text)) && extra+=(--screen-text "$outdir/$vmm.screen.txt")
	start=$(date +%s)
	"$here/run-guest.sh" --vmm "$vmm" --osio "$osio" "${pass[@]}" "${extra[@]}" \
		>"$outdir/$vmm.out" 2>"$outdir/$vmm.err"
	rc=$?
	end=$(date +%s)
	echo "$rc" >"$outdir/$vmm.status"
	echo "== $vmm: status $rc in $((end - start)) s: $(grep '^RESULT:' "$outdir/$vmm.out" | tail -n1)"
	return "$rc"
}

# after VMM: the checks on what the run left behind (the disk it wrote, its screen).
after() {
	local vmm=$1 ok=0
	if [[ -n $scratch && -n $mkmedia ]]; then
		if "$mkmedia" check-disk "$outdir/$vmm.img" "$scratch" >"$outdir/$vmm.check" 2>&1; then
			echo "$vmm: $(tail -n1 "$outdir/$vmm.check")"
		else
			echo "FAIL: $vmm: the disk image after the run:"
			cat "$outdir/$vmm.check"
			ok=1
		fi
	fi
	if ((screen_text)); then
		if [[ ! -s $outdir/$vmm.screen.txt ]]; then
			echo "FAIL: $vmm: no text screen was saved"
			ok=1
		elif [[ -n $expect_text ]] && ! grep -qF -- "$expect_text" "$outdir/$vmm.screen.txt"; then
			echo "FAIL: $vmm: the text screen does not show '$expect_text':"
			cat "$outdir/$vmm.screen.txt"
			ok=1
		fi
	fi
	return $ok
}

# The guest's own expectations of its screenshot: "mask:" and "probe:" lines.
imgcmp_args() {
	local line
	[[ -n $expect_size ]] && printf '%s\n' --size "$expect_size"
	while read -r line; do
		set -- $line
		case $1 in
		mask:) printf '%s\n' --mask "$2" ;;
		probe:) printf '%s\n' --probe "$2" ;;
		esac
	done < <(grep -E '^(mask|probe): ' "$outdir/qemu.out")
}

# verdict VMM STATUS: checks one run against the expectation.
verdict() {
	local vmm=$1 rc=$2 want=
	((expect == 0 && !timed)) && want='^RESULT: PASS$'
	((expect == 1 && !timed)) && want='^RESULT: FAIL [0-9]+$'
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
qemu_ok=1
verdict qemu "$qemu_rc" || qemu_ok=0
after qemu || qemu_ok=0
if ((screenshot)) && [[ -s $outdir/qemu.ppm ]]; then
	mapfile -t cmp_args < <(imgcmp_args)
	# The guest's probes on QEMU's picture (and a PNG of it for people).
	if ! "$imgcmp" "$outdir/qemu.ppm" "${cmp_args[@]}" --png "$outdir/qemu-screen.png" \
		>"$outdir/imgcmp.out" 2>&1; then
		cat "$outdir/imgcmp.out"
		qemu_ok=0
	fi
elif ((screenshot)); then
	echo "FAIL: qemu: no screenshot was saved"
	qemu_ok=0
fi
if ((!qemu_ok)); then
	show qemu
	echo "(QEMU is the reference: the program or its expectations are wrong, not osio)"
	exit 1
fi

# What osio run must offer for this test.
needs=(run)
[[ -n $media ]] && needs+=(--firmware --boot)
[[ $media == *.iso ]] && needs+=(--dvd)
[[ $media == *.img ]] && needs+=(--disk)
((screenshot)) && needs+=(--screenshot)
((screen_text)) && needs+=(--screen-text)
((timed)) && needs+=(--after --timeout)
help=$("$osio" run --help 2>&1) || help=''
for opt in "${needs[@]}"; do
	if [[ -z $help ]] || { [[ $opt != run ]] && ! grep -q -- "$opt\b" <<<"$help"; }; then
		show qemu
		if [[ $opt == run ]]; then
			echo "SKIP: '$osio' has no working 'run' command yet; QEMU side passed"
		else
			echo "SKIP: '$osio run' has no $opt option yet; QEMU side passed"
		fi
		exit 77
	fi
done
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
	show qemu
	echo "SKIP: /dev/kvm is missing or not readable and writable by $(id -un); QEMU side passed"
	exit 77
fi

run osio
osio_rc=$?
failed=0
verdict osio "$osio_rc" || failed=1
after osio || failed=1
if ((screenshot)); then
	if [[ ! -s $outdir/osio.png ]]; then
		echo "FAIL: osio saved no screenshot"
		failed=1
	elif "$imgcmp" "$outdir/qemu.ppm" "$outdir/osio.png" "${cmp_args[@]}" \
		--diff "$outdir/screen-diff.ppm" >"$outdir/imgcmp.out" 2>&1; then
		echo "ok: $(tail -n1 "$outdir/imgcmp.out")"
	else
		echo "FAIL: the screenshots differ (QEMU first; differences in red in screen-diff.ppm):"
		cat "$outdir/imgcmp.out"
		failed=1
	fi
fi
if ((screen_text)) && [[ -s $outdir/qemu.screen.txt && -s $outdir/osio.screen.txt ]]; then
	if diff -u --label "qemu screen" --label "osio screen" "$outdir/qemu.screen.txt" \
		"$outdir/osio.screen.txt" >"$outdir/screen.diff"; then
		echo "ok: the text screens are identical"
	else
		echo "FAIL: the text screens differ ('-' QEMU, '+' osio):"
		cat "$outdir/screen.diff"
		failed=1
	fi
fi

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
