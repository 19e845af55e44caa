#!/usr/bin/env bash
# ctest firmware/grub-menu: Debian's GRUB (grub-rescue-pc's grub-rescue-cdrom.iso, remastered
# by grub-iso.sh to wait at its menu) booted by SeaBIOS from the DVD drive to its menu, in QEMU
# TCG and in osio: the text screens must be the same and show the menu, the screenshots
# identical.
set -euo pipefail

usage() {
	cat <<'EOF2'
usage: grub-menu.sh --osio PATH --imgcmp PATH --outdir DIR [--capture-at S]

  --osio PATH      the osio binary
  --imgcmp PATH    the tests' screenshot comparator (tests/guest/tools/imgcmp.c)
  --outdir DIR     the remastered ISO and both runs' outputs go there
  --capture-at S   when osio takes the screen (default: 15 s with hardware KVM, 90 s
                   on an emulating KVM such as kvm_pvm; OSIO_GRUB_CAPTURE_AT overrides)
EOF2
}

me=grub-menu
here=$(cd "$(dirname "$0")" && pwd)
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
	# QEMU TCG draws GRUB's menu entries one by one; beside other tests on 2 CPUs it took
	# longer than 60 s (CI caught it half drawn).
	capture_at=90
	[[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]] && capture_at=15
fi
[[ $capture_at =~ ^[1-9][0-9]*$ ]] || { echo "$me: --capture-at '$capture_at' is not seconds" >&2; exit 2; }

rc=0
iso=$("$here/grub-iso.sh" "$outdir") || rc=$?
if ((rc == 77)); then
	echo "SKIP: see above"
	exit 77
fi
((rc == 0)) || exit 1

# The menu is in 80x25 text mode; its last line of help says "... for a command-line.".
exec "$here/../guest/differential.sh" --osio "$osio" --outdir "$outdir" --dvd "$iso" \
	--screen-text --expect-text "GNU GRUB  version" --screenshot --imgcmp "$imgcmp" \
	--expect-size 720x400 --capture-at "$capture_at" --wait-text "for a command-line." \
	--timeout $((capture_at + 60))
