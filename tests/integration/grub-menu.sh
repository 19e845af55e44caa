#!/usr/bin/env bash
# ctest firmware/grub-menu: Debian's GRUB (grub-rescue-pc's grub-rescue-cdrom.iso) booted by
# SeaBIOS from the DVD drive to its menu, in QEMU TCG and in osio: the text screens must be the
# same and show the menu, the screenshots identical. The ISO is remastered with "set
# timeout=-1" in its grub.cfg (nothing else changes): the stock menu boots after a 30 s
# countdown, which would make the screen depend on when it is taken.
set -euo pipefail

usage() {
	cat <<'EOF2'
usage: grub-menu.sh --osio PATH --imgcmp PATH --outdir DIR [--capture-at S]

  --osio PATH      the osio binary
  --imgcmp PATH    the tests' screenshot comparator (tests/guest/tools/imgcmp.c)
  --outdir DIR     the remastered ISO and both runs' outputs go there
  --capture-at S   when osio takes the screen (default: 15 s with hardware KVM, 60 s
                   on an emulating KVM such as kvm_pvm; OSIO_GRUB_CAPTURE_AT overrides)
EOF2
}

me=grub-menu
here=$(cd "$(dirname "$0")" && pwd)
iso_in=/usr/lib/grub-rescue/grub-rescue-cdrom.iso
osio='' imgcmp='' outdir='' capture_at=${OSIO_GRUB_CAPTURE_AT-}
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--imgcmp) imgcmp=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	--capture-at) capture_at=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "$me: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -n $osio && -n $imgcmp && -n $outdir ]] || { usage >&2; exit 2; }
if [[ -z $capture_at ]]; then
	capture_at=60
	[[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]] && capture_at=15
fi
[[ $capture_at =~ ^[1-9][0-9]*$ ]] || { echo "$me: --capture-at '$capture_at' is not seconds" >&2; exit 2; }

if [[ ! -r $iso_in ]]; then
	echo "SKIP: $iso_in is missing: install the Debian package grub-rescue-pc" \
		"(scripts/install-deps.sh)"
	exit 77
fi
if ! command -v xorriso >/dev/null; then
	echo "SKIP: xorriso not found: install the Debian package xorriso (scripts/install-deps.sh)"
	exit 77
fi

mkdir -p "$outdir"
iso=$outdir/grub-menu.iso
# Rebuilt when the Debian ISO changes (a package update).
if [[ ! -s $iso || $iso_in -nt $iso ]]; then
	rm -f "$iso" "$outdir/grub.cfg"
	if ! xorriso -osirrox on -indev "$iso_in" -extract /boot/grub/grub.cfg "$outdir/grub.cfg" \
		>"$outdir/xorriso.log" 2>&1; then
		cat "$outdir/xorriso.log"
		echo "FAIL: cannot read grub.cfg out of $iso_in"
		exit 1
	fi
	chmod u+w "$outdir/grub.cfg"
	if ! grep -q '^set timeout=' "$outdir/grub.cfg"; then
		echo "FAIL: $iso_in's grub.cfg sets no timeout: has the package changed?" \
			"(see $outdir/grub.cfg)"
		exit 1
	fi
	sed -i 's/^set timeout=.*/set timeout=-1/' "$outdir/grub.cfg"
	# "replay" keeps the El Torito set-up (and GRUB's boot info) as it was.
	xorriso -indev "$iso_in" -outdev "$iso" -boot_image any replay \
		-update "$outdir/grub.cfg" /boot/grub/grub.cfg >>"$outdir/xorriso.log" 2>&1 ||
		{ cat "$outdir/xorriso.log"; echo "FAIL: xorriso could not remaster $iso_in"; exit 1; }
fi

# The menu is in 80x25 text mode; its last line of help says "... for a command-line.".
exec "$here/../guest/differential.sh" --osio "$osio" --outdir "$outdir" --dvd "$iso" \
	--screen-text --expect-text "GNU GRUB  version" --screenshot --imgcmp "$imgcmp" \
	--expect-size 720x400 --capture-at "$capture_at" --wait-text "for a command-line." \
	--timeout $((capture_at + 60))
