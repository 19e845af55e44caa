#!/usr/bin/env bash
# ctest integration/debian-installer(-qemu): Debian's installer (debian-installer-12-netboot-amd64:
# its kernel, initrd and isolinux menu, wrapped into an El Torito ISO with xorriso + isolinux)
# booted by SeaBIOS from the DVD drive. QEMU TCG: the graphical menu, then Enter, then the
# installer's first screen. osio (hardware KVM only): the menu, pixel for pixel as QEMU's.
set -euo pipefail

usage() {
	cat <<'EOF2'
usage: debian-installer.sh --vmm osio|qemu --imgcmp PATH --outdir DIR [--osio PATH] [--timeout S]

  --vmm qemu   QEMU TCG: menu, Enter, the installer's first screen (proves the ISO right)
  --vmm osio   osio: the menu, compared with QEMU's; skipped (exit 77) unless kvm_intel or
               kvm_amd is loaded (an emulating KVM such as kvm_pvm needs hours for Linux)
  --imgcmp P   the tests' screenshot comparator (tests/guest/tools/imgcmp.c)
  --outdir D   the screenshots (PNG) and logs go there
  --timeout S  how long the installer may take to show its first screen (default 300)
The package comes from the Debian archive (apt-get download, about 130 MB, cached in
${XDG_CACHE_HOME:-$HOME/.cache}/osio/guests).
EOF2
}

me=debian-installer
pkg=debian-installer-12-netboot-amd64
vmm='' osio='' imgcmp='' outdir='' timeout_s=300
while (($#)); do
	case $1 in
	--vmm) vmm=${2-}; shift 2 ;;
	--osio) osio=${2-}; shift 2 ;;
	--imgcmp) imgcmp=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--timeout) timeout_s=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ $vmm == osio || $vmm == qemu ]] || { usage >&2; exit 2; }
[[ -x $imgcmp && -n $outdir ]] || { usage >&2; exit 2; }
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { echo "$me: --timeout '$timeout_s' is not seconds" >&2; exit 2; }

if [[ $vmm == osio ]]; then
	if [[ ! -d /sys/module/kvm_intel && ! -d /sys/module/kvm_amd ]]; then
		why="Linux and the installer cannot boot in useful time on it"
		if [[ -d /sys/module/kvm_pvm ]]; then
			echo "SKIP: /dev/kvm is kvm_pvm (no hardware virtualization): $why"
		else
			echo "SKIP: /dev/kvm is not hardware-backed (no kvm_intel, kvm_amd): $why"
		fi
		exit 77
	fi
	[[ -x $osio ]] || { echo "FAIL: no osio binary (pass --osio PATH)"; exit 1; }
fi
for tool in qemu-system-x86_64 xorriso apt-get apt-cache dpkg flock; do
	command -v "$tool" >/dev/null ||
		{ echo "FAIL: '$tool' not found: run scripts/install-deps.sh"; exit 1; }
done
isolinux=/usr/lib/ISOLINUX/isolinux.bin
[[ -r $isolinux ]] || { echo "FAIL: $isolinux missing: install the Debian package isolinux"; exit 1; }
mkdir -p "$outdir"

