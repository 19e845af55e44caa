#!/usr/bin/env bash
# ctest integration/debian-disks(-qemu): the Debian kernel with a busybox initramfs makes an ext4
# filesystem (mke2fs from the host's e2fsprogs) on an IDE disk and a virtio disk in each image
# format (raw, qcow2, VHDX, VHD), writes files, syncs, unmounts and powers off; the host then
# requires qemu-img check clean, e2fsck -fn clean on each image converted to raw, and the files'
# contents. In osio only with hardware KVM (else SKIP, exit 77); in QEMU TCG to prove the test.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: debian-disks.sh --vmm osio|qemu [--osio PATH] [--outdir DIR] [--timeout S]

  --vmm osio   run in osio; skipped (exit 77) unless kvm_intel or kvm_amd is loaded
  --vmm qemu   run in QEMU TCG: proves the artefacts, /init and the host checks right
  --osio PATH  the osio binary
  --outdir DIR keep the images, the console output and the initramfs there (default: a new
               temporary directory)
  --timeout S  give up on the guest after S seconds (default 600)
The kernel and busybox come from scripts/fetch-guest-artefacts.sh (Debian archive needed);
mke2fs, e2fsck and debugfs from the host's e2fsprogs.
EOF
}

me=debian-disks
timeout_s=600
mem=512M cpus=2 disk_size=64M
formats=(raw qcow2 vhdx vhd)
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
deb_parse_args "$@"
deb_check_vmm
for tool in qemu-img mke2fs e2fsck debugfs objcopy cpio gzip ldd md5sum; do
	command -v "$tool" >/dev/null ||
		{ echo "FAIL: '$tool' not found (Debian: qemu-utils, e2fsprogs, binutils, cpio)"; exit 1; }
done

deb_outdir
deb_fetch
# --- the initramfs: busybox (from the base initramfs), the modules the disks and ext4 need
# (with their dependencies, from each module's .modinfo), mke2fs with its libraries, /init.
deb_initramfs_root "$outdir/initramfs.root"
# crc32c_generic: ext4's metadata checksums ask the crypto API for crc32c, which no
# dependency names.
deb_add_modules virtio_pci virtio_blk ata_piix sd_mod crc32c_generic ext4

