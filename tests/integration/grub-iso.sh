#!/usr/bin/env bash
# Debian's GRUB rescue ISO (grub-rescue-pc's grub-rescue-cdrom.iso) remastered with "set
# timeout=-1" in its grub.cfg (nothing else changes): the stock menu boots after a 30 s countdown,
# which would make the screen depend on when it is taken. Usage: grub-iso.sh OUTDIR; prints the
# ISO's path. Exit 77 with a SKIP line when the package or xorriso is missing, 1 on failure.
set -euo pipefail
outdir=${1:?usage: grub-iso.sh OUTDIR}
iso_in=/usr/lib/grub-rescue/grub-rescue-cdrom.iso
if [[ ! -r $iso_in ]]; then
	echo "SKIP: $iso_in is missing: install the Debian package grub-rescue-pc" \
		"(scripts/install-deps.sh)" >&2
	exit 77
fi
if ! command -v xorriso >/dev/null; then
	echo "SKIP: xorriso not found: install the Debian package xorriso (scripts/install-deps.sh)" >&2
	exit 77
fi
mkdir -p "$outdir"
iso=$outdir/grub-menu.iso
# Rebuilt when the Debian ISO changes (a package update).
if [[ ! -s $iso || $iso_in -nt $iso ]]; then
	rm -f "$iso" "$outdir/grub.cfg"
	if ! xorriso -osirrox on -indev "$iso_in" -extract /boot/grub/grub.cfg "$outdir/grub.cfg" \
		>"$outdir/xorriso.log" 2>&1; then
		cat "$outdir/xorriso.log" >&2
		echo "FAIL: cannot read grub.cfg out of $iso_in" >&2
		exit 1
	fi
	chmod u+w "$outdir/grub.cfg"
	if ! grep -q '^set timeout=' "$outdir/grub.cfg"; then
		echo "FAIL: $iso_in's grub.cfg sets no timeout: has the package changed?" \
			"(see $outdir/grub.cfg)" >&2
		exit 1
	fi
	sed -i 's/^set timeout=.*/set timeout=-1/' "$outdir/grub.cfg"
	# "replay" keeps the El Torito set-up (and GRUB's boot info) as it was.
	xorriso -indev "$iso_in" -outdev "$iso" -boot_image any replay \
		-update "$outdir/grub.cfg" /boot/grub/grub.cfg >>"$outdir/xorriso.log" 2>&1 ||
		{ cat "$outdir/xorriso.log" >&2; echo "FAIL: xorriso could not remaster $iso_in" >&2; exit 1; }
fi
echo "$iso"
