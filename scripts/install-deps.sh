#!/usr/bin/env bash
# Installs the Debian packages that osio and its test suite need.
# Idempotent: quiet when everything is present, runs `apt-get update` only
# when something is missing. Needs root (or sudo) only when installing.
set -euo pipefail

packages=(
	# build
	cmake ninja-build gcc libc6-dev pkg-config linux-libc-dev
	# unit tests
	libcmocka-dev
	# screenshots (PNG), the VNC server, the SDL window, the control API (JSON)
	libpng-dev zlib1g-dev libvncserver-dev libsdl2-dev libjansson-dev
	# the console (ncurses TUI) and its scenario tests (driven in tmux)
	libncurses-dev tmux
	# the NAT switch (user-mode TCP/IP)
	libslirp-dev
	# the worker's sandbox (seccomp filter)
	libseccomp-dev
	# firmware and boot software the VMs run, and the tools that build test media
	seabios grub-rescue-pc xorriso isolinux ipxe-qemu
	# guest programs (freestanding, built with the host gcc) and initramfs
	binutils cpio busybox-static
	# peers for differential tests and benchmarks
	qemu-system-x86 qemu-utils
	# real VNC clients and a display server for the connection tests
	gvncviewer tigervnc-viewer novnc xvfb xdotool x11-utils x11-xkb-utils chromium
	# packaging and the bootable root image (scripts/make-deb.sh, scripts/make-root-image.sh)
	dpkg-dev fakeroot lintian man-db bash-completion debootstrap squashfs-tools grub-pc-bin grub-common
	mtools fdisk e2fsprogs
	# test tooling
	procps time jq iproute2 python3
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		sudo=(sudo)
	else
		echo "install-deps: need root to install: ${missing[*]} (run as root, or apt-get install them)" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
