#!/bin/bash
# Runs one guest test program in osio or in QEMU TCG: prints the guest's serial
# output on stdout and exits with the status the guest wrote to port 0xf4.
set -u

usage() {
	cat <<'EOF'
usage: run-guest.sh --vmm osio|qemu (--kernel ELF | --dvd ISO | --disk IMG) [options]

  --vmm osio|qemu    which VMM runs the guest
  --osio PATH        the osio binary (default: $OSIO, else osio on PATH)
  --kernel ELF       the multiboot test program
  --dvd ISO          a DVD drive with ISO in it at the secondary master (IDE
                     1:0, or the first free position after the disks, as osio
                     places it); --dvd '' for an empty drive. Without --kernel
                     SeaBIOS boots from it; with --kernel the program boots
                     directly and finds the disc in the drive
  --disk IMG[,OPT..] a hard disk (written to unless readonly); repeat for more.
                     OPT: bus=ide (default) or bus=virtio, format=F (raw,
                     vhdx, vhd, qcow2; default raw for QEMU, recognized by
                     osio), readonly, serial=TEXT (default RGDISKn for both
                     VMMs), queues=N (virtio). IDE disks take the positions
                     osio gives them (0:0, 0:1, ...; a DVD 1:0 when free),
                     virtio disks PCI slots 3, 4, ... in order. Without
                     --kernel SeaBIOS boots from them.
  --rng              a virtio-rng device (PCI slot after the virtio disks)
  --nic MODEL[,switch=NAME][,mac=MAC][,forward=SPEC]...
                     a network adapter (repeat for more; PCI slots after the
                     virtio disks and the rng). MODEL: e1000 or virtio.
                     switch: "default" (the NAT switch, the default) or the
                     name of a private switch (QEMU: a multicast socket hub,
                     230.0.0.1 port 20000 + cksum(NAME) % 10000; osio: the
                     switch NAME as the store defines it, created there as a
                     private switch if missing). mac:
                     default 52:54:00:12:34:5N for adapter N. forward (NAT
                     only, repeatable): PROTO:HOSTADDR:PORT->GUESTPORT, e.g.
                     udp:127.0.0.1:5555->5555 (host address 127.0.0.1 when
                     omitted). osio runs with $OSIO_STORE_DIR and
                     $OSIO_RUNTIME_DIR, or fresh ones in the work directory
                     when they are not set
  --boot ORDER       dvd, disk, dvd,disk or disk,dvd (default: dvd if there is
                     one, else disk)
  --screenshot FILE  when the guest prints a line starting with "screen: ready",
                     save the VGA screen (osio: PNG at exit; QEMU: PPM through
                     its monitor), then send a newline to COM1
  --screen-text FILE the same moment: the text-mode screen as lines (trailing
                     spaces trimmed)
  --capture-at S     take the screenshot/text S seconds after the start instead
                     (for software that does not talk to COM1: GRUB, isolinux),
                     then end the VMM; status 0 if it was still running then
  --wait-text TEXT   with --capture-at and QEMU: capture as soon as the text
                     screen shows TEXT (polled every 2 s), at S at the latest
  --memory SIZE      guest RAM, e.g. 128M or 5G (default 128M)
  --cpus N           vCPUs (default 1)
  --append "ARGS"    guest arguments (--kernel only); mem=, cpus= and now=
                     (Unix time) are added from the options above unless ARGS
                     has them
  --input FILE       guest input: line k of FILE goes to COM1 after the
                     guest has printed k lines starting with "input:"
  --allow-reset      let the guest reset the VM (QEMU runs without -no-reboot,
                     osio with its default --on-reboot reset); without it a
                     reset ends the VMM
  --powers-off       the guest ends by powering the VM off (ACPI S5), not by a
                     debug-exit write: a VMM that ends normally gives status 0
  --timeout S        kill the VMM after S seconds (default 60)
  --live-output FILE the guest's serial output goes to FILE as it arrives
                     (for a caller that acts on what the guest prints while it
                     runs); it is still printed on stdout at the end
  --accel tcg|kvm    QEMU's accelerator (default tcg, the reference)

Exit status: the guest's debug-exit status (QEMU's (V << 1) | 1 mapped back
to V); 125 when the VMM failed, hung or ended without a debug-exit write
(unless --powers-off). KEEP_TMP=1 in the environment keeps the work
directory (FIFOs, QEMU's monitor log) for debugging.
EOF
}