# mke2fs and the shared libraries it loads, at the same paths.
mkdir -p "$root/sbin" "$root/etc"
cp "$(command -v mke2fs)" "$root/sbin/mke2fs"
[ -r /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$root/etc/"
for lib in $(ldd "$(command -v mke2fs)" | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# shellcheck disable=SC2016
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
export PATH=/bin:/sbin
/bin/busybox mkdir -p /proc /sys /dev /tmp /mnt
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev && exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
for m in $(cat /lib/modules/order); do
	insmod /lib/modules/$m.ko || echo "OSIO-DISK-FAIL insmod $m"
done
want=$(sed -n 's/.*osio.disks=\([0-9]*\).*/\1/p' /proc/cmdline)
# The disks appear as the drivers probe them: wait up to 60 s for all of them.
i=0
while [ $i -lt 600 ]; do
	n=$(ls /sys/block | grep -c -E '^(sd|vd)[a-z]$')
	[ "$n" -ge "$want" ] && break
	sleep 0.1
	i=$((i + 1))
done
echo "OSIO-DISKS-SEEN $(ls /sys/block | grep -E '^(sd|vd)[a-z]$' | tr '\n' ' ')"
for d in $(ls /sys/block | grep -E '^(sd|vd)[a-z]$'); do
	dev=/dev/$d
	if ! /sbin/mke2fs -q -F -t ext4 -L "$d" "$dev"; then echo "OSIO-DISK-FAIL $d mke2fs"; continue; fi
	if ! mount -t ext4 "$dev" /mnt; then echo "OSIO-DISK-FAIL $d mount"; continue; fi
	echo "$d" >/mnt/id
	seq 1 100000 >/mnt/numbers
	mkdir /mnt/dir
	j=0
	while [ $j -lt 200 ]; do echo "file $j on $d" >/mnt/dir/f$j; j=$((j + 1)); done
	dd if=/dev/urandom of=/mnt/random bs=64k count=128 2>/dev/null
	md5sum /mnt/random | cut -d' ' -f1 >/mnt/random.md5
	sync
	if umount /mnt; then echo "OSIO-DISK-OK $d"; else echo "OSIO-DISK-FAIL $d umount"; fi
done
sync
echo "OSIO-DISKS-DONE"
poweroff -f
EOF
chmod 0755 "$root/init"
deb_pack_initramfs

# --- the disks: one IDE and one virtio disk per format, made by qemu-img.
qfmt() { [ "$1" = vhd ] && echo vpc || echo "$1"; }
disks=()
osio_disks=() qemu_disks=()
idx=0
for f in "${formats[@]}"; do
	for bus in ide virtio; do
		img=$outdir/$bus-$f.img
		rm -f "$img"
		qemu-img create -q -f "$(qfmt "$f")" "$img" "$disk_size"
		disks+=("$bus:$f:$img")
		osio_disks+=(--disk "$img,bus=$bus,format=$f")
		qemu_disks+=(-drive "file=$img,format=$(qfmt "$f"),if=none,id=d$idx")
		if [ "$bus" = ide ]; then
			ide_n=$((idx / 2))
			qemu_disks+=(-device "ide-hd,drive=d$idx,bus=ide.$((ide_n / 2)),unit=$((ide_n % 2))")
		else
			qemu_disks+=(-device "virtio-blk-pci,drive=d$idx")
		fi
		idx=$((idx + 1))
	done
done
ndisks=${#disks[@]}
echo "$me: $(basename "$kernel") with mke2fs in $vmm, $ndisks disks ($disk_size each):" \
	"IDE and virtio in ${formats[*]}"

append="console=ttyS0 panic=-1 osio.disks=$ndisks"
osio_disks=(--vnc none "${osio_disks[@]}")
deb_boot "$append" "$initramfs" osio_disks qemu_disks
grep -aq 'OSIO-DISKS-DONE' "$out.txt" || fail "/init did not finish (status $status after $secs s)"
if grep -aq 'OSIO-DISK-FAIL' "$out.txt"; then
	fail "in the guest: $(grep -a 'OSIO-DISK-FAIL' "$out.txt" | tr '\n' ';')"
fi
okays=$(grep -ac '^OSIO-DISK-OK ' "$out.txt" || true)
[ "$okays" = "$ndisks" ] ||
	fail "$okays of $ndisks disks got a filesystem ($(grep -a OSIO-DISKS-SEEN "$out.txt"))"
deb_powered_off

# --- the host's view of every image.
want_numbers=$(seq 1 100000 | md5sum | cut -d' ' -f1)
declare -A seen_ids=()
for entry in "${disks[@]}"; do
	bus=${entry%%:*} rest=${entry#*:}
	f=${rest%%:*} img=${rest#*:}
	what="$bus disk in $f ($img)"
	# Exit status 63: the format has no check in QEMU (raw, VHD).
	set +e
	qemu-img check -q -f "$(qfmt "$f")" "$img" >"$outdir/check.out" 2>&1
	st=$?
	set -e
	checked="qemu-img check clean"
	case $st in
	0) ;;
	63) checked="(qemu-img has no check for $f)" ;;
	*) cat "$outdir/check.out"; fail "qemu-img check (status $st): $what" ;;
	esac
	raw=$outdir/check.raw
	rm -f "$raw"
	qemu-img convert -f "$(qfmt "$f")" -O raw "$img" "$raw" || fail "qemu-img convert: $what"
	if ! e2fsck -fn "$raw" >"$outdir/fsck.out" 2>&1; then
		tail -n 15 "$outdir/fsck.out"
		fail "e2fsck -fn finds errors: $what"
	fi
	id=$(debugfs -R "cat /id" "$raw" 2>/dev/null)
	[[ $id =~ ^(sd|vd)[a-z]$ ]] || fail "no /id file: $what"
	[ -z "${seen_ids[$id]-}" ] || fail "two images hold the filesystem of $id"
	seen_ids[$id]=1
	case $bus in
	ide) [[ $id == sd? ]] || fail "the IDE disk holds $id's filesystem: $what" ;;
	virtio) [[ $id == vd? ]] || fail "the virtio disk holds $id's filesystem: $what" ;;
	esac
	[ "$(debugfs -R "cat /numbers" "$raw" 2>/dev/null | md5sum | cut -d' ' -f1)" = "$want_numbers" ] ||
		fail "/numbers differs: $what"
	rmd5=$(debugfs -R "cat /random" "$raw" 2>/dev/null | md5sum | cut -d' ' -f1)
	[ "$rmd5" = "$(debugfs -R "cat /random.md5" "$raw" 2>/dev/null)" ] ||
		fail "/random differs from the md5 the guest computed: $what"
	[ "$(debugfs -R "cat /dir/f199" "$raw" 2>/dev/null)" = "file 199 on $id" ] ||
		fail "/dir/f199 is wrong: $what"
	rm -f "$raw"
	echo "ok: $what: $checked, e2fsck -fn clean, the files of $id intact"
done
echo "PASS: $ndisks disks made, written and checked in $vmm, in $secs s"
