#!/usr/bin/env bash
# ctest disk/crash-FORMAT-BUS: the guest program crashrec writes numbered records with a flush
# after each group and prints "acked G" once group G's flush completed; this script SIGKILLs osio
# at a random moment, then requires that QEMU can recover a copy of the image (qemu-img check
# -r leaks: a VHDX log replayed, no corruption) and reads every record of every acknowledged group
# intact, and that osio opens the image itself (read-write: logs replayed), its check and then
# qemu-img check find no corruption, and the records read back intact through osio and QEMU.
# Many rounds on one image, each with its own seed-derived layout and kill time.
set -euo pipefail

me=crash
usage() {
	cat <<'EOF'
usage: crash.sh --osio BIN --check BIN --guest ELF --format vhdx|qcow2|vhd|raw --bus ide|virtio
                --workdir DIR [--rounds N] [--budget S] [--seed N]
  --rounds N   at most N kill rounds (default 12)
  --budget S   start no new round after S seconds (default 40; ctest gives 12)
  --seed N     the seed of everything random (default: $CRASH_SEED, else the clock); printed
EOF
}
osio='' check='' guest='' format='' bus='' work='' rounds=12 budget=40 seed=${CRASH_SEED-}
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--check) check=${2-}; shift 2 ;;
	--guest) guest=${2-}; shift 2 ;;
	--format) format=${2-}; shift 2 ;;
	--bus) bus=${2-}; shift 2 ;;
	--workdir) work=${2-}; shift 2 ;;
	--rounds) rounds=${2-}; shift 2 ;;
	--budget) budget=${2-}; shift 2 ;;
	--seed) seed=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
fail_usage() { usage >&2; echo "$me: $*" >&2; exit 2; }
[[ -x $osio && -x $check ]] || fail_usage "--osio and --check must name the built programs"
[[ -r $guest ]] || fail_usage "no guest program '$guest'"
[[ $format =~ ^(vhdx|qcow2|vhd|raw)$ ]] || fail_usage "--format vhdx, qcow2, vhd or raw"
[[ $bus == ide || $bus == virtio ]] || fail_usage "--bus ide or virtio"
[[ -n $work ]] || fail_usage "--workdir DIR is required"
[[ $rounds =~ ^[1-9][0-9]*$ && $budget =~ ^[1-9][0-9]*$ ]] ||
	fail_usage "--rounds and --budget take numbers"
[[ -z $seed ]] && seed=$(($(date +%s%N) / 1000 % 1000000000))
[[ $seed =~ ^[0-9]+$ ]] || fail_usage "--seed must be a number"
command -v qemu-img >/dev/null || { echo "FAIL: qemu-img not found (Debian: qemu-utils)"; exit 1; }

rm -rf "$work"
mkdir -p "$work"
img=$work/disk.$format
qfmt=$format
[[ $format == vhd ]] && qfmt=vpc
echo "$me: $format on $bus, seed $seed (repeat with CRASH_SEED=$seed)," \
	"up to $rounds rounds in ${budget}s"
RANDOM=$((seed % 32768))
rnd() { echo $(((RANDOM << 15 | RANDOM) % $1)); } # 0 .. n-1

# A fresh image, made by osio (odd seeds) or by qemu-img (even seeds): each must survive the
# other implementation's recovery.
if ((seed % 2)); then
	maker="osio disk create"
	"$osio" disk create "$img" --size 1G --format "$format" >/dev/null ||
		{ echo "FAIL: osio disk create $img failed"; exit 1; }
else
	maker="qemu-img create"
	qemu-img create -q -f "$qfmt" "$img" 1G
fi
echo "$me: the image: $maker $img (1 GiB, dynamic)"

vm_pid=''
cleanup() { [[ -n $vm_pid ]] && kill -9 "$vm_pid" 2>/dev/null; true; }
trap cleanup EXIT

fail() {
	echo "FAIL: round $round (seed $seed, format $format, bus $bus): $*"
	echo "--- guest output (last lines of $out):"
	tail -n 8 "$out" | tr -d '\r'
	[[ -s $work/vm.err ]] && { echo "--- osio messages:"; tail -n 8 "$work/vm.err"; }
	exit 1
}

# acked FILE: how many groups were acknowledged (complete "acked G" lines only)
acked() {
	local text last
	text=$(tr -d '\r' <"$1")
	# A last line without its newline may be cut short: it does not count.
	[[ -s $1 && $(tail -c 1 "$1" | od -An -c | tr -d ' ') != '\n' ]] && text=$(sed '$d' <<<"$text")
	last=$(grep -E '^acked [0-9]+$' <<<"$text" | tail -n 1 | cut -d' ' -f2)
	echo $((${last:--1} + 1))
}

