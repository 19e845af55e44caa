#!/usr/bin/env bash
# osio's main job for a first look: boot a VM on this terminal.
# - Where /dev/kvm is hardware-backed (kvm_intel, kvm_amd): Debian's own
#   kernel with a busybox initramfs, 2 vCPUs, and a shell on the serial
#   console (exit turns the VM off).
# - Elsewhere (a KVM without hardware support, like kvm_pvm, emulates
#   kernel code too slowly for a stock kernel): the Linux-boot-protocol test
#   kernel osio's tests build, which prints what the loader handed it.
# Ctrl-A x quits at any time. usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
osio=$build/osio
[ -x "$osio" ] || { echo "demo: $osio is missing; build first: cmake --preset default && cmake --build --preset default" >&2; exit 1; }

hardware=
for m in kvm_intel kvm_amd; do [ -d /sys/module/$m ] && hardware=$m; done

if [ -n "$hardware" ]; then
	echo "demo: /dev/kvm is $hardware: booting Debian's kernel (fetching it once, no root needed)"
	paths=$(scripts/fetch-guest-artefacts.sh)
	kernel=$(sed -n 's/^kernel=//p' <<<"$paths")
	initramfs=$(sed -n 's/^initramfs=//p' <<<"$paths")
	exec "$osio" run --name demo --kernel "$kernel" --initrd "$initramfs" \
		--append "console=ttyS0 osio.shell" --memory 1G --cpus 2
fi

guest=$build/tests/guest/bzimage
[ -f "$guest/bzImage" ] || { echo "demo: $guest/bzImage is missing; build first" >&2; exit 1; }
echo "demo: /dev/kvm has no hardware virtualization here, so instead of Debian's kernel"
echo "demo: osio boots its own Linux-boot-protocol test kernel (it reports what it was given):"
read -r initrd_args <"$guest/initrd.args"
set +e
"$osio" run --name demo --kernel "$guest/bzImage" --initrd "$guest/initrd.img" \
	--append "mem=256M cpus=2 $initrd_args demo" --memory 256M --cpus 2
status=$?
set -e
echo "demo: the VM ended with status $status (0: every check passed)"
exit $status
