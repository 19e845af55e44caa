#!/usr/bin/env bash
# ctest image/*: boots the osio workstation image (scripts/make-root-image.sh) in QEMU and checks
# that the osio console came up listing the demo VM, on the serial port and on the VGA screen.
# --medium dvd: osio-root.iso as a DVD; ide, virtio: osio-root.img as a disk, whose OSIO-STORE
# partition must hold the demo VM after the boot (read with debugfs, no mount); ide boots twice
# and checks that the second boot found the store of the first. --kvm none: a CPU without
# virtualization, the console must say "KVM is unavailable"; --kvm nested: a CPU with it (QEMU
# TCG emulates AMD SVM; hardware KVM with nested=1 is faster), the console must not say that, and
# demo started from the console must run. SKIP (exit 77) when the image has not been built.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: boot-qemu.sh --medium dvd|ide|virtio --kvm none|nested --outdir DIR [--image DIR]
                   [--timeout S]

  --medium M    dvd: boot osio-root.iso from an IDE DVD drive; ide, virtio: boot a copy of
                osio-root.img from a disk on that controller
  --kvm K       none: the image's CPU has no virtualization (VMX/SVM), so it has no KVM;
                nested: it has (hardware KVM with nested=1 here, else QEMU TCG's SVM)
  --outdir DIR  serial logs, VGA text screens and screenshots go there
  --image DIR   the folder with osio-root.iso and osio-root.img (default: build/root-image;
                $OSIO_ROOT_IMAGE, a folder or one of the two files, overrides it)
  --timeout S   seconds one boot may take to show the console (default 600)
EOF
}

me=boot-qemu
here=$(cd "$(dirname "$0")" && pwd)
medium='' kvm='' outdir='' image=$here/../../build/root-image timeout_s=600
while (($#)); do
	case $1 in
	--medium) medium=${2-}; shift 2 ;;
	--kvm) kvm=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--image) image=${2-}; shift 2 ;;
	--timeout) timeout_s=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
case $medium in
dvd | ide | virtio) ;;
*) usage >&2; echo "$me: --medium must be dvd, ide or virtio" >&2; exit 2 ;;
esac
case $kvm in
none | nested) ;;
*) usage >&2; echo "$me: --kvm must be none or nested" >&2; exit 2 ;;
esac
[ -n "$outdir" ] || { usage >&2; exit 2; }
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { echo "$me: --timeout '$timeout_s' is not seconds" >&2; exit 2; }

