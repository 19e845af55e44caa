#!/usr/bin/env bash
# Builds osio's Debian package from this tree: a release build installed under /usr, its
# Depends computed by dpkg-shlibdeps, maintainer scripts for the osio user and osio.service.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/make-deb.sh [--build-dir DIR] [--out DIR]

Configures and builds osio (RelWithDebInfo, Debian's hardening flags, prefix /usr)
in DIR (default build/deb), installs it into a staging folder and writes
osio_VERSION_ARCH.deb into the --out folder (default: the build folder). The
package's path is the last line printed; the build's messages go to stderr.
Needs cmake, ninja, dpkg-dev and fakeroot (or root).
EOF
}

me=make-deb
src=$(cd "$(dirname "$0")/.." && pwd)
build='' out=''
while (($#)); do
	case $1 in
	--build-dir) build=${2:?--build-dir needs a folder}; shift 2 ;;
	--out) out=${2:?--out needs a folder}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "$me: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
build=${build:-$src/build/deb}
out=${out:-$build}
for tool in cmake ninja dpkg-deb dpkg-shlibdeps dpkg-buildflags dpkg-architecture gzip; do
	command -v "$tool" >/dev/null || {
		echo "$me: $tool is missing: install the Debian packages cmake ninja-build dpkg-dev" >&2
		exit 1
	}
done
fakeroot=()
if [ "$(id -u)" != 0 ]; then
	command -v fakeroot >/dev/null || {
		echo "$me: fakeroot is missing (needed when not root): apt-get install fakeroot" >&2
		exit 1
	}
	fakeroot=(fakeroot)
fi
mkdir -p "$build" "$out"
build=$(cd "$build" && pwd)
out=$(cd "$out" && pwd)
umask 022

# --- build ---------------------------------------------------------------------------------------
# Debian's hardening flags (fortify, stack protector, relro, bindnow, PIE), and source paths
# mapped away: the binary names no folder of this machine (keymap.c's source-tree lookup then
# does not apply to the package). The project's -Werror stays: _FORTIFY_SOURCE's extra
# warn_unused_result checks must pass too.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
cflags="$cflags -ffile-prefix-map=$src=. -ffile-prefix-map=$build=build"
ldflags=$(dpkg-buildflags --get LDFLAGS)
echo "$me: building osio in $build" >&2
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOSIO_SANITIZE=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_C_FLAGS="$cflags" -DCMAKE_ASM_FLAGS="$cflags" \
	-DCMAKE_EXE_LINKER_FLAGS="$ldflags" >&2
cmake --build "$build" --target osio osio_man >&2

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$build/CMakeCache.txt")
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
[ -n "$version" ] || { echo "$me: no project version in $build/CMakeCache.txt" >&2; exit 1; }

# --- the package's tree --------------------------------------------------------------------------
stage=$build/deb-root
rm -rf "$stage"
DESTDIR=$stage cmake --install "$build" --strip >&2
# As dh_strip does: no compiler notes either.
strip --remove-section=.comment --remove-section=.note "$stage/usr/bin/osio"
doc=$stage/usr/share/doc/osio
mkdir -p "$doc" "$stage/DEBIAN"

# The maintainer: $DEBFULLNAME <$DEBEMAIL>, else the tree's git identity (safe.directory: the
# tree may belong to another user).
git_() { git -c safe.directory="$src" -C "$src" "$@" 2>/dev/null; }
maint=${DEBFULLNAME:-$(git_ config user.name || true)}
mail=${DEBEMAIL:-$(git_ config user.email || true)}
maintainer="${maint:-osio maintainers} <${mail:-osio@maintainers.invalid}>"
commit=$(git_ rev-parse --short HEAD || echo unknown)
date=$(date -R -d "@$(git_ log -1 --format=%ct || date +%s)")
{
	echo "osio ($version) unstable; urgency=medium"
	echo
	echo "  * Built from the osio tree at commit $commit by scripts/make-deb.sh."
	echo
	echo " -- $maintainer  $date"
} | gzip -9 -n >"$doc/changelog.gz"
years=$(git_ log --format=%cd --date=format:%Y | sort -u |
	sed -n '1p;$p' | uniq | paste -sd- || true)
cat >"$doc/copyright" <<EOF
osio, a developer-workstation hypervisor on Linux KVM

Copyright (C) ${years:-$(date +%Y)} the osio authors.

The osio source tree this package was built from does not state a license yet.
EOF

unit=usr/lib/systemd/system/osio.service
[ -e "$stage/$unit" ] ||
	echo "$me: note: no share/systemd/osio.service in the tree: the package has no osio.service" >&2

# --- maintainer scripts --------------------------------------------------------------------------
# Every path goes through $DPKG_ROOT, so that dpkg --instdir (tests/install/deb.sh) touches
# nothing outside the folder it installs into.
cat >"$stage/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# osio's postinst: the system user and group osio, /var/lib/osio and /run/osio, osio.service.
set -e
root=${DPKG_ROOT:-}
if [ "$1" = configure ]; then
	if command -v systemd-sysusers >/dev/null && [ -e "$root/usr/lib/sysusers.d/osio.conf" ]; then
		systemd-sysusers ${root:+--root="$root"} osio.conf
	elif [ -z "$root" ]; then
		getent group osio >/dev/null || addgroup --system --quiet osio
		getent passwd osio >/dev/null || adduser --system --quiet --ingroup osio \
			--home /var/lib/osio --no-create-home --shell /usr/sbin/nologin \
			--gecos "osio virtual machines" osio
	else
		echo "osio: no systemd-sysusers to create the osio user in $root: create it yourself" >&2
	fi
	if command -v systemd-tmpfiles >/dev/null && [ -e "$root/usr/lib/tmpfiles.d/osio.conf" ]; then
		systemd-tmpfiles --create ${root:+--root="$root"} osio.conf || true
	fi
