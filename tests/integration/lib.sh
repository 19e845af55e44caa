# shellcheck shell=bash disable=SC2154 # me, usage, mem, cpus: the caller's
# Shared by debian-kernel.sh, debian-disks.sh and debian-net.sh: their options, the VMM check,
# the Debian kernel and initramfs (and initramfs with modules), booting them in osio or QEMU TCG,
# and the FAIL report with the console's tail.
# The caller sets me, usage(), timeout_s (its default), mem and cpus, then sources this.

# deb_parse_args "$@": --vmm, --osio, --outdir, --timeout into vmm, osio, outdir, timeout_s.
deb_parse_args() {
	vmm='' osio='' outdir=''
	while (($#)); do
		case $1 in
		--vmm) vmm=${2-}; shift 2 ;;
		--osio) osio=${2-}; shift 2 ;;
		--outdir) outdir=${2-}; shift 2 ;;
		--timeout) timeout_s=${2-}; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
		esac
	done
	case $vmm in
	osio | qemu) ;;
	*) usage >&2; echo "$me: --vmm must be osio or qemu" >&2; exit 2 ;;
	esac
	if ! [[ $timeout_s =~ ^[1-9][0-9]*$ ]]; then
		echo "$me: --timeout '$timeout_s' is not a number of seconds" >&2
		exit 2
	fi
}

# deb_check_vmm [WHY]: SKIP (exit 77) in osio without hardware KVM, saying WHY (default: the
# Debian kernel cannot boot); FAIL without the VMM's binary.
deb_check_vmm() {
	if [ "$vmm" = osio ]; then
		# On kvm_pvm every guest kernel instruction is emulated: hours in the decompressor.
		if [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
			local why=${1:-"a stock Debian kernel cannot boot in useful time here"}
			if [ -d /sys/module/kvm_pvm ]; then
				echo "SKIP: /dev/kvm is kvm_pvm (no hardware virtualization): $why"
			else
				echo "SKIP: /dev/kvm is not hardware-backed (no kvm_intel, kvm_amd): $why"
			fi
			exit 77
		fi
		if [ -z "$osio" ] || [ ! -x "$osio" ]; then
			echo "FAIL: no osio binary (pass --osio PATH)"
			exit 1
		fi
	elif ! command -v qemu-system-x86_64 >/dev/null; then
		echo "FAIL: qemu-system-x86_64 not found: install qemu-system-x86 (install-deps.sh)"
		exit 1
	fi
}

# deb_outdir: outdir (a new temporary directory unless given), out and err in it.
deb_outdir() {
	if [ -z "$outdir" ]; then
		outdir=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX")
	fi
	mkdir -p "$outdir"
	out=$outdir/$vmm.out err=$outdir/$vmm.err
	rm -f "$out" "$err"
}

# deb_fetch: kernel and initramfs from scripts/fetch-guest-artefacts.sh.
deb_fetch() {
	local fetch paths
	fetch=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../scripts/fetch-guest-artefacts.sh
	if ! paths=$("$fetch" 2>"$outdir/fetch.err"); then
		echo "FAIL: cannot get the Debian guest artefacts: $(tail -n 1 "$outdir/fetch.err")"
		exit 1
	fi
	kernel=$(sed -n 's/^kernel=//p' <<<"$paths")
	initramfs=$(sed -n 's/^initramfs=//p' <<<"$paths")
	if [ ! -r "$kernel" ] || [ ! -r "$initramfs" ]; then
		echo "FAIL: fetch-guest-artefacts.sh gave no kernel/initramfs"
		exit 1
	fi
}

# deb_boot APPEND INITRAMFS OSIO_ARGS_NAME QEMU_ARGS_NAME: boots kernel with that command line
# and initramfs, the named arrays' extra arguments (e.g. disks), within timeout_s; sets status,
# secs and $out.txt (the console without CRs).
# shellcheck disable=SC2034 # status, secs: the caller's
deb_boot() {
	local append=$1 initrd=$2
	local -n osio_extra=$3 qemu_extra=$4
	local cmd start
	case $vmm in
	osio)
		cmd=("$osio" run --kernel "$kernel" --initrd "$initrd" --append "$append"
			--memory "$mem" --cpus "$cpus" --on-reboot exit "${osio_extra[@]}")
		;;
	qemu)
		cmd=(qemu-system-x86_64 -accel tcg -M pc -m "$mem" -smp "$cpus" -nodefaults
			-display none -serial stdio -monitor none -no-reboot
			-kernel "$kernel" -initrd "$initrd" -append "$append" "${qemu_extra[@]}")
		;;
	esac
	start=$(date +%s)
	set +e
	timeout -k 10 "$timeout_s" "${cmd[@]}" </dev/null >"$out" 2>"$err"
	status=$?
	set -e
	secs=$(($(date +%s) - start))
	tr -d '\r' <"$out" >"$out.txt"
	if [ "$status" = 124 ] || [ "$status" = 137 ]; then
		fail "the guest did not finish within $timeout_s s"
	fi
}

