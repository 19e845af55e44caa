#!/bin/bash
# osio run's promises to users: every mistake (no /dev/kvm, no permission,
# missing or wrong files, bad sizes, bad vmconfig) is one clear line on
# stderr and a non-zero exit, never a crash; a KVM without hardware support
# is named once; --on-reboot exit ends the VM at the guest's first reset.
# usage: run-errors.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

kernel=$guests/debugexit.elf
[ -r "$kernel" ] || { echo "FAIL: $kernel missing: build the guest programs"; exit 1; }

"$osio" >/dev/null 2>"$tmp/err"
if (($? == 2)) && head -n1 "$tmp/err" | grep -q '^usage: osio COMMAND'; then
	passes=$((passes + 1))
	echo "ok: no command: the usage, status 2"
else
	fail "no command: expected the usage on stderr and status 2"
fi
expect_error "unknown command" 2 "unknown command 'frobnicate'" -- "$osio" frobnicate
expect_error "unknown option" 2 "unknown option '--frobnicate'" -- "$osio" run --frobnicate
expect_error "option without value" 2 "--memory needs a value" -- "$osio" run --memory
expect_error "nothing to boot" 1 'firmware = none needs a kernel to boot' -- \
	"$osio" run --firmware none
expect_error "bad timeout" 2 "--timeout soon: not a duration" -- "$osio" run --timeout soon
expect_error "missing kernel" 1 "kernel $tmp/nope.elf: No such file or directory" -- \
	"$osio" run --kernel "$tmp/nope.elf"
echo "just text" >"$tmp/text"
expect_error "not a kernel" 1 "kernel $tmp/text: not a kernel osio can boot" -- \
	"$osio" run --kernel "$tmp/text"
expect_error "kernel is a directory" 1 "kernel $tmp: not a regular file" -- \
	"$osio" run --kernel "$tmp"
expect_error "missing initrd" 1 "initrd $tmp/nope.img: No such file or directory" -- \
	"$osio" run --kernel "$kernel" --initrd "$tmp/nope.img"
expect_error "bad memory size" 1 "--memory 12X: .*not a size.*512M" -- \
	"$osio" run --kernel "$kernel" --memory 12X
expect_error "memory without unit" 1 "--memory 512: " -- \
	"$osio" run --kernel "$kernel" --memory 512
expect_error "zero cpus" 1 "--cpus 0: " -- "$osio" run --kernel "$kernel" --cpus 0
expect_error "too many cpus" 1 "--cpus 5000: " -- "$osio" run --kernel "$kernel" --cpus 5000
expect_error "bad on-reboot" 1 "--on-reboot halt: .*did you mean|--on-reboot halt: " -- \
	"$osio" run --kernel "$kernel" --on-reboot halt
expect_error "kernel too big for RAM" 1 "give the VM more memory|not free RAM" -- \
	"$osio" run --kernel "$kernel" --memory 1M
expect_error "missing vmconfig" 1 "$tmp/nope.vmconfig: .*No such file" -- \
	"$osio" run "$tmp/nope.vmconfig"
printf '[vm]\nmemroy = 1G\n' >"$tmp/typo.vmconfig"
expect_error "vmconfig typo" 1 "typo.vmconfig:2:1: error: unknown key 'memroy'.*did you mean 'memory'" -- \
	"$osio" run "$tmp/typo.vmconfig"
printf '[vm]\nmemory = 64M\n[boot]\nkernel = %s\n[nic "lan"]\nswitch = no-such-switch\nmac = 52:4f:53:00:00:09\n' \
	"$kernel" >"$tmp/nic.vmconfig"
expect_error "unknown switch" 1 "nic 'lan' \\(.*nic.vmconfig:5\\): no switch 'no-such-switch'" -- \
	"$osio" run "$tmp/nic.vmconfig"
expect_error "serial socket without a path" 1 "^osio: error: --serial socket needs a path" -- \
	"$osio" run --kernel "$kernel" --serial socket
expect_error "no /dev/kvm" 1 "$tmp/kvm does not exist: load KVM" -- \
	env OSIO_KVM_DEVICE="$tmp/kvm" "$osio" run --kernel "$kernel"
expect_error "not a KVM device" 1 "$tmp/text" -- \
	env OSIO_KVM_DEVICE="$tmp/text" "$osio" run --kernel "$kernel"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	# As an ordinary user without access to the device (root is never
	# refused).
	cp "$kernel" "$tmp/k.elf"
	chmod 755 "$tmp"
	chmod 644 "$tmp/k.elf"
	touch "$tmp/kvm-denied"
	chmod 600 "$tmp/kvm-denied"
	expect_error "no permission" 1 "no permission to open $tmp/kvm-denied: add your user to the 'kvm' group" -- \
		env OSIO_KVM_DEVICE="$tmp/kvm-denied" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$osio" run --kernel "$tmp/k.elf"
fi
if [ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)" = 0 ]; then
	expect_error "huge pages not reserved" 1 "in huge pages: .*nr_hugepages" -- \
		"$osio" run --kernel "$kernel" --memory 64M --hugepages
fi

# A KVM without hardware virtualization is named once, and the VM still runs.
if [ -d /sys/module/kvm_pvm ] && [ -w /dev/kvm ]; then
	"$osio" run --kernel "$kernel" --cpus 2 --memory 32M </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	notes=$(grep -c 'osio: note: /dev/kvm is kvm_pvm, without hardware virtualization' "$tmp/err")
	if ((rc == 42 && notes == 1)); then
		passes=$((passes + 1))
		echo "ok: kvm_pvm named once and the VM ran (status 42)"
	else
		fail "kvm_pvm note: status $rc (want 42), $notes notes (want 1)"
		sed 's/^/    stderr: /' "$tmp/err"
	fi
fi

# Without a kernel the BIOS runs; with no drive it finds nothing to boot,
# and --timeout turns the VM off with status 124.
if [ -w /dev/kvm ]; then
	"$osio" run --memory 32M --timeout 3s </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if ((rc == 124)) && grep -q 'turning it off' "$tmp/err"; then
		passes=$((passes + 1))
		echo "ok: the BIOS ran until --timeout, status 124"
	else
		fail "--timeout: status $rc (want 124)"
		sed 's/^/    stderr: /' "$tmp/err"
	fi
fi

# --on-reboot exit: the guest's first reset ends osio with status 0.
if [ -w /dev/kvm ]; then
	"$osio" run --kernel "$guests/reset.elf" --on-reboot exit --memory 32M \
		--append "mem=32M cpus=1" </dev/null >"$tmp/out" 2>"$tmp/err"
	rc=$?
	boots=$(grep -c '^reset: boot ' "$tmp/out")
	if ((rc == 0 && boots == 1)); then
		passes=$((passes + 1))
		echo "ok: --on-reboot exit ended the VM at the first reset"
	else
		fail "--on-reboot exit: status $rc (want 0), $boots boots (want 1)"
		sed 's/^/    out: /' "$tmp/out"
	fi
fi

echo "$passes passed, $failures failed"
((failures == 0))