# shellcheck source=tests/image/lib.sh
. "$here/lib.sh"
image_find
for tool in qemu-system-x86_64 debugfs dumpe2fs sfdisk od; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool not found: install qemu-system-x86 e2fsprogs fdisk (scripts/install-deps.sh)"
		exit 1
	fi
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
rm -f "$outdir"/*.serial "$outdir"/*.txt "$outdir"/*.png "$outdir"/*.vga "$outdir"/*.err \
	"$outdir"/*.log "$outdir"/*.mon

# The image's CPU. Hardware KVM here (kvm_intel, kvm_amd) runs the image fast; for --kvm nested
# only if it offers nested virtualization. Otherwise QEMU TCG, whose qemu64 CPU has AMD SVM,
# which TCG emulates: KVM in the image works there, slowly.
hw=''
for m in kvm_intel kvm_amd; do
	[ -d /sys/module/$m ] && [ -w /dev/kvm ] && hw=$m
done
nested=''
if [ "$kvm" = none ]; then
	accel=(-accel tcg -cpu "qemu64,-svm")
	[ -z "$hw" ] || accel=(-accel kvm -cpu "host,-vmx,-svm")
	kvm_note="the image's CPU has no VMX or SVM"
else
	accel=(-accel tcg -cpu "qemu64,+svm") nested="QEMU TCG's SVM"
	if [ -n "$hw" ] && grep -qiE '^(1|y)' "/sys/module/$hw/parameters/nested" 2>/dev/null; then
		accel=(-accel kvm -cpu host) nested="$hw, nested"
	fi
	kvm_note="the image's CPU has virtualization ($nested)"
fi

fail() {
	echo "FAIL: $*"
	exit 1
}

# vga_text BIN: the 80x25 cells of a VGA text screen (pmemsave of 0xb8000) as 25 lines of text.
vga_text() {
	od -An -v -tu1 "$1" | awk '{
		for (i = 1; i <= NF; i++) {
			if (n % 2 == 0) {
				c = $i + 0
				line = line ((c >= 32 && c < 127) ? sprintf("%c", c) : (c == 0 ? " " : "#"))
			}
			n++
			if (n % 160 == 0) { print line; line = "" }
		}
	}'
}

qemu_pid='' mon=''
stop_qemu() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	qemu_pid=''
	if [ -n "$mon" ]; then
		exec {mon}>&-
		mon=''
	fi
	rm -f "$outdir"/*.mon
}
trap stop_qemu EXIT

# hmp CMD: one QEMU monitor command.
hmp() {
	echo "$*" >&"$mon"
}

# read_screen NAME FILE: the VGA text screen (tty1) into FILE.screen.txt, its picture into
# FILE.png (both kept as artefacts).
read_screen() {
	local name=$1 vga=$outdir/$2.vga
	rm -f "$vga"
	# Quoted: HMP would read a bare / after the size as a division. screendump takes a file
	# name (which may not be quoted) first.
	hmp "pmemsave 0xb8000 4000 \"$vga\""
	hmp "screendump $outdir/$2.png -f png"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -s "$vga" ] && [ "$(stat -c %s "$vga")" = 4000 ] && break
		sleep 0.5
	done
	[ -s "$vga" ] || fail "$name: QEMU wrote no VGA memory ($outdir/$name.monitor.log)"
	vga_text "$vga" >"$outdir/$2.screen.txt"
}

# boot NAME DRIVE_ARGS...: starts QEMU with the drive, waits until the console on the serial port
# shows the VM list with demo (and without hardware KVM, the KVM line), then reads the VGA screen.
boot() {
	local name=$1 serial=$outdir/$1.serial text t0 now kvm_line
	shift
	rm -f "$outdir/$name.mon"
	mkfifo "$outdir/$name.mon"
	qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -vga std -display none \
		-serial "file:$serial" -monitor stdio -nic user,model=e1000 -no-reboot "$@" \
		<"$outdir/$name.mon" >"$outdir/$name.monitor.log" 2>"$outdir/$name.err" &
	qemu_pid=$!
	exec {mon}>"$outdir/$name.mon"
	t0=$(date +%s)
	while :; do
		now=$(date +%s)
		if ! kill -0 "$qemu_pid" 2>/dev/null; then
			cat "$outdir/$name.err"
			fail "$name: QEMU stopped before the console came up (serial log: $serial)"
		fi
		# The console draws its frame, then the VM list and later only what changed: after the
		# pane's title, a row "demo  Off" (or Running).
		text=$(strip "$serial" 2>/dev/null || true)
		# The KVM line is in the title, drawn before the pane: looked for in the whole log.
		kvm_line=''
		[[ $text == *KVMisunavailable* ]] && kvm_line=yes
		text=${text#*VirtualMachines}
		if [[ $text =~ demo(Off|Running|Starting) ]] && { [ -n "$nested" ] || [ -n "$kvm_line" ]; }; then
			break
		fi
		if ((now - t0 > timeout_s)); then
			tail -c 3000 "$serial" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | tail -n 30
			echo
			local missing='the console'
			if [[ $(strip "$serial") == *VirtualMachines* ]]; then
				missing=''
				[[ $text =~ demo(Off|Running|Starting) ]] || missing='a row for demo'
				[ -n "$kvm_line" ] ||
					missing="${missing:+$missing and }the line \"KVM is unavailable\""
			fi
			fail "$name: after $timeout_s s, the serial port shows no $missing ($serial)"
		fi
		sleep 2
	done
	echo "$name: the console on ttyS0 lists demo after $((now - t0)) s"
	# tty1 draws at the same time; give it a moment, then read the screen.
	local screen=$outdir/$name.screen.txt tries
	for tries in 1 2 3 4 5 6 7 8 9 10; do
		sleep 2
		read_screen "$name" "$name"
		if grep -q 'osio - 1 virtual machine' "$screen" &&
			grep -Eq '^. ?demo +(Off|Running|Starting)' "$screen" &&
			{ [ -n "$nested" ] || grep -q 'KVM is unavailable' "$screen"; }; then
			break
		fi
		((tries < 10)) || {
			cat "$screen"
			fail "$name: the VGA screen (tty1) does not show the console listing demo" \
				"$([ -n "$nested" ] || echo 'and "KVM is unavailable"')"
		}
	done
	echo "$name: the VGA screen shows the console listing demo ($outdir/$name.screen.txt)"
	if [ -n "$nested" ] && grep -q 'KVM is unavailable' "$screen"; then
		fail "$name: the image has KVM ($nested) but its console says:" \
			"$(grep -m1 'KVM is unavailable' "$screen" | sed 's/^ *//; s/ *$//')"
	fi
	grep -m1 'KVM is unavailable' "$outdir/$name.screen.txt" | sed 's/^ *//; s/ *$//' || true
}

