#!/usr/bin/env bash
# ctest firmware/grub-save: the lifecycle with real boot software: a store VM made by osio create
# with Debian's GRUB rescue ISO (remastered by grub-iso.sh to wait at its menu) on its DVD,
# booted by SeaBIOS to GRUB's menu, saved while the menu shows, started again: the screen is the
# same picture, with no new boot, and GRUB still answers the keyboard (c opens its command line).
set -uo pipefail

usage() {
	cat <<'EOF2'
usage: grub-save.sh --osio PATH --imgcmp PATH --ctlcall PATH --outdir DIR

  --osio PATH      the osio binary
  --imgcmp PATH    the tests' screenshot comparator (tests/guest/tools/imgcmp.c)
  --ctlcall PATH   one control-API request (tests/connect/ctlcall.c)
  --outdir DIR     the remastered ISO, the VM store and the screenshots go there
EOF2
}

here=$(cd "$(dirname "$0")" && pwd)
osio='' imgcmp='' ctlcall='' outdir=''
while (($#)); do
	case $1 in
	--osio) osio=${2-}; shift 2 ;;
	--imgcmp) imgcmp=${2-}; shift 2 ;;
	--ctlcall) ctlcall=${2-}; shift 2 ;;
	--outdir) outdir=${2-}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; echo "grub-save: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[[ -n $osio && -n $imgcmp && -n $ctlcall && -n $outdir ]] || { usage >&2; exit 2; }
[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
rc=0
iso=$("$here/grub-iso.sh" "$outdir") || rc=$?
((rc == 77)) && { echo "SKIP: see above"; exit 77; }
((rc == 0)) || exit 1

failures=0 passes=0 tmp=$outdir
# shellcheck source=tests/cli/lib.sh
. "$here/../cli/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$here/../cli/vmlib.sh"
rm -rf "$outdir/store" "$outdir/run" "$outdir"/*.png
vm_env "$outdir"
trap 'vm_kill_all' EXIT

vm=grub
log=$OSIO_STORE_DIR/vms/$vm/worker.log
die() {
	echo "FAIL: grub-save: $*"
	[[ -f $log ]] && tail -20 "$log" | sed 's/^/    log: /'
	exit 1
}
shot() {
	"$ctlcall" $vm screenshot "{\"file\": \"$outdir/$1.png\"}" >/dev/null
}

"$osio" create $vm --memory 128M --cpus 1 --disk none --dvd "$iso" --switch none \
	>"$outdir/create.out" 2>&1 || die "create: $(cat "$outdir/create.out")"
"$osio" start $vm >"$outdir/start.out" 2>&1 || die "start: $(cat "$outdir/start.out")"

# The menu (SeaBIOS and GRUB take about 15 s with hardware KVM, a minute or more on an emulating
# KVM): the 720x400 text screen with the first entry highlighted (a grey bar through x=400 on
# row 4) and the menu's frame (grey at x=13 on rows 12 and 16), as firmware/grub-menu shows it
# in QEMU and osio.
menu=(--size 720x400 --probe 400,70,a8a8a8 --probe 13,200,a8a8a8 --probe 13,270,a8a8a8)
for ((i = 0; i < 60; i++)); do
	sleep 5
	shot a || die "screenshot failed"
	"$imgcmp" "$outdir/a.png" "${menu[@]}" >/dev/null 2>&1 && break
done
((i < 60)) && pass "GRUB's menu shows" || die "no GRUB menu on the screen in 300 s (see $outdir/a.png)"
# GRUB draws its menu entry by entry, slowly on an emulating KVM: the picture to keep is the one
# that no longer changes (two screenshots 3 s apart alike), else a half-drawn menu is compared.
for ((i = 0; i < 30; i++)); do
	sleep 3
	shot a2 || die "screenshot failed"
	"$imgcmp" "$outdir/a.png" "$outdir/a2.png" >/dev/null 2>&1 && break
	mv "$outdir/a2.png" "$outdir/a.png"
done
((i < 30)) || die "GRUB's menu kept changing for 90 s (see $outdir/a.png)"

"$osio" save $vm >"$outdir/save.out" 2>&1 && pass "save: $(cat "$outdir/save.out")" ||
	die "save: $(cat "$outdir/save.out")"
[[ $(vm_state $vm) == saved ]] && pass "Saved" || fail "after save: $(vm_state $vm)"
"$osio" start $vm >"$outdir/start2.out" 2>&1 || die "start from saved: $(cat "$outdir/start2.out")"
grep -q 'goes on from its saved state' "$log" && pass "the worker resumed the saved state" ||
	fail "worker.log does not say it resumed"
sleep 3
shot b || die "screenshot after the resume failed"
if "$imgcmp" "$outdir/a.png" "$outdir/b.png" "${menu[@]}" --diff "$outdir/ab-diff.ppm" \
	>"$outdir/imgcmp.out" 2>&1; then
	pass "after the resume the menu is on the screen, the same picture"
else
	fail "the screen after the resume differs: $(cat "$outdir/imgcmp.out")"
fi

# GRUB runs on: 'c' opens its command line, which changes the screen.
"$osio" send-key $vm c >"$outdir/key.out" 2>&1 || fail "send-key: $(cat "$outdir/key.out")"
changed=0
for ((i = 0; i < 24; i++)); do
	sleep 5
	shot c || break
	if ! "$imgcmp" "$outdir/b.png" "$outdir/c.png" >/dev/null 2>&1; then
		changed=1
		break
	fi
done
((changed)) && pass "GRUB answers the keyboard after the resume" ||
	fail "the screen did not change after pressing c"
"$osio" stop $vm >/dev/null 2>&1
echo "grub-save: $passes passed, $failures failed"
((failures == 0))