# deb_powered_off: the guest powered off and the VMM exited 0.
deb_powered_off() {
	grep -aq 'reboot: Power down' "$out.txt" ||
		fail "the guest did not power off (panic or reboot?)"
	[ "$status" = 0 ] || fail "$vmm exited with status $status after the guest powered off"
}

fail() {
	echo "FAIL: $*"
	echo "--- last console lines ($out):"
	tail -n 25 "$out.txt"
	if [ -s "$err" ]; then
		echo "--- $vmm messages ($err):"
		tail -n 10 "$err"
	fi
	exit 1
}

# deb_initramfs_root DIR: the base initramfs (busybox, from deb_fetch) unpacked into DIR (emptied
# first) as root, and moddir: the kernel's modules, next to boot/ in its unpacked package.
deb_initramfs_root() {
	local kver
	root=$1
	kver=$(basename "$kernel")
	kver=${kver#vmlinuz-}
	moddir=$(dirname "$(dirname "$kernel")")/lib/modules/$kver
	[ -d "$moddir" ] || { echo "FAIL: no modules at $moddir"; exit 1; }
	rm -rf "$root"
	mkdir -p "$root/lib/modules"
	(cd "$root" && gzip -dc "$initramfs" | cpio --quiet -id) ||
		{ echo "FAIL: cannot unpack $initramfs"; exit 1; }
	: >"$root/lib/modules/order"
	declare -gA deb_modpath=() deb_modloaded=()
	local f n
	while IFS= read -r f; do
		n=$(basename "$f" .ko)
		deb_modpath[${n//-/_}]=$f
	done < <(find "$moddir/kernel" -name '*.ko')
}

# deb_add_modules NAME...: each module after the modules its .modinfo says it depends on, copied
# to $root/lib/modules/NAME.ko and listed in $root/lib/modules/order, the order for insmod.
deb_add_modules() {
	local m n f d
	for m in "$@"; do
		n=${m//-/_}
		[ -n "${deb_modloaded[$n]-}" ] && continue
		f=${deb_modpath[$n]-}
		if [ -z "$f" ]; then
			echo "FAIL: module $m is not in $moddir"
			exit 1
		fi
		deb_modloaded[$n]=1
		for d in $(objcopy -O binary --only-section=.modinfo "$f" /dev/stdout 2>/dev/null |
			tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' ' '); do
			deb_add_modules "$d"
		done
		cp "$f" "$root/lib/modules/$n.ko"
		echo "$n" >>"$root/lib/modules/order"
	done
}

# deb_pack_initramfs: $root as a newc cpio, gzip'ed, at $outdir/initramfs.cpio.gz; sets initramfs.
deb_pack_initramfs() {
	initramfs=$outdir/initramfs.cpio.gz
	if ! (cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 |
		gzip -1 -n >"$initramfs"); then
		echo "FAIL: building the initramfs failed"
		exit 1
	fi
}
