#!/usr/bin/env bash
# Builds the bootable osio workstation image from Debian packages: a live root (squashfs, Debian's
# live-boot) booted by GRUB, as an ISO (osio-root.iso) and a disk image (osio-root.img: the same
# hybrid ISO plus an ext4 partition, label OSIO-STORE, that holds the VM store /var/lib/osio).
# The osio console comes up on tty1 and on ttyS0 without a login; the store has the VM "demo".
# Needs root (debootstrap, chroot), no loop devices and no mounts of the image.
set -euo pipefail

me=make-root-image
src=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	cat <<EOF
usage: scripts/make-root-image.sh [--out DIR] [--cache DIR] [--deb FILE] [--build-dir DIR]
                                  [--mirror URL] [--store-size MIB] [--keep-root] [--force]
  --out DIR         where the image goes (default: build/root-image): osio-root.iso,
                    osio-root.img, stamp (a hash of the inputs), root-image.log
  --cache DIR       debootstrap tarball and downloaded packages, kept between runs
                    (default: \${XDG_CACHE_HOME:-\$HOME/.cache}/osio/root-image)
  --deb FILE        the osio package to install (default: built by scripts/make-deb.sh)
  --build-dir DIR   osio's release build for make-deb.sh (default: OUT/osio-build)
  --mirror URL      the Debian mirror (default: the first one this machine's apt uses)
  --store-size MIB  the store partition in the disk image (default: 2048)
  --keep-root       keep the root folder (OUT/root) after the squashfs is made
  --force           build even when the stamp says the outputs are up to date
EOF
}

out=$src/build/root-image
cache=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/osio/root-image
deb='' build_dir='' mirror='' store_mib=2048 keep_root='' force=''
suite=bookworm
while (($#)); do
	case $1 in
	--out) out=${2:?--out needs a folder}; shift 2 ;;
	--cache) cache=${2:?--cache needs a folder}; shift 2 ;;
	--deb) deb=${2:?--deb needs a file}; shift 2 ;;
	--build-dir) build_dir=${2:?--build-dir needs a folder}; shift 2 ;;
	--mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
	--store-size) store_mib=${2:?--store-size needs MiB}; shift 2 ;;
	--keep-root) keep_root=1; shift ;;
	--force) force=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
if ! [[ $store_mib =~ ^[1-9][0-9]*$ ]] || ((store_mib < 64)); then
	echo "$me: --store-size '$store_mib' is not a size in MiB of at least 64" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "$me: SKIP: building the image needs root (debootstrap and chroot): run it with sudo" >&2
	exit 77
fi
missing=''
for tool in debootstrap chroot mksquashfs grub-mkrescue xorriso mformat mkfs.ext4 sha256sum; do
	command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ ! -d /usr/lib/grub/i386-pc ]; then
	missing="$missing grub-pc-bin"
fi
if [ -n "$missing" ]; then
	echo "$me: missing:$missing; install the Debian packages debootstrap squashfs-tools" \
		"grub-pc-bin grub-common xorriso mtools e2fsprogs (scripts/install-deps.sh)" >&2
	exit 1
