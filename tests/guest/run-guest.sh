#!/bin/bash
# Runs one guest test program in osio or in QEMU TCG: prints the guest's serial
# output on stdout and exits with the status the guest wrote to port 0xf4.
set -u

usage() {
	cat <<'EOF'
usage: run-guest.sh --vmm osio|qemu --kernel ELF [options]

  --vmm osio|qemu    which VMM runs the guest
  --osio PATH        the osio binary (default: $OSIO, else osio on PATH)
  --kernel ELF       the multiboot test program
  --memory SIZE      guest RAM, e.g. 128M or 5G (default 128M)
  --cpus N           vCPUs (default 1)
  --append "ARGS"    guest arguments; mem=, cpus= and now= (Unix time) are
                     added from the options above unless ARGS has them
  --input FILE       guest input: line k of FILE goes to COM1 after the
                     guest has printed k lines starting with "input:"
  --allow-reset      let the guest reset the VM (QEMU runs without -no-reboot,
                     osio with its default --on-reboot reset); without it a
                     reset ends the VMM
  --powers-off       the guest ends by powering the VM off (ACPI S5), not by a
                     debug-exit write: a VMM that ends normally gives status 0
  --timeout S        kill the VMM after S seconds (default 60)

Exit status: the guest's debug-exit status (QEMU's (V << 1) | 1 mapped back
to V); 125 when the VMM failed, hung or ended without a debug-exit write
(unless --powers-off).
EOF
}

die() {
	echo "run-guest: $*" >&2
	exit 125
}

vmm='' osio=${OSIO:-osio} kernel='' memory=128M cpus=1 append='' input='' timeout=60 allow_reset=0
powers_off=0
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--memory) memory=${2-}; shift 2 ;;
	--cpus) cpus=${2-}; shift 2 ;;
	--append) append=${2-}; shift 2 ;;
	--input) input=${2-}; shift 2 ;;
	--timeout) timeout=${2-}; shift 2 ;;
	--allow-reset) allow_reset=1; shift ;;
	--powers-off) powers_off=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1' (see --help above)" ;;
	esac
done

[[ $vmm == osio || $vmm == qemu ]] || die "--vmm must be osio or qemu (got '${vmm}')"
[[ -n $kernel ]] || die "--kernel ELF is required"
[[ -r $kernel ]] || die "cannot read the kernel '$kernel': build it first (cmake --build BUILD)"
[[ -z $input || -r $input ]] || die "cannot read the input file '$input'"
[[ $memory =~ ^[0-9]+[KMGT]?$ ]] || die "--memory '$memory' is not a size like 128M or 5G"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus '$cpus' is not a positive number"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout' is not a number of seconds"

# The arguments every program checks itself against.
args=$append
has_arg() { [[ " $args " == *" $1="* ]]; }
has_arg now || args="now=$(date +%s) $args"
has_arg cpus || args="cpus=$cpus $args"
has_arg mem || args="mem=$memory $args"
args=${args% }

case $vmm in
qemu)
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found: install the Debian package qemu-system-x86"
	cmd=(qemu-system-x86_64 -accel tcg -M pc -m "$memory" -smp "$cpus"
		-kernel "$kernel" -append "$args" -nodefaults -display none
		-serial stdio -device 'isa-debug-exit,iobase=0xf4,iosize=0x04')
	((allow_reset)) || cmd+=(-no-reboot)
	;;
osio)
	command -v "$osio" >/dev/null || die "osio binary '$osio' not found: pass --osio PATH"
	cmd=("$osio" run --kernel "$kernel" --append "$args" --memory "$memory" --cpus "$cpus")
	((allow_reset)) || cmd+=(--on-reboot exit)
	;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-guest.XXXXXX") || die "mktemp failed"
vmm_pid=
cleanup() {
	[[ -n $vmm_pid ]] && kill "$vmm_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 125' INT TERM
# Writing input after the VMM died must not kill this script.
trap '' PIPE

stdin=/dev/null
if [[ -n $input ]]; then
	mkfifo "$tmp/in" || die "mkfifo failed"
	stdin=$tmp/in
fi

timeout -k 5 "$timeout" "${cmd[@]}" <"$stdin" >"$tmp/out" 2>"$tmp/err" &
vmm_pid=$!

if [[ -n $input ]]; then
	# Opening the write end lets the VMM's open of the read end finish.
	exec 3>"$tmp/in"
	mapfile -t lines <"$input"
	fed=0
	while ((fed < ${#lines[@]})) && kill -0 "$vmm_pid" 2>/dev/null; do
		asked=$(grep -c '^input:' "$tmp/out")
		while ((fed < asked && fed < ${#lines[@]})); do
			printf '%s\n' "${lines[fed]}" >&3
			fed=$((fed + 1))
		done
		((fed < ${#lines[@]})) && sleep 0.1
	done
	# End of input (the VMM keeps running; its COM1 just gets no more).
	exec 3>&-
fi

wait "$vmm_pid"
rc=$?
vmm_pid=

tr -d '\r' <"$tmp/out"
# The VMM's own messages, for the reader.
sed "s/^/[$vmm] /" "$tmp/err" >&2

if ((rc == 124 || rc == 137)); then
	die "$vmm did not finish within $timeout s and was killed (guest hung, or the VMM did)"
fi

case $vmm in
qemu)
	# QEMU exits with (V << 1) | 1 for a debug-exit write of V, with 0 when
	# the guest reset (under -no-reboot) or powered off, and with 1 on its
	# own errors, which also reads as V = 0: tell them apart by its message.
	if ((rc == 0)); then
		((powers_off)) && exit 0
		die "QEMU ended without a debug-exit write (the guest reset, triple-faulted or powered off)"
	fi
	if ((rc == 1)) && grep -v 'warning:' "$tmp/err" | grep -q '^qemu-system-x86_64:'; then
		die "QEMU failed (its message is above)"
	fi
	((rc & 1)) || die "QEMU exited with status $rc, which no debug-exit write gives"
	exit $((rc >> 1))
	;;
osio)
	((rc < 128)) || die "osio was killed by signal $((rc - 128))"
	exit "$rc"
	;;
esac