die() {
	echo "run-guest: $*" >&2
	exit 125
}

vmm='' osio=${OSIO:-osio} kernel='' memory=128M cpus=1 append='' input='' timeout=60 allow_reset=0
powers_off=0 dvd='' dvd_set=0 boot='' rng=0 screenshot='' screen_text='' accel=tcg capture_at=''
wait_text='' live=''
disks=() nics=()
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--kernel) kernel=${2-}; shift 2 ;;
	--dvd) dvd=${2-}; dvd_set=1; shift 2 ;;
	--disk) disks+=("${2-}"); shift 2 ;;
	--rng) rng=1; shift ;;
	--nic) nics+=("${2-}"); shift 2 ;;
	--live-output) live=${2-}; shift 2 ;;
	--boot) boot=${2-}; shift 2 ;;
	--screenshot) screenshot=${2-}; shift 2 ;;
	--screen-text) screen_text=${2-}; shift 2 ;;
	--memory) memory=${2-}; shift 2 ;;
	--cpus) cpus=${2-}; shift 2 ;;
	--append) append=${2-}; shift 2 ;;
	--input) input=${2-}; shift 2 ;;
	--timeout) timeout=${2-}; shift 2 ;;
	--accel) accel=${2-}; shift 2 ;;
	--capture-at) capture_at=${2-}; shift 2 ;;
	--wait-text) wait_text=${2-}; shift 2 ;;
	--allow-reset) allow_reset=1; shift ;;
	--powers-off) powers_off=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1' (see --help above)" ;;
	esac
done

