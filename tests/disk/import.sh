#!/bin/bash
# Images qemu-img makes, read through osio byte for byte: all four formats
# (qcow2, vhdx, vpc and raw; dynamic and fixed), a qcow2 with a backing file
# and data written by qemu-io on top, and compressed qcow2 clusters.
# `osio disk convert X out.raw` must equal the reference, and blkio reads
# of the written ranges must find the pattern.
source "$(dirname "$0")/lib.sh" "$@"

ref_writes ref.raw 64M "$WRITES64"

# osio_reads IMAGE REF WHAT: osio's view of IMAGE is REF
osio_reads() {
	rm -f out.raw
	if ! "$OSIO" disk convert "$1" out.raw; then
		bad "$3: osio disk convert failed"
		return
	fi
	cmp out.raw "$2" || bad "$3: osio reads other bytes than qemu-img wrote"
}

for spec in qcow2: qcow2:preallocation=full vhdx: vhdx:subformat=fixed \
	vhdx:block_size=1048576 vpc:force_size=on vpc:subformat=fixed,force_size=on raw:; do
	fmt=${spec%%:*} opts=${spec#*:}
	name=q-$fmt${opts:+-${opts//[=,]/-}}.img
	echo "== qemu-img convert -O $fmt ${opts:+-o $opts}"
	qemu-img convert -f raw -O "$fmt" ${opts:+-o "$opts"} ref.raw "$name" ||
		fail "qemu-img convert -O $fmt $opts"
	osio_reads "$name" ref.raw "$fmt $opts"
	writes_verify "$name" "$WRITES64" || bad "$fmt $opts: blkio reads other bytes"
done

echo "== qcow2 with compressed clusters"
qemu-img convert -c -f raw -O qcow2 ref.raw comp.qcow2 || fail "qemu-img convert -c"
osio_reads comp.qcow2 ref.raw "compressed qcow2"
writes_verify comp.qcow2 "$WRITES64" || bad "compressed qcow2: blkio reads other bytes"

echo "== qcow2 with a backing file, and qemu-io writes in the overlay"
qemu-img convert -f raw -O qcow2 ref.raw base.qcow2 || fail "qemu-img convert base"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 over.qcow2 || fail "qemu-img create -b"
cp ref.raw over.ref
# qemu-io's pattern bytes: 0x5a over [4M, 6M), 0xa5 over [40M+512, 40M+4608)
qemu-io -f qcow2 -c "write -P 0x5a 4M 2M" -c "write -P 0xa5 41943552 4096" over.qcow2 >/dev/null ||
	fail "qemu-io write"
head -c 2097152 /dev/zero | tr '\0' '\132' |
	dd of=over.ref bs=1M seek=4194304 oflag=seek_bytes iflag=fullblock conv=notrunc status=none
head -c 4096 /dev/zero | tr '\0' '\245' |
	dd of=over.ref bs=4096 seek=41943552 oflag=seek_bytes conv=notrunc status=none
qemu-img compare -F raw over.qcow2 over.ref || fail "the reference itself is wrong"
osio_reads over.qcow2 over.ref "qcow2 overlay on a backing file"
# and a zero-write (a zero cluster over backing data) read as zeroes
qemu-io -f qcow2 -c "write -z 0 65536" over.qcow2 >/dev/null || fail "qemu-io write -z"
dd if=/dev/zero of=over.ref bs=65536 count=1 conv=notrunc status=none
osio_reads over.qcow2 over.ref "qcow2 zero cluster over backing data"

echo "== vhdx and vpc with a second layer of writes by qemu-io"
for fmt in vhdx vpc; do
	opts=()
	[ "$fmt" = vpc ] && opts=(-o force_size=on)
	qemu-img create -q -f "$fmt" "${opts[@]}" io.$fmt 64M || fail "qemu-img create $fmt"
	ref_new io-$fmt.ref 64M
	qemu-io -f "$fmt" -c "write -P 0x33 3M 5M" -c "write -P 0x44 34603008 512" io.$fmt >/dev/null ||
		fail "qemu-io write $fmt"
	head -c 5242880 /dev/zero | tr '\0' '\063' |
		dd of=io-$fmt.ref bs=1M seek=3145728 oflag=seek_bytes iflag=fullblock conv=notrunc status=none
	head -c 512 /dev/zero | tr '\0' '\104' |
		dd of=io-$fmt.ref bs=512 seek=34603008 oflag=seek_bytes conv=notrunc status=none
	osio_reads io.$fmt io-$fmt.ref "$fmt written by qemu-io"
done
finish
