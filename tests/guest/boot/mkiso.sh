#!/bin/bash
# Builds a test DVD: an El Torito no-emulation ISO (xorriso) whose boot image is a boot-media
# program, with /PATTERN.BIN filled by mkmedia (header, pattern sectors, digest).
set -euo pipefail

if (($# != 4)); then
	echo "usage: mkiso.sh OUT.iso BOOT.bin PATTERN_SECTORS MKMEDIA" >&2
	exit 2
fi
out=$1 boot=$2 sectors=$3 mkmedia=$4
if ! command -v xorriso >/dev/null; then
	echo "mkiso: xorriso not found: install the Debian package xorriso (scripts/install-deps.sh)" >&2
	exit 1
fi
[[ -r $boot ]] || { echo "mkiso: cannot read the boot image $boot" >&2; exit 1; }
[[ $sectors =~ ^[1-9][0-9]*$ ]] || { echo "mkiso: PATTERN_SECTORS must be a number" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkiso.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/root"
cp "$boot" "$tmp/root/boot.bin"
# The header sector and the pattern sectors; mkmedia fills them once their LBAs are known.
truncate -s $(((sectors + 1) * 2048)) "$tmp/root/PATTERN.BIN"
# Load size 4 x 512 bytes: the stub's first 2048-byte sector; it loads the rest itself.
xorriso -as mkisofs -quiet -V OSIO_TEST -o "$tmp/out.iso" -b boot.bin -no-emul-boot \
	-boot-load-size 4 -boot-info-table -c boot.cat "$tmp/root" 2>"$tmp/log" ||
	{ cat "$tmp/log" >&2; echo "mkiso: xorriso failed" >&2; exit 1; }
"$mkmedia" patch-iso "$tmp/out.iso" >/dev/null
mv "$tmp/out.iso" "$out"