[[ $vmm == osio || $vmm == qemu ]] || die "--vmm must be osio or qemu (got '${vmm}')"
[[ -n $kernel || -n $dvd || ${#disks[@]} -gt 0 ]] || die "--kernel ELF, --dvd ISO or --disk IMG is required"
[[ -z $kernel || -r $kernel ]] || die "cannot read the kernel '$kernel': build it first (cmake --build BUILD)"
[[ -z $dvd || -r $dvd ]] || die "cannot read the DVD image '$dvd': build it first (cmake --build BUILD)"

# The disks: file, bus, format, readonly, serial and queues of each, and
# where each VMM puts it (IDE index 0-3 as osio places drives, or PCI slot).
d_file=() d_bus=() d_format=() d_ro=() d_serial=() d_queues=() d_where=()
ide_used=(0 0 0 0) slot=3
for i in "${!disks[@]}"; do
	IFS=, read -r -a parts <<<"${disks[i]}"
	file=${parts[0]} bus=ide format='' ro=0 serial="RGDISK$i" queues=''
	for opt in "${parts[@]:1}"; do
		case $opt in
		bus=ide | bus=virtio) bus=${opt#bus=} ;;
		format=raw | format=vhdx | format=vhd | format=qcow2) format=${opt#format=} ;;
		readonly) ro=1 ;;
		serial=?*) serial=${opt#serial=} ;;
		queues=[1-9]*) queues=${opt#queues=} ;;
		*) die "--disk ${disks[i]}: unknown or bad option '$opt' (bus=ide|virtio, format=raw|vhdx|vhd|qcow2, readonly, serial=TEXT, queues=N)" ;;
		esac
	done
	[[ -n $file ]] || die "--disk '${disks[i]}': no image file"
	if ((ro)); then
		[[ -r $file ]] || die "cannot read the disk image '$file'"
	else
		[[ -w $file ]] || die "cannot write the disk image '$file' (the guest may write it)"
	fi
	if [[ $bus == ide ]]; then
		where=-1
		for p in 0 1 2 3; do
			((ide_used[p])) && continue
			where=$p
			break
		done
		((where >= 0)) || die "--disk: a fifth IDE drive (IDE holds four)"
		ide_used[where]=1
	else
		where=$slot
		slot=$((slot + 1))
	fi
	d_file+=("$file") d_bus+=("$bus") d_format+=("$format") d_ro+=("$ro")
	d_serial+=("$serial") d_queues+=("$queues") d_where+=("$where")
done
# A lone DVD drive: 1:0 when free, as osio places it.
dvd_index=2
if ((dvd_set && ide_used[2])); then
	for p in 3 0 1; do ((ide_used[p])) || { dvd_index=$p; break; }; done
	((ide_used[dvd_index])) && die "--dvd: IDE is full"
fi
rng_slot=$slot
((rng)) && slot=$((slot + 1))

# The network adapters: model, switch, MAC, forwards (";"-separated, as
# PROTO HOSTADDR HOSTPORT GUESTPORT) and PCI slot of each.
n_model=() n_switch=() n_mac=() n_fwd=() n_slot=()
((${#nics[@]} <= 8)) || die "--nic: at most 8 adapters (a VM holds 8)"
for i in "${!nics[@]}"; do
	IFS=, read -r -a parts <<<"${nics[i]}"
	model=${parts[0]} sw=default mac=$(printf '52:54:00:12:34:5%x' "$i") fwd=''
	[[ $model == e1000 || $model == virtio ]] ||
		die "--nic ${nics[i]}: the model must be e1000 or virtio (got '$model')"
	for opt in "${parts[@]:1}"; do
		case $opt in
		switch=?*) sw=${opt#switch=} ;;
		mac=?*) mac=${opt#mac=} ;;
		forward=?*)
			spec=${opt#forward=}
			spec=${spec// /}
			re='^(tcp|udp):(([0-9.]*):)?([0-9]+)->([0-9]+)$'
			[[ $spec =~ $re ]] || die "--nic ${nics[i]}: bad forward '${opt#forward=}' (PROTO:HOSTADDR:PORT->GUESTPORT, e.g. udp:127.0.0.1:5555->5555)"
			fwd+="${BASH_REMATCH[1]} ${BASH_REMATCH[3]:-127.0.0.1} ${BASH_REMATCH[4]} ${BASH_REMATCH[5]};"
			;;
		*) die "--nic ${nics[i]}: unknown or bad option '$opt' (switch=NAME, mac=MAC, forward=SPEC)" ;;
		esac
	done
	[[ $mac =~ ^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$ ]] ||
		die "--nic ${nics[i]}: bad MAC address '$mac' (six hex pairs: 52:54:00:12:34:56)"
	[[ $sw =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
		die "--nic ${nics[i]}: bad switch name '$sw' (letters, digits, '.', '_', '-')"
	[[ -z $fwd || $sw == default ]] ||
		die "--nic ${nics[i]}: forwards need the NAT switch (switch=default), not '$sw'"
	n_model+=("$model") n_switch+=("$sw") n_mac+=("$mac") n_fwd+=("$fwd") n_slot+=("$slot")
	slot=$((slot + 1))
done
if [[ -z $boot ]]; then
	boot=disk
	((dvd_set)) && boot=dvd
fi
[[ $boot =~ ^(dvd|disk|dvd,disk|disk,dvd)$ ]] || die "--boot '$boot' is not dvd, disk, dvd,disk or disk,dvd"
capture=0
[[ -n $screenshot || -n $screen_text ]] && capture=1
[[ -z $input || -r $input ]] || die "cannot read the input file '$input'"
[[ $memory =~ ^[0-9]+[KMGT]?$ ]] || die "--memory '$memory' is not a size like 128M or 5G"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || die "--cpus '$cpus' is not a positive number"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout '$timeout' is not a number of seconds"
[[ $accel == tcg || $accel == kvm ]] || die "--accel must be tcg or kvm (got '$accel')"
[[ -z $capture_at || $capture_at =~ ^[1-9][0-9]*$ ]] ||
	die "--capture-at '$capture_at' is not a number of seconds"
[[ -z $capture_at || $capture_at -lt $timeout ]] || die "--capture-at must come before --timeout"

# The arguments every program checks itself against.
args=$append
has_arg() { [[ " $args " == *" $1="* ]]; }
has_arg now || args="now=$(date +%s) $args"
has_arg cpus || args="cpus=$cpus $args"
has_arg mem || args="mem=$memory $args"
args=${args% }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-guest.XXXXXX") || die "mktemp failed"
vmm_pid='' mon_pid=''
cleanup() {
	[[ -n $vmm_pid ]] && kill "$vmm_pid" 2>/dev/null
	[[ -n $mon_pid ]] && kill "$mon_pid" 2>/dev/null
	[[ -n ${KEEP_TMP-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 125' INT TERM
# Writing input after the VMM died must not kill this script.
trap '' PIPE

# One machine UUID for both VMMs: the firmware prints it on the screen.
uuid=6f73696f-7465-7374-8000-000000000001

case $vmm in
qemu)
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found: install the Debian package qemu-system-x86"
	cmd=(qemu-system-x86_64 -accel "$accel" -M pc -m "$memory" -smp "$cpus" -uuid "$uuid" -nodefaults
		-display none -serial stdio -device 'isa-debug-exit,iobase=0xf4,iosize=0x04')
	# The standard VGA at 00:02.0, as osio's board always has.
	cmd+=(-vga std)
	if [[ -n $kernel ]]; then
		cmd+=(-kernel "$kernel" -append "$args")
	else
		# SeaBIOS: QEMU's own copy of Debian's bios-256k.bin.
		order=${boot//dvd/d}
		order=${order//disk/c}
		cmd+=(-boot "order=${order//,/}")
	fi
	if ((dvd_set)); then
		drive="if=ide,index=$dvd_index,media=cdrom"
		[[ -n $dvd ]] && drive+=",format=raw,file=$dvd"
		cmd+=(-drive "$drive")
	fi
	for i in "${!d_file[@]}"; do
		qfmt=${d_format[i]:-raw}
		[[ $qfmt == vhd ]] && qfmt=vpc # QEMU's name for VHD
		drive="file=${d_file[i]},format=$qfmt,if=none,id=d$i"
		((d_ro[i])) && drive+=",readonly=on"
		cmd+=(-drive "$drive")
		if [[ ${d_bus[i]} == ide ]]; then
			cmd+=(-device "ide-hd,drive=d$i,bus=ide.$((d_where[i] / 2)),unit=$((d_where[i] % 2)),serial=${d_serial[i]}")
		else
			dev="virtio-blk-pci,drive=d$i,addr=$(printf '0x%x' "${d_where[i]}"),serial=${d_serial[i]}"
			[[ -n ${d_queues[i]} ]] && dev+=",num-queues=${d_queues[i]}"
			cmd+=(-device "$dev")
		fi
	done
	((rng)) && cmd+=(-device "virtio-rng-pci,addr=$(printf '0x%x' "$rng_slot")")
	for i in "${!n_model[@]}"; do
		if [[ ${n_switch[i]} == default ]]; then
			netdev="user,id=n$i"
			IFS=';' read -r -a fwds <<<"${n_fwd[i]}"
			for f in "${fwds[@]}"; do
				read -r proto haddr hport gport <<<"$f"
				netdev+=",hostfwd=$proto:$haddr:$hport-:$gport"
			done
		else
			# A private switch: QEMU's multicast socket hub, one group port per name.
			sum=$(printf '%s' "${n_switch[i]}" | cksum)
			netdev="socket,id=n$i,mcast=230.0.0.1:$((20000 + ${sum%% *} % 10000)),localaddr=127.0.0.1"
		fi
		dev=e1000
		[[ ${n_model[i]} == virtio ]] && dev=virtio-net-pci
		# No option ROM: osio hands one to the firmware only for network boot.
		cmd+=(-netdev "$netdev" -device "$dev,netdev=n$i,mac=${n_mac[i]},romfile=,addr=$(printf '0x%x' "${n_slot[i]}")")
	done
	if ((capture)); then
		# The monitor on a pair of FIFOs: screendump and pmemsave at the right moment.
		mkfifo "$tmp/mon.in" "$tmp/mon.out" || die "mkfifo failed"
		cmd+=(-monitor "pipe:$tmp/mon")
	fi
	((allow_reset)) || cmd+=(-no-reboot)
	;;
osio)
	command -v "$osio" >/dev/null || die "osio binary '$osio' not found: pass --osio PATH"
	cmd=("$osio" run --memory "$memory" --cpus "$cpus" --uuid "$uuid")
	if [[ -n $kernel ]]; then
		cmd+=(--kernel "$kernel" --append "$args")
	else
		cmd+=(--firmware bios --boot "$boot")
	fi
	((dvd_set)) && cmd+=(--dvd "$dvd")
	# osio places them as computed above: IDE disks first, in order.
	for i in "${!d_file[@]}"; do
		arg="${d_file[i]},bus=${d_bus[i]},serial=${d_serial[i]}"
		[[ -n ${d_format[i]} ]] && arg+=",format=${d_format[i]}"
		((d_ro[i])) && arg+=",readonly"
		[[ -n ${d_queues[i]} ]] && arg+=",queues=${d_queues[i]}"
		cmd+=(--disk "$arg")
	done
	((rng)) && cmd+=(--rng)
	if ((${#n_model[@]})); then
		# The switches live in the VM store; the private ones meet in the runtime directory.
		export OSIO_STORE_DIR=${OSIO_STORE_DIR:-$tmp/store}
		export OSIO_RUNTIME_DIR=${OSIO_RUNTIME_DIR:-$tmp/run}
		# osio wants its runtime directory private (mode 0700).
		(umask 077 && mkdir -p "$OSIO_STORE_DIR" "$OSIO_RUNTIME_DIR") ||
			die "cannot create the osio store directories"
	fi
	for i in "${!n_model[@]}"; do
		sw=${n_switch[i]}
		if [[ $sw != default ]] && ! "$osio" switch list 2>/dev/null | grep -qwF -- "$sw"; then
			"$osio" switch create "$sw" --type private >"$tmp/switch.log" 2>&1 ||
				"$osio" switch list 2>/dev/null | grep -qwF -- "$sw" ||
				die "osio switch create $sw --type private failed: $(cat "$tmp/switch.log")"
		fi
		arg="${n_model[i]},switch=$sw,mac=${n_mac[i]}"
		IFS=';' read -r -a fwds <<<"${n_fwd[i]}"
		for f in "${fwds[@]}"; do
			read -r proto haddr hport gport <<<"$f"
			arg+=",forward=$proto:$haddr:$hport->$gport"
		done
		cmd+=(--nic "$arg")
	done
	after=()
	[[ -n $capture_at ]] && after=(--after "${capture_at}s")
	[[ -n $screenshot ]] && cmd+=(--screenshot "$screenshot" "${after[@]}")
	[[ -n $screen_text ]] && cmd+=(--screen-text "$screen_text" "${after[@]}")
	# Ends by itself (status 124) a little after the capture.
	[[ -n $capture_at ]] && cmd+=(--timeout "$((capture_at + 5))s")
	((allow_reset)) || cmd+=(--on-reboot exit)
	;;
esac

out=$tmp/out
if [[ -n $live ]]; then
	out=$live
	: >"$out" || die "cannot write the output file '$live'"
fi
stdin=/dev/null
if [[ -n $input ]] || ((capture)); then
	mkfifo "$tmp/in" || die "mkfifo failed"
	stdin=$tmp/in
fi

timeout -k 5 "$timeout" "${cmd[@]}" <"$stdin" >"$out" 2>"$tmp/err" &
vmm_pid=$!

if [[ $vmm == qemu ]] && ((capture)); then
	# QEMU opens both FIFOs read-write, so neither open here can block.
	exec 4<>"$tmp/mon.in"
	cat <>"$tmp/mon.out" >"$tmp/mon.log" &
	mon_pid=$!
fi

# monitor CMD: runs a QEMU monitor command and waits (up to 30 s) for its prompt to come back.
monitor() {
	local before after deadline=$((SECONDS + 30))
	before=$(grep -o '(qemu)' "$tmp/mon.log" | wc -l)
	printf '%s\n' "$1" >&4
	while ((SECONDS < deadline)) && kill -0 "$vmm_pid" 2>/dev/null; do
		after=$(grep -o '(qemu)' "$tmp/mon.log" | wc -l)
		((after > before)) && return 0
		sleep 0.1
	done
	echo "run-guest: the QEMU monitor did not finish '$1'" >&2
	return 1
}

# text_screen RAW OUT: 80x25 characters out of the text buffer (character, attribute pairs),
# code page 437 written as ASCII the way osio's --screen-text does: box drawing as + - |,
# blocks as #, other symbols as ?, trailing spaces trimmed.
text_screen() {
	od -An -v -tu1 -w160 "$1" | LC_ALL=C awk '
	function ascii(c) {
		if (c >= 32 && c < 127) return sprintf("%c", c)
		if (c == 0 || c == 255) return " "
		if (c == 179 || c == 186) return "|"
		if (c == 196 || c == 205) return "-"
		if ((c >= 176 && c <= 178) || (c >= 219 && c <= 223)) return "#"
		if (c >= 180 && c <= 218) return "+"
		return "?"
	}
	{
		line = ""
		for (i = 1; i <= NF; i += 2)
			line = line ascii($i)
		sub(/ +$/, "", line)
		print line
	}' >"$2"
}

# capture: the screen while the guest waits, then a newline on COM1 to let it go on.
capture_screen() {
	if [[ $vmm == qemu ]]; then
		# Text first: pmemsave reads the text buffer through the VGA window.
		if [[ -n $screen_text ]]; then
			monitor "pmemsave 0xb8000 4000 \"$tmp/text.raw\"" && [[ -s $tmp/text.raw ]] &&
				text_screen "$tmp/text.raw" "$screen_text"
		fi
		if [[ -n $screenshot ]]; then
			monitor "screendump \"$tmp/screen.ppm\"" && [[ -s $tmp/screen.ppm ]] &&
				cp "$tmp/screen.ppm" "$screenshot"
		fi
	fi
	printf '\n' >&3
}

planned_end=0
if [[ -n $capture_at ]]; then
	# A timed capture: the guest says nothing, the screen is taken at a moment.
	exec 3>"$tmp/in"
	start=$SECONDS
	while kill -0 "$vmm_pid" 2>/dev/null && ((SECONDS - start < capture_at)); do
		sleep 2
		# osio takes its own pictures at --after and ends at its --timeout.
		[[ $vmm == qemu && -n $wait_text ]] || continue
		monitor "pmemsave 0xb8000 4000 \"$tmp/text.raw\"" && [[ -s $tmp/text.raw ]] || continue
		text_screen "$tmp/text.raw" "$tmp/text.now"
		grep -qF -- "$wait_text" "$tmp/text.now" && break
	done
	if kill -0 "$vmm_pid" 2>/dev/null; then
		planned_end=1
		if [[ $vmm == qemu ]]; then
			capture_screen
			printf 'quit\n' >&4
		fi
	fi
	exec 3>&-
elif [[ -n $input ]] || ((capture)); then
	# Opening the write end lets the VMM's open of the read end finish.
	exec 3>"$tmp/in"
	lines=()
	[[ -n $input ]] && mapfile -t lines <"$input"
	fed=0 captured=$((!capture))
	while ((fed < ${#lines[@]} || !captured)) && kill -0 "$vmm_pid" 2>/dev/null; do
		asked=$(grep -c '^input:' "$out")
		while ((fed < asked && fed < ${#lines[@]})); do
			printf '%s\n' "${lines[fed]}" >&3
			fed=$((fed + 1))
		done
		if ((!captured)) && grep -q '^screen: ready' "$out"; then
			capture_screen
			captured=1
		fi
		((fed < ${#lines[@]} || !captured)) && sleep 0.1
	done
	# End of input (the VMM keeps running; its COM1 just gets no more).
	exec 3>&-
fi

wait "$vmm_pid"
rc=$?
vmm_pid=

tr -d '\r' <"$out"
# The VMM's own messages, for the reader.
sed "s/^/[$vmm] /" "$tmp/err" >&2

if ((planned_end)); then
	# Ended on purpose after a timed capture (QEMU by 'quit', osio by its --timeout: 124).
	if [[ $vmm == qemu ]] || ((rc == 124)); then
		exit 0
	fi
	die "osio ended with status $rc after the timed capture (expected its --timeout, 124)"
fi
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
