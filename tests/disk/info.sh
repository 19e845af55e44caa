#!/bin/bash
# `osio disk info --json` against `qemu-img info --output=json` on the same
# files: format, virtual size, allocated size, block (cluster) size, dirty
# flag, parent; and the chain listed parent by parent. Also the text form.
source "$(dirname "$0")/lib.sh" "$@"

# same IMAGE: the two tools agree on IMAGE
same() {
	local img=$1
	if ! "$OSIO" disk info --json "$img" >o.json; then
		bad "$img: osio disk info --json failed"
		return
	fi
	# qemu-img recognizes no fixed VHD (its footer is at the end): name it
	local hint=()
	case $img in *.vhd) hint=(-f vpc) ;; esac
	qemu-img info --output=json "${hint[@]}" "$img" >q.json || fail "$img: qemu-img info"
	local qf of
	qf=$(jq -r .format q.json) of=$(json_get o.json format)
	[ "$(qfmt "$of")" = "$qf" ] || bad "$img: format $of, qemu-img says $qf"
	for pair in virtual-size:virtual-size actual-size:actual-size; do
		local ok=${pair%%:*} qk=${pair#*:}
		[ "$(json_get o.json "$ok")" = "$(jq -r --arg k "$qk" '.[$k]' q.json)" ] ||
			bad "$img: $ok $(json_get o.json "$ok"), qemu-img says $(jq -r --arg k "$qk" '.[$k]' q.json)"
	done
	local qc
	qc=$(jq -r '."cluster-size" // 0' q.json)
	if [ "$qf" != raw ] && [ "$qc" != 0 ]; then
		[ "$(json_get o.json block-size)" = "$qc" ] ||
			bad "$img: block-size $(json_get o.json block-size), qemu-img's cluster-size $qc"
	fi
	local qd
	qd=$(jq -r '."dirty-flag" // false' q.json)
	[ "$(json_get o.json dirty)" = "$qd" ] || bad "$img: dirty $(json_get o.json dirty), qemu-img $qd"
	local qb ob
	qb=$(jq -r '."backing-filename" // ""' q.json)
	ob=$(jq -r '.parent // ""' o.json)
	[ "$ob" = "$qb" ] || bad "$img: parent '$ob', qemu-img's backing-filename '$qb'"
	[ -n "$(json_get o.json subformat)" ] || [ "$of" = raw ] || bad "$img: no subformat"
}

ref_new ref.raw 64M
ref_put ref.raw 0 1048576 1
ref_put ref.raw 40000000 20000 2
ref_put ref.raw 33554432 1048576 3

echo "== images qemu-img made"
qemu-img convert -O qcow2 -f raw ref.raw q.qcow2
qemu-img convert -O qcow2 -o cluster_size=16384 -f raw ref.raw q16k.qcow2
qemu-img convert -O vhdx -f raw ref.raw q.vhdx
qemu-img convert -O vhdx -o subformat=fixed -f raw ref.raw qfixed.vhdx
qemu-img convert -O vpc -o force_size=on -f raw ref.raw q.vhd
qemu-img convert -O vpc -o subformat=fixed,force_size=on -f raw ref.raw qfixed.vhd
cp --sparse=always ref.raw q.img
qemu-img create -q -f qcow2 -b q.qcow2 -F qcow2 qchild.qcow2
for img in q.qcow2 q16k.qcow2 q.vhdx qfixed.vhdx q.vhd qfixed.vhd q.img qchild.qcow2; do
	same "$img"
done

echo "== images osio made"
for kind in $ALL_KINDS; do
	fmt=${kind%:*} type=${kind#*:}
	img=o-$fmt-$type.$fmt
	"$OSIO" disk create "$img" --size 64M --type "$type" || {
		bad "osio disk create $img"
		continue
	}
	same "$img"
	"$OSIO" disk info --json "$img" >o.json
	case $fmt:$type in
	vhdx:* | vhd:*)
		[ "$(json_get o.json subformat)" = "$type" ] ||
			bad "$img: subformat $(json_get o.json subformat), not $type"
		;;
	esac
done
"$OSIO" disk create o-child.qcow2 --parent o-qcow2-dynamic.qcow2 && same o-child.qcow2 ||
	bad "osio disk create --parent (qcow2)"
"$OSIO" disk create o-b1.qcow2 --size 16M --block-size 128K && same o-b1.qcow2 ||
	bad "osio disk create --block-size 128K"

echo "== the chain"
"$OSIO" disk create mid.vhdx --size 64M && "$OSIO" disk create top.vhdx --parent mid.vhdx &&
	"$OSIO" disk create tip.vhdx --parent top.vhdx || bad "a VHDX chain of three"
if "$OSIO" disk info --json tip.vhdx >chain.json; then
	[ "$(jq -r '.parents | length' chain.json)" = 2 ] || bad "tip.vhdx: not two parents"
	[ "$(jq -r '.parents[0].filename' chain.json)" -ef top.vhdx ] ||
		bad "tip.vhdx: the first parent is not top.vhdx"
	[ "$(jq -r '.parents[1].filename' chain.json)" -ef mid.vhdx ] ||
		bad "tip.vhdx: the second parent is not mid.vhdx"
	[ "$(jq -r '.parents[1]."virtual-size"' chain.json)" = 67108864 ] ||
		bad "tip.vhdx: the last parent's size"
	[ "$(jq -r '.parents[0].subformat' chain.json)" = differencing ] ||
		bad "top.vhdx: subformat $(jq -r '.parents[0].subformat' chain.json)"
else
	bad "osio disk info --json tip.vhdx"
fi
"$OSIO" disk info tip.vhdx >chain.txt || bad "osio disk info tip.vhdx"
grep -q "^parent 2: .*mid.vhdx" chain.txt || bad "the text form does not list mid.vhdx as parent 2"
grep -q "virtual size: *64 MiB (67108864 bytes)" chain.txt || bad "the text form's virtual size"
finish