# poweroff NAME: the ACPI power button; the image must shut down cleanly (and QEMU exit).
poweroff() {
	local name=$1 t
	hmp system_powerdown
	for ((t = 0; t < 180; t++)); do
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 1
	done
	if kill -0 "$qemu_pid" 2>/dev/null; then
		fail "$name: the image did not power off within 180 s of the ACPI power button"
	fi
	wait "$qemu_pid" || true
	qemu_pid=''
	exec {mon}>&-
	mon=''
	echo "$name: powered off by the ACPI power button after $t s"
}

# nested_demo NAME: with KVM inside the image, start demo from the console on tty1 (key s, the
# first row being selected) and see its row say Running for at least 10 s of its uptime.
nested_demo() {
	local name=$1 t screen=$outdir/$1-started.screen.txt
	hmp "sendkey s"
	for ((t = 0; t < 60; t++)); do
		sleep 2
		read_screen "$name" "$name-started"
		grep -Eq '^. ?demo +Running .* 00:00:(1[0-9]|[2-5][0-9]) ' "$screen" && break
	done
	if ! grep -Eq '^. ?demo +Running' "$screen"; then
		cat "$screen"
		fail "$name: demo did not keep running in the image (KVM is there: $nested)"
	fi
	echo "$name: demo runs inside the image ($nested):" \
		"$(grep -Eo 'demo +Running.*[0-9]' "$screen" | tr -s ' ')"
}

# store_check IMG NAME: checks that the disk image's second partition (OSIO-STORE) holds
# vms/demo/demo.vmconfig; st_id: the inode and creation time of the folder vms/demo (osio create
# makes a new one; rewriting the vmconfig does not), st_mounts: how often that file system was
# mounted. Read with debugfs and dumpe2fs at the partition's offset: no mount.
store_check() {
	local img=$1 name=$2 start off ls
	start=$(sfdisk -d "$img" 2>/dev/null | sed -n 's/^.*2 : *start= *\([0-9]*\),.*$/\1/p')
	if [ -z "$start" ] || ((start <= 0)); then
		fail "$name: no second partition (the store) in $img"
	fi
	off=$((start * 512))
	ls=$(debugfs -R "ls -l /vms/demo" "$img?offset=$off" 2>&1) || true
	echo "$ls" >"$outdir/$name.store.txt"
	if ! awk '$NF == "demo.vmconfig" { found = 1 } END { exit !found }' <<<"$ls"; then
		echo "$ls"
		fail "$name: the store partition holds no vms/demo/demo.vmconfig"
	fi
	st_id=$(debugfs -R "stat /vms/demo" "$img?offset=$off" 2>/dev/null |
		sed -n -e 's/^Inode: *\([0-9]*\).*/inode \1/p' -e 's/^ *crtime: *\(0x[0-9a-f:]*\).*/crtime \1/p' |
		tr '\n' ' ')
	st_mounts=$(dumpe2fs -h "$img?offset=$off" 2>/dev/null | awk -F: '/^Mount count/ { print $2 + 0 }')
	st_mounts=${st_mounts:-0}
}

echo "$me: $kvm_note: the console must $([ -n "$nested" ] || echo 'say that KVM is unavailable')$(
	[ -z "$nested" ] || echo 'run demo')"

case $medium in
dvd)
	boot dvd -drive "file=$iso,media=cdrom,readonly=on,if=ide,index=2" -boot d
	[ -z "$nested" ] || nested_demo dvd
	;;
ide | virtio)
	disk=$outdir/disk.img
	rm -f "$disk"
	cp --sparse=always "$img" "$disk"
	boot "$medium-1" -drive "file=$disk,format=raw,if=$medium" -boot c
	[ -z "$nested" ] || nested_demo "$medium-1"
	poweroff "$medium-1"
	store_check "$disk" "$medium-1"
	echo "$medium-1: the store partition holds vms/demo (${st_id% }), mounted $st_mounts time(s)"
	((st_mounts >= 1)) || fail "$medium-1: the store partition was never mounted"
	if [ "$medium" = ide ]; then
		first=$st_id mounts1=$st_mounts
		boot ide-2 -drive "file=$disk,format=raw,if=ide" -boot c
		poweroff ide-2
		store_check "$disk" ide-2
		((st_mounts > mounts1)) ||
			fail "ide-2: the second boot did not mount the store partition (mounted $st_mounts times)"
		[ "$st_id" = "$first" ] ||
			fail "ide-2: demo was made again (${first% } -> ${st_id% }): the store was not kept"
		echo "ide-2: the second boot listed the demo VM kept on the store partition"
	fi
	rm -f "$disk"
	;;
esac
echo "PASS: the osio image booted from $medium to the console listing demo; $kvm_note:" \
	"$([ -n "$nested" ] && echo 'demo ran in it' || echo 'it said that KVM is unavailable')"