# --- The package and the ISO, cached per version ----------------------------------------
cache=${XDG_CACHE_HOME:-$HOME/.cache}/osio/guests
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
[[ -n $ver ]] || { echo "FAIL: apt knows no $pkg: run apt-get update (Debian package lists needed)"; exit 1; }
dir=$cache/${pkg}_${ver//:/%3a}
if [[ ! -f $dir/.complete ]]; then
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	echo "$me: downloading $pkg $ver (about 130 MB)"
	apt_opts=()
	[[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
	if ! (cd "$tmp" && apt-get "${apt_opts[@]}" -q download "$pkg=$ver") >"$tmp/apt.log" 2>&1; then
		err=$(grep -E '^(E|Err):' "$tmp/apt.log" | tail -n 1 || true)
		rm -rf "$tmp"
		echo "FAIL: cannot download $pkg $ver from the Debian archive: ${err:-no message}"
		exit 1
	fi
	dpkg -x "$tmp"/*.deb "$tmp/root" || { rm -rf "$tmp"; echo "FAIL: dpkg -x failed on $pkg"; exit 1; }
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
	touch "$dir/.complete"
fi
# The graphical ("gtk") netboot tree: paths in its menus are relative to the TFTP root, so
# the tree goes to the ISO's root with isolinux.bin beside it (isolinux's working directory).
tree=$dir/usr/lib/debian-installer/images/12/amd64/gtk
di=$tree/debian-installer/amd64
for f in linux initrd.gz pxelinux.cfg/default boot-screens/ldlinux.c32 boot-screens/vesamenu.c32; do
	[[ -r $di/$f ]] || { echo "FAIL: $pkg $ver has no debian-installer/amd64/$f"; exit 1; }
done
iso=$dir/osio-di-menu.iso
if [[ ! -s $iso || $isolinux -nt $iso ]]; then
	tmp=$(mktemp -d "$cache/.iso.XXXXXX")
	mkdir -p "$tmp/root/debian-installer/amd64"
	cp -r "$di/boot-screens" "$di/linux" "$di/initrd.gz" "$tmp/root/debian-installer/amd64/"
	cp "$isolinux" "$tmp/root/isolinux.bin"
	cp "$di/boot-screens/ldlinux.c32" "$tmp/root/ldlinux.c32"
	cp "$di/pxelinux.cfg/default" "$tmp/root/isolinux.cfg"
	if ! xorriso -as mkisofs -quiet -V DEBIAN_DI -o "$tmp/di.iso" -b isolinux.bin -c boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$tmp/root" >"$tmp/xorriso.log" 2>&1; then
		cat "$tmp/xorriso.log"
		rm -rf "$tmp"
		echo "FAIL: xorriso could not build the installer ISO"
		exit 1
	fi
	mv "$tmp/di.iso" "$iso"
	rm -rf "$tmp"
fi
exec 9>&-
echo "$me: $pkg $ver as $iso"

# --- QEMU TCG with its monitor on FIFOs --------------------------------------------------
mem=1G
# The menu: isolinux's vesamenu at 640x480; its last line counts down to the speech-synthesis
# install (30 s) and depends on when the picture is taken: masked.
menu_checks=(--size 640x480 --min-colours 64)
countdown_mask=(--mask 0,360,640,40)

qtmp=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX")
qpid='' catpid=''
cleanup() {
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null
	[[ -n $catpid ]] && kill "$catpid" 2>/dev/null
	rm -rf "$qtmp"
}
trap cleanup EXIT

qemu_start() {
	mkfifo "$qtmp/mon.in" "$qtmp/mon.out"
	timeout -k 5 $((timeout_s + 120)) qemu-system-x86_64 -accel tcg -M pc -m "$mem" -nodefaults \
		-vga std -display none -serial "file:$outdir/qemu.serial" -no-reboot \
		-drive "file=$iso,format=raw,if=ide,index=2,media=cdrom,readonly=on" -boot order=d \
		-monitor "pipe:$qtmp/mon" </dev/null >"$outdir/qemu.err" 2>&1 &
	qpid=$!
	exec 4<>"$qtmp/mon.in"
	cat <>"$qtmp/mon.out" >"$qtmp/mon.log" &
	catpid=$!
}

# monitor CMD: one monitor command; waits for the next prompt (30 s at most).
monitor() {
	local before deadline=$((SECONDS + 30))
	before=$(grep -o '(qemu)' "$qtmp/mon.log" | wc -l)
	printf '%s\n' "$1" >&4
	while ((SECONDS < deadline)) && kill -0 "$qpid" 2>/dev/null; do
		(($(grep -o '(qemu)' "$qtmp/mon.log" | wc -l) > before)) && return 0
		sleep 0.2
	done
	return 1
}

# shot NAME: a screendump into $outdir/NAME.ppm (and NAME.png for people).
shot() {
	rm -f "$outdir/$1.ppm"
	monitor "screendump \"$outdir/$1.ppm\"" && [[ -s $outdir/$1.ppm ]] &&
		"$imgcmp" "$outdir/$1.ppm" --png "$outdir/$1.png" >/dev/null
}

fail() {
	echo "FAIL: $*"
	[[ -s $outdir/qemu.err ]] && tail -n 5 "$outdir/qemu.err"
	exit 1
}

# The menu comes up in about a second of TCG; wait until two pictures a second apart agree.
qemu_start
deadline=$((SECONDS + 60)) prev=''
while :; do
	((SECONDS < deadline)) || fail "QEMU showed no steady installer menu within 60 s (see $outdir)"
	sleep 2
	shot qemu-menu || continue
	"$imgcmp" "$outdir/qemu-menu.ppm" "${menu_checks[@]}" >/dev/null || continue
	if [[ -n $prev ]] && "$imgcmp" "$outdir/qemu-menu.ppm" "$prev" "${countdown_mask[@]}" >/dev/null; then
		break
	fi
	cp "$outdir/qemu-menu.ppm" "$qtmp/prev.ppm"
	prev=$qtmp/prev.ppm
done
echo "ok: QEMU TCG shows the installer menu (640x480, $outdir/qemu-menu.png)"

if [[ $vmm == qemu ]]; then
	# Enter boots "Install": the kernel, the 70 MB initrd, then the graphical installer's
	# first screen (the language list) in a mode of its own; steady for 10 s = it waits.
	monitor "sendkey ret" || fail "the QEMU monitor did not take 'sendkey ret'"
	start=$SECONDS prev='' steady=0
	while ((SECONDS - start < timeout_s)); do
		sleep 5
		shot qemu-installer || continue
		if "$imgcmp" "$outdir/qemu-installer.ppm" --size 640x480 >/dev/null; then
			continue # still the menu (or isolinux)
		fi
		# Below the header, the language list: text, not the plain background shown while
		# the installer starts.
		"$imgcmp" "$outdir/qemu-installer.ppm" --region 0,100,800,400 --min-colours 16 \
			>/dev/null || { prev=''; continue; }
		if [[ -n $prev ]] && "$imgcmp" "$outdir/qemu-installer.ppm" "$prev" >/dev/null; then
			steady=$((steady + 5))
			if ((steady >= 10)); then
				size=$("$imgcmp" "$outdir/qemu-installer.ppm" |
					sed -n 's/.*: \([0-9]*x[0-9]*\)$/\1/p')
				echo "ok: after Enter, the installer's first screen ($size) in" \
					"$((SECONDS - start)) s: $outdir/qemu-installer.png"
				echo "PASS: QEMU TCG boots $pkg $ver from the DVD to the menu and the" \
					"installer"
				exit 0
			fi
		else
			steady=0
		fi
		cp "$outdir/qemu-installer.ppm" "$qtmp/prev2.ppm"
		prev=$qtmp/prev2.ppm
	done
	fail "no steady installer screen within $timeout_s s after Enter (last: $outdir/qemu-installer.png)"
fi
monitor quit || true
wait "$qpid" 2>/dev/null || true
qpid=''

# --- osio: the menu, taken 10 s after the start, against QEMU's ---------------------------
rm -f "$outdir/osio-menu.png"
set +e
timeout -k 10 120 "$osio" run --dvd "$iso" --boot dvd --memory "$mem" --cpus 1 \
	--screenshot "$outdir/osio-menu.png" --after 10s --timeout 15s </dev/null \
	>"$outdir/osio.out" 2>"$outdir/osio.err"
status=$?
set -e
[[ $status == 124 ]] || fail "osio ended with status $status before its --timeout (see $outdir/osio.err)"
[[ -s $outdir/osio-menu.png ]] || fail "osio wrote no screenshot"
if ! "$imgcmp" "$outdir/qemu-menu.ppm" "$outdir/osio-menu.png" "${menu_checks[@]}" \
	"${countdown_mask[@]}" --diff "$outdir/menu-diff.ppm" >"$outdir/imgcmp.out" 2>&1; then
	cat "$outdir/imgcmp.out"
	fail "osio's installer menu differs from QEMU's (red in $outdir/menu-diff.ppm)"
fi
echo "PASS: osio shows the installer menu as QEMU does ($outdir/osio-menu.png)"