# qemu_reads IMAGE NOUN WHO: QEMU converts IMAGE to raw and reads every acknowledged record in
# it intact (NOUN names the image, WHO the reader in the failure messages).
qemu_reads() {
	rm -f "$work/disk.raw"
	qemu-img convert -f "$qfmt" -O raw "$1" "$work/disk.raw" ||
		fail "qemu-img cannot read $2; $what"
	if ! "$check" --format raw --readonly "${layout[@]}" --groups "$groups" "$work/disk.raw" \
		>"$work/qread.out" 2>&1; then
		cat "$work/qread.out"
		fail "$3 reads damaged records; $what"
	fi
	rm -f "$work/disk.raw"
}

start_s=$SECONDS
total_acked=0 round=0 kills=0
while ((round < rounds && SECONDS - start_s < budget)); do
	round=$((round + 1))
	# Records of 1 or 2 sectors (an emulating KVM runs the guest's pattern code at about 1 us
	# per instruction); strides that put records in new qcow2 clusters (64 KiB) and now and
	# then in new VHDX blocks, or several into one cluster.
	strides=(136 1032 4104 24)
	recs=(1 2 1 2)
	r_seed=$(rnd 1000000000)
	stride=${strides[$(rnd 4)]}
	rec=${recs[$(rnd 4)]}
	((rec <= stride)) || rec=1
	group=$((1 + $(rnd 8)))
	start=$((2048 + $(rnd 4096) * 8))
	kill_ms=$((50 + $(rnd 1500)))
	layout=(--seed "$r_seed" --start "$start" --stride "$stride" --rec "$rec" --group "$group")
	args="seed=$r_seed bus=$bus start=$start stride=$stride rec=$rec group=$group"
	out=$work/round$round.out
	"$osio" run -q --kernel "$guest" --append "$args" --memory 64M --vnc none \
		--disk "$img,bus=$bus,format=$format" --on-reboot exit </dev/null >"$out" \
		2>"$work/vm.err" &
	vm_pid=$!
	# The kill time counts from the guest's first line about its disk.
	deadline=$((SECONDS + 30))
	until grep -q '^crashrec: seed' "$out" 2>/dev/null; do
		kill -0 "$vm_pid" 2>/dev/null || break
		((SECONDS < deadline)) || fail "the guest did not start writing within 30 s"
		sleep 0.02
	done
	sleep "$(awk -v ms="$kill_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
	killed=0
	if kill -9 "$vm_pid" 2>/dev/null; then killed=1; kills=$((kills + 1)); fi
	wait "$vm_pid" 2>/dev/null || true
	vm_pid=''
	grep -q '^FAIL' "$out" && fail "the guest reported a failure before the kill"
	if ((!killed)) && ! grep -q '^RESULT: PASS' <(tr -d '\r' <"$out"); then
		fail "osio ended before the kill without RESULT: PASS"
	fi
	groups=$(acked "$out")
	total_acked=$((total_acked + groups))
	what="round $round: $args, killed after ${kill_ms} ms: $groups groups acknowledged"
	((killed)) || what="round $round: $args, finished before the kill: $groups groups"

	# QEMU recovers the crashed image too, on a copy: it opens it read-write (replaying a VHDX
	# log that osio wrote; repairing leaks only, never corruption) and reads the records.
	rm -f "$work/copy" "$work/disk.raw"
	cp --sparse=always "$img" "$work/copy"
	# A qcow2 dirty bit says "refcounts may be stale: rebuild them before use" (the spec; QEMU
	# does it when a VM opens such an image): then -r all is the recovery, else leaks only.
	repair=leaks
	qemu-img info --output=json -f "$qfmt" "$work/copy" 2>/dev/null |
		grep -q '"dirty-flag": true' && repair=all
	set +e
	qemu-img check -r $repair -f "$qfmt" "$work/copy" >"$work/qcopy.out" 2>&1
	st=$?
	set -e
	if [[ $st != 0 && $st != 3 ]]; then
		cat "$work/qcopy.out"
		fail "QEMU cannot recover the image osio left (qemu-img check -r $repair: status $st); $what"
	fi
	qemu_reads "$work/copy" "the image osio left" "QEMU, recovering the image itself,"
	rm -f "$work/copy"

	# osio opens it read-write (replays the VHDX log / repairs a dirty qcow2), checks the
	# metadata and reads the records.
	if ! "$check" --format "$format" --check "${layout[@]}" --groups "$groups" "$img" \
		>"$work/check.out" 2>&1; then
		cat "$work/check.out"
		fail "osio: $what; the image is not intact"
	fi
	# QEMU's view: its check, then its reading of the records.
	set +e
	qemu-img check -f "$qfmt" "$img" >"$work/qcheck.out" 2>&1
	st=$?
	set -e
	case $st in
	0) qnote='' ;;
	3) qnote=" (qemu-img check: leaked clusters only, harmless after a crash)" ;;
	*)
		cat "$work/qcheck.out"
		fail "qemu-img check exit status $st after osio opened the image; $what"
		;;
	esac
	qemu_reads "$img" "the image" "QEMU"
	echo "ok: $what; intact as osio and QEMU recover and read them$qnote"
done
echo "PASS: $round rounds ($kills killed), $total_acked acknowledged groups checked, seed $seed"
