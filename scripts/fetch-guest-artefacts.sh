#!/usr/bin/env bash
# Fetches the real-kernel tests' guest artefacts (linux-image-amd64's kernel, a busybox-static
# initramfs) with apt-get download + dpkg -x into a per-version cache; never installs anything.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: fetch-guest-artefacts.sh [--cache DIR]

Downloads (apt-get download, no root needed) the versioned kernel package that
linux-image-amd64 depends on, and busybox-static; unpacks them with dpkg -x into
  ${XDG_CACHE_HOME:-$HOME/.cache}/osio/guests/<package>_<version>/
(or --cache DIR), reusing what is there; builds an initramfs (cpio newc, gzip)
whose /init mounts proc and sys, prints
  OSIO-GUEST-UP cpus=<processors> mem=<MemTotal kB>
on the console and powers off (with "osio.shell" on the kernel command line it
opens a busybox shell first). Prints the paths as
  kernel=PATH
  initramfs=PATH
Needs apt's package lists (apt-get update) and the Debian archive.
EOF
}

me=fetch-guest-artefacts
die() {
	echo "$me: $*" >&2
	exit 1
}

cache=${XDG_CACHE_HOME:-$HOME/.cache}/osio/guests
while (($#)); do
	case $1 in
	--cache) cache=${2:?--cache needs a directory}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
done

for tool in apt-cache apt-get dpkg cpio gzip sha256sum flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found: run scripts/install-deps.sh"
done
mkdir -p "$cache" || die "cannot create the cache directory $cache"
# One fetch at a time per cache (tests may run in parallel).
exec 9>"$cache/.lock"
flock 9

# field PACKAGE FIELD: a field of the package's candidate version ("" when unknown).
field() {
	apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n 1
}

# Root's apt drops privileges to _apt, which cannot write into our private temporary
# directory; downloading is all it does here, so run it as root instead of warning.
apt_opts=()
[ "$(id -u)" -eq 0 ] && apt_opts=(-o APT::Sandbox::User=root)

# fetch PACKAGE VERSION: unpacks the package into the cache once; prints its directory.
fetch() {
	local pkg=$1 ver=$2 dir tmp err
	# As in apt's own file names, the epoch colon is written %3a.
	dir=$cache/${pkg}_${ver//:/%3a}
	if [ -f "$dir/.complete" ]; then
		echo "$dir"
		return
	fi
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	echo "$me: downloading $pkg $ver" >&2
	if ! (cd "$tmp" && apt-get "${apt_opts[@]}" -q download "$pkg=$ver") \
		>"$tmp/apt.log" 2>&1; then
		err=$(grep -E '^(E|Err):' "$tmp/apt.log" | tail -n 1 || true)
		rm -rf "$tmp"
		die "cannot download $pkg $ver from the Debian archive" \
			"(unreachable, or stale package lists: apt-get update): ${err:-no message}"
	fi
	mkdir "$tmp/root"
	dpkg -x "$tmp"/*.deb "$tmp/root" || { rm -rf "$tmp"; die "dpkg -x failed on $pkg $ver"; }
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	touch "$dir/.complete"
	rm -rf "$tmp"
	echo "$dir"
}

meta=linux-image-amd64
meta_ver=$(field "$meta" Version)
[ -n "$meta_ver" ] || die "apt knows no $meta: run apt-get update (Debian package lists needed)"
# linux-image-amd64 depends on exactly one versioned image, e.g. linux-image-6.1.0-28-amd64.
kpkg=$(field "$meta" Depends | tr ',' '\n' |
	sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
[ -n "$kpkg" ] || die "cannot find the versioned kernel package in $meta's Depends"
kver=$(field "$kpkg" Version)
[ -n "$kver" ] || die "apt knows no $kpkg: run apt-get update"
bver=$(field busybox-static Version)
[ -n "$bver" ] || die "apt knows no busybox-static: run apt-get update"

kdir=$(fetch "$kpkg" "$kver")
bdir=$(fetch busybox-static "$bver")
kernel=$(find "$kdir/boot" -maxdepth 1 -name 'vmlinuz-*' 2>/dev/null | head -n 1)
[ -n "$kernel" ] || die "$kpkg $kver has no /boot/vmlinuz-*"
busybox=$bdir/bin/busybox
[ -x "$busybox" ] || die "busybox-static $bver has no /bin/busybox"

# The initramfs: only the static busybox and /init (a script for the guest's shell, hence the
# single quotes). The kernel's built-in initramfs already holds /dev/console, and /init mounts
# devtmpfs over /dev anyway.
# shellcheck disable=SC2016
init='#!/bin/busybox sh
export PATH=/bin
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev && exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
cpus=$(grep -c "^processor" /proc/cpuinfo)
mem=$(sed -n "s/^MemTotal: *\([0-9]*\) kB$/\1/p" /proc/meminfo)
echo "OSIO-GUEST-UP cpus=$cpus mem=$mem"
if grep -qw osio.shell /proc/cmdline; then
	echo "A busybox shell in the VM: exit (or Ctrl-D) turns the VM off."
	setsid cttyhack sh
fi
sync
poweroff -f
'
ihash=$(printf '%s' "$init" | sha256sum | cut -c1-12)
idir=$cache/initramfs_busybox-${bver//:/%3a}_$ihash
initramfs=$idir/initramfs.cpio.gz
if [ ! -f "$initramfs" ]; then
	tmp=$(mktemp -d "$cache/.initramfs.XXXXXX")
	mkdir -p "$tmp/root/bin"
	cp "$busybox" "$tmp/root/bin/busybox"
	printf '%s' "$init" >"$tmp/root/init"
	chmod 0755 "$tmp/root/init" "$tmp/root/bin/busybox"
	# Sorted names and owner root, so the same inputs give the same archive.
	if ! (cd "$tmp/root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 |
		gzip -9 -n >"$tmp/initramfs.cpio.gz"); then
		rm -rf "$tmp"
		die "building the initramfs with cpio and gzip failed"
	fi
	mkdir -p "$idir"
	mv "$tmp/initramfs.cpio.gz" "$initramfs"
	rm -rf "$tmp"
fi

echo "kernel=$kernel"
echo "initramfs=$initramfs"