fi
EOF
cat >"$stage/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# osio's prerm: on removal, osio.service's stop shuts the running VMs down (their stop_action).
# An upgrade leaves them running.
set -e
if [ "$1" = remove ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ] &&
	[ -e /usr/lib/systemd/system/osio.service ]; then
	deb-systemd-invoke stop osio.service >/dev/null || true
fi
EOF
cat >"$stage/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# osio's postrm. Purging never deletes VMs: /var/lib/osio goes only when it is empty, and the
# osio user and group stay (files may still belong to them), as Debian does for system users.
set -e
root=${DPKG_ROOT:-}
if [ "$1" = purge ]; then
	rmdir "$root/run/osio" 2>/dev/null || true
	if [ -d "$root/var/lib/osio" ]; then
		rmdir "$root/var/lib/osio/vms" "$root/var/lib/osio/switches" 2>/dev/null || true
		rmdir "$root/var/lib/osio" 2>/dev/null ||
			echo "osio: $root/var/lib/osio is kept: it holds virtual machines." \
				"Delete it yourself if you no longer need them." >&2
	fi
fi
EOF
if [ -e "$stage/$unit" ]; then
	cat >>"$stage/DEBIAN/postinst" <<'EOF'
# osio.service: enabled (it starts VMs marked autostart at boot and stops VMs at shutdown),
# started at the first installation so that a shutdown stops VMs from now on; an upgrade does
# not restart it (that would stop every VM).
if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] ||
	[ "$1" = abort-remove ]; then
	if command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper unmask osio.service >/dev/null || true
		if deb-systemd-helper --quiet was-enabled osio.service; then
			deb-systemd-helper enable osio.service >/dev/null || true
		else
			deb-systemd-helper update-state osio.service >/dev/null || true
		fi
	fi
	# Starting it when it is active already (an upgrade) does nothing.
	if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		deb-systemd-invoke start osio.service >/dev/null || true
	fi
fi
EOF
	cat >>"$stage/DEBIAN/postrm" <<'EOF'
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = remove ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper mask osio.service >/dev/null || true
fi
if [ "$1" = purge ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper purge osio.service >/dev/null || true
	deb-systemd-helper unmask osio.service >/dev/null || true
fi
EOF
fi
echo "exit 0" | tee -a "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" >>"$stage/DEBIAN/postrm"
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"

# --- control -------------------------------------------------------------------------------------
# dpkg-shlibdeps wants a source package around it: a debian/control of two lines in a scratch
# folder.
shl=$build/deb-shlibdeps
rm -rf "$shl"
mkdir -p "$shl/debian"
printf 'Source: osio\n\nPackage: osio\nArchitecture: any\n' >"$shl/debian/control"
shlibs=$(cd "$shl" && dpkg-shlibdeps -O "$stage/usr/bin/osio" | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || {
	echo "$me: dpkg-shlibdeps found no libraries for $stage/usr/bin/osio" >&2
	exit 1
}
# adduser: postinst's way to the osio user where systemd-sysusers is not there.
depends="$shlibs, adduser"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
# Recommends: seabios (the BIOS of Generation 1 VMs: every VM but osio run --kernel needs it),
# ipxe-qemu (network boot ROMs), grub-rescue-pc (the demo VM's DVD). osio disk does what
# qemu-img would, so qemu-utils is not needed; a VNC viewer is the user's choice.
cat >"$stage/DEBIAN/control" <<EOF
Package: osio
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Recommends: seabios, ipxe-qemu, grub-rescue-pc
Suggests: tigervnc-viewer | vncviewer
Section: admin
Priority: optional
Description: developer-workstation hypervisor on Linux KVM
 osio takes Hyper-V's architecture (a root partition that owns the hardware,
 one worker process per VM) to a terminal: VMs described by plain-text vmconfig
 files, kept in a store and managed with osio commands or from the osio console,
 a Hyper-V-Manager-style terminal UI. Generation 1 PCs boot through SeaBIOS from
 IDE and virtio disks (VHDX, VHD, qcow2, raw) and DVD drives, with VGA on VNC,
 e1000 and virtio-net adapters on virtual switches, saved state and checkpoints.
 .
 osio.service starts the VMs marked autostart at boot and stops VMs at shutdown.
EOF

(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
	xargs -0 md5sum >DEBIAN/md5sums)

deb=$out/osio_${version}_${arch}.deb
# Reproducible: the files' times clamped to the commit's (dpkg-deb reads SOURCE_DATE_EPOCH).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git_ log -1 --format=%ct || date +%s)}
find "$stage" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
"${fakeroot[@]}" dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >&2
echo "$deb"