fi
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}:[^ ]*debian\/\{0,1\}\) .*/\2/p' \
			-e 's/^URIs: *\(https\{0,1\}:[^ ]*debian\/\{0,1\}\)$/\1/p' | head -n 1) || true
	mirror=${mirror:-http://deb.debian.org/debian}
fi

mkdir -p "$out" "$cache"
out=$(cd "$out" && pwd)
cache=$(cd "$cache" && pwd)
build_dir=${build_dir:-$out/osio-build}
root=$out/root
log=$out/root-image.log
: >"$log"

# The packages of the image besides osio and what it depends on: the kernel with KVM, systemd
# (networkd for DHCP; dbus for logind, which turns the power button into a clean shutdown), live-boot's initramfs, and what the demo VM boots (SeaBIOS, its VGA BIOS
# and iPXE ROMs, GRUB's rescue ISO).
packages=linux-image-amd64,systemd,systemd-sysv,udev,kmod,dbus,iproute2,live-boot,initramfs-tools
packages=$packages,seabios,ipxe-qemu,grub-rescue-pc

t_start=$(date +%s)
t_phase=$t_start
phase() {
	local now
	now=$(date +%s)
	if [ -n "${phase_name-}" ]; then
		printf '%s: %-28s %4d s\n' "$me" "$phase_name" $((now - t_phase))
	fi
	phase_name=${1-}
	t_phase=$now
}

# run CMD...: CMD with its output in the log; on failure, the log's tail and exit.
run() {
	if ! "$@" >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "$me: failed: $* (the whole log: $log)" >&2
		exit 1
	fi
}

# Mounts made while the chroot runs (proc, sys, dev/pts), undone on any exit.
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true
	done
	mounted=()
}
trap cleanup EXIT
# remove_root: the root folder, after unmounting what an interrupted run may have left in it.
remove_root() {
	local m
	if [ -d "$root" ]; then
		for m in $(findmnt -rn -o TARGET | grep "^$root/" | sort -r); do
			umount "$m" 2>/dev/null || umount -l "$m"
		done
		rm -rf --one-file-system "$root"
	fi
}
chroot_mount() {
	mount -t "$1" "$1" "$root/$2"
	mounted+=("$root/$2")
}
in_root() {
	run chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# --- the osio package ------------------------------------------------------------------------
phase "osio package"
if [ -n "$deb" ]; then
	if [ ! -r "$deb" ] || ! dpkg-deb -f "$deb" Package >/dev/null 2>&1; then
		echo "$me: $deb is not a readable Debian package: pass the .deb from scripts/make-deb.sh" >&2
		exit 1
	fi
elif [ -x "$src/scripts/make-deb.sh" ]; then
	echo "$me: building the osio package (scripts/make-deb.sh --build-dir $build_dir)"
	# shellcheck disable=SC2094 # the log is only appended to
	if ! deb=$("$src/scripts/make-deb.sh" --build-dir "$build_dir" --out "$out" 2>>"$log" |
		tee -a "$log" | tail -n 1) || [ ! -r "$deb" ]; then
		tail -n 30 "$log" >&2
		echo "$me: scripts/make-deb.sh failed (the whole log: $log)" >&2
		exit 1
	fi
else
	echo "$me: scripts/make-deb.sh is missing: pass the osio package with --deb FILE" >&2
	exit 1
fi

# --- up to date? -----------------------------------------------------------------------------
phase "inputs"
{
	echo "suite=$suite mirror=$mirror packages=$packages store=$store_mib"
	sha256sum "$0" "$src/share/systemd/osio-console@.service"
	# What the package holds, not its bytes: two builds of one tree differ in time stamps.
	pkg=$(mktemp -d)
	dpkg-deb -x "$deb" "$pkg/files"
	dpkg-deb -e "$deb" "$pkg/control"
	(cd "$pkg" && find . -type f -print0 | sort -z | xargs -0 sha256sum &&
		find . -printf '%p %m %l\n' | sort)
	rm -rf "$pkg"
} >"$out/inputs"
hash=$(sha256sum <"$out/inputs" | cut -d' ' -f1)
if [ -z "$force" ] && [ -r "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$hash" ] &&
	[ -s "$out/osio-root.iso" ] && [ -s "$out/osio-root.img" ]; then
	echo "$me: $out is up to date (inputs $hash); --force to build it again"
	echo "$out/osio-root.img"
	exit 0
fi
rm -f "$out/stamp"

# --- debootstrap, once per package list --------------------------------------------------
phase "debootstrap"
tarball=$cache/$suite-$(echo "$mirror $packages" | sha256sum | cut -c1-12).tgz
if [ ! -s "$tarball" ]; then
	echo "$me: downloading the base system ($suite from $mirror) into $tarball"
	rm -rf "$out/tarball-work"
	run debootstrap --variant=minbase --include="$packages" --make-tarball="$tarball.part" \
		"$suite" "$out/tarball-work" "$mirror"
	mv "$tarball.part" "$tarball"
	rm -rf "$out/tarball-work"
fi
remove_root
echo "$me: installing the base system into $root"
run debootstrap --variant=minbase --include="$packages" --unpack-tarball="$tarball" \
	"$suite" "$root" "$mirror"
cleanup

# --- osio and its dependencies ---------------------------------------------------------------
phase "osio install"
chroot_mount proc proc
chroot_mount sysfs sys
printf '#!/bin/sh\n# No services start while the image is built.\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
mkdir -p "$cache/archives"
find "$cache/archives" -name '*.deb' -exec cp -t "$root/var/cache/apt/archives/" {} +
in_root apt-get -q update
cp "$deb" "$root/tmp/osio.deb"
in_root apt-get -q -y --no-install-recommends install /tmp/osio.deb
rm -f "$root/tmp/osio.deb"
if [ ! -x "$root/usr/bin/osio" ]; then
	echo "$me: the image has no /usr/bin/osio after installing osio (see $log)" >&2
	exit 1
fi
find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$cache/archives/" {} +
in_root apt-get clean

# --- the image's own setup ---------------------------------------------------------------
phase "configure"
echo osio >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tosio\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	>"$root/etc/hosts"
echo LANG=C.UTF-8 >"$root/etc/default/locale"
# A machine id made at each boot: two osio machines on a LAN get DHCP leases of their own.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
ln -sf /dev/null "$root/etc/systemd/system/systemd-firstboot.service"

# Networking: DHCP on every wired interface.
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/20-wired.network" <<'EOF'
# osio image: every wired interface takes its address by DHCP.
[Match]
Name=en* eth*

[Network]
DHCP=yes
EOF
in_root systemctl enable systemd-networkd.service

# The store: the disk image's OSIO-STORE partition, when there is one (else it stays in RAM).
cat >>"$root/etc/fstab" <<'EOF'
# osio's VM store: the partition labelled OSIO-STORE (the disk image has one); without it the
# store lives in RAM and the console still comes up.
LABEL=OSIO-STORE /var/lib/osio ext4 defaults,nofail,x-systemd.device-timeout=10s 0 2
EOF

# The console on tty1 and on the first serial port, instead of login prompts there.
unit=$root/lib/systemd/system/osio-console@.service
if [ ! -e "$unit" ] && [ ! -e "$root/usr/lib/systemd/system/osio-console@.service" ]; then
	sed 's|@BINDIR@|/usr/bin|g' "$src/share/systemd/osio-console@.service" >"$unit"
	echo "$me: the package has no osio-console@.service: installed share/systemd's"
fi
mkdir -p "$root/etc/systemd/system/osio-console@ttyS0.service.d"
cat >"$root/etc/systemd/system/osio-console@ttyS0.service.d/term.conf" <<'EOF'
# osio image: the serial console is a VT100-like terminal of 80x24.
[Service]
Environment=TERM=vt100
EOF
in_root systemctl enable osio-console@tty1.service osio-console@ttyS0.service
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"

# The demo VM, made at boot when the store has none (the README's demo: GRUB's rescue ISO).
cat >"$root/etc/systemd/system/osio-demo.service" <<'EOF'
# osio image: the VM "demo" (no disk, no network, Debian's GRUB rescue ISO on its DVD drive)
# is made in the store when the store has no VM of that name, before the console starts.
[Unit]
Description=osio demo VM in the store
Wants=var-lib-osio.mount
After=var-lib-osio.mount local-fs.target systemd-tmpfiles-setup.service
Before=osio.service osio-console@tty1.service osio-console@ttyS0.service

[Service]
Type=oneshot
RemainAfterExit=yes
StandardOutput=journal+console
ExecStart=/bin/sh -c 'if /usr/bin/osio status demo >/dev/null 2>&1; then \
	echo "osio-demo: the store already holds demo"; else \
	/usr/bin/osio create demo --memory 128M --cpus 1 --disk none --switch none \
	--dvd /usr/lib/grub-rescue/grub-rescue-cdrom.iso --boot dvd && \
	echo "osio-demo: made the VM demo"; fi'

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable osio-demo.service
if [ -e "$root/lib/systemd/system/osio.service" ] || [ -e "$root/usr/lib/systemd/system/osio.service" ]; then
	in_root systemctl enable osio.service
fi

# The kernel's VGA text console stays in VMs (no bochs DRM driver): osio's display-text and
# text VNC viewers read it, and so does the boot test.
mkdir -p "$root/etc/modprobe.d"
printf '# osio image: the VGA text console stays in VMs with a Bochs VGA.\nblacklist bochs\n' \
	>"$root/etc/modprobe.d/osio-vga.conf"

# Smaller: no documentation, manual pages or translations; kernel modules a workstation
# hypervisor does not use (sound, video capture, wireless, InfiniBand).
rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/lintian"
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name 'locale.alias' -exec rm -rf {} +
kver=$(basename "$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -type d | sort | tail -n 1)")
for dir in sound drivers/media drivers/net/wireless net/wireless net/mac80211 net/bluetooth \
	drivers/bluetooth drivers/infiniband drivers/isdn drivers/staging; do
	rm -rf "$root/lib/modules/$kver/kernel/$dir"
done
in_root depmod -a "$kver"
in_root update-initramfs -u -k "$kver"
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root/var/lib/apt/lists"/* "$root/var/cache/apt"/*.bin "$root/var/log"/*.log
cleanup

# --- the store partition and the squashfs ----------------------------------------------------
phase "squashfs"
mkdir -p "$out/iso/live" "$out/iso/boot/grub"
cp "$root/boot/vmlinuz-$kver" "$out/iso/live/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$out/iso/live/initrd.img"
rm -f "$out/iso/live/filesystem.squashfs"
run mksquashfs "$root" "$out/iso/live/filesystem.squashfs" -comp xz -noappend -e boot
root_mib=$(du -sm "$root" | cut -f1)

phase "store partition"
rm -rf "$out/store" "$out/store.ext4"
mkdir -m 0700 "$out/store"
if [ -d "$root/var/lib/osio" ]; then
	chmod "$(stat -c %a "$root/var/lib/osio")" "$out/store"
	chown "$(stat -c %u:%g "$root/var/lib/osio")" "$out/store"
fi
run mkfs.ext4 -q -F -L OSIO-STORE -d "$out/store" "$out/store.ext4" "${store_mib}M"
rmdir "$out/store"

# --- GRUB, the ISO and the disk image -------------------------------------------------------
phase "iso + disk image"
cat >"$out/iso/boot/grub/grub.cfg" <<'EOF'
# osio workstation image: GRUB on the screen and on the first serial port.
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
set timeout=3
set default=0

menuentry "osio workstation" {
	linux /live/vmlinuz boot=live noprompt noeject quiet console=ttyS0,115200 console=tty0 modprobe.blacklist=bochs
	initrd /live/initrd.img
}
menuentry "osio workstation (boot messages, store in RAM)" {
	linux /live/vmlinuz boot=live noprompt noeject console=ttyS0,115200 console=tty0 modprobe.blacklist=bochs systemd.mask=var-lib-osio.mount
	initrd /live/initrd.img
}
EOF
# partition_offset: partition 1 starts at 32 KiB and holds a file system of its own, so that
# live-boot (which tries partitions before the whole disk) mounts it and not the whole disk,
# which would keep the store partition from being mounted.
run grub-mkrescue -o "$out/osio-root.iso.part" "$out/iso" -- -volid OSIO \
	-boot_image any partition_offset=16
mv "$out/osio-root.iso.part" "$out/osio-root.iso"
run grub-mkrescue -o "$out/osio-root.img.part" "$out/iso" -- -volid OSIO \
	-boot_image any partition_offset=16 -append_partition 2 0x83 "$out/store.ext4"
# xorriso wrote the store's empty blocks as zeros: make them holes again.
fallocate --dig-holes "$out/osio-root.img.part"
mv "$out/osio-root.img.part" "$out/osio-root.img"
rm -f "$out/store.ext4"
if [ -z "$keep_root" ]; then
	remove_root
	rm -rf "$out/iso"
fi

phase ""
echo "$hash" >"$out/stamp"
iso_mib=$(($(stat -c %s "$out/osio-root.iso") / 1048576))
img_mib=$(($(stat -c %s "$out/osio-root.img") / 1048576))
echo "$me: root ${root_mib} MiB, squashed into osio-root.iso of ${iso_mib} MiB;" \
	"osio-root.img ${img_mib} MiB (the store partition ${store_mib} MiB) in $(($(date +%s) - t_start)) s"
echo "$out/osio-root.img"
