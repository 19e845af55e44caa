#!/bin/bash
# ctest cli/kvm-check: where KVM cannot be used (OSIO_KVM_DEVICE=/nonexistent, a device without
# permission), osio start and osio run say so on one line starting "KVM is unavailable: " with
# the reason and the fix, and the console (in tmux) shows that line in its title line (whole at
# 260 columns, its start at 80), and Start then fails with it; with /dev/kvm usable, no such line.
# (osio run as a user without permission: cli/run-errors.)
# Usage: kvm-check.sh OSIO GUEST_DIR [ARTIFACTS]
set -u
osio=$(realpath "$1") guests=$2
OSIO=$osio
tmp=$(mktemp -d /tmp/osio-kvm-check.XXXXXX)
ARTIFACTS=${3:-$tmp/artifacts}
failures=0 passes=0
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/console/lib.sh
. "$(dirname "$0")/../console/lib.sh"
con_dirs
unset OSIO_SYSTEM
kernel=$guests/lifecycle.elf
nokvm="KVM is unavailable: /nonexistent does not exist: load KVM \(modprobe kvm_intel or kvm_amd\)"
nokvm+=" and enable virtualization \(VT-x/AMD-V\) in the firmware setup; inside a VM, its host must"
nokvm+=" offer nested virtualization"

# --- the commands ---------------------------------------------------------------------------------
"$osio" create demo --memory 64M --cpus 1 --disk none --switch none >"$tmp/out" 2>&1 ||
	{ echo "FAIL: osio create: $(cat "$tmp/out")"; exit 1; }
export OSIO_KVM_DEVICE=/nonexistent
expect_error "osio start" 1 "^osio start: error: VM 'demo' did not start: $nokvm \(its log: " -- \
	"$osio" start demo
if [[ -r $kernel ]]; then
	expect_error "osio run" 1 "^osio: error: $nokvm$" -- "$osio" run --kernel "$kernel"
else
	echo "SKIP (part): $kernel is not built: osio run not checked"
fi
# --- the console ----------------------------------------------------------------------------------
con_need_tmux
con_start 260 40 || exit 1
con_step "the console's title line has the whole line" "^ osio - 1 virtual machine, 0 running +$nokvm *\$"
con_capture kvm-260x40
con_keys s
con_step "Start fails with the line" "did not start: KVM is unavailable: " 20
con_step "in a dialog" "Start of demo failed"
con_capture kvm-start
con_keys Enter
con_stop
con_start 80 24 || exit 1
con_step "80 columns: the title line has its start" \
	"^ osio - 1 virtual machine, 0 running +KVM is unavailable: /nonexistent does n"
con_capture kvm-80x24
con_stop

# With the device there, no such line (KVM is usable here or not: the line must be
# kvm_check_access's verdict, not always there).
unset OSIO_KVM_DEVICE
if [[ -r /dev/kvm && -w /dev/kvm ]]; then
	con_start 220 40 || exit 1
	con_step "the console with /dev/kvm" "osio - 1 virtual machine, 0 running"
	sleep 1
	if con_screen | grep -q "KVM is unavailable"; then
		fail "with /dev/kvm the console still says KVM is unavailable"
	else
		pass "with /dev/kvm no KVM line"
	fi
	con_stop
fi

echo "$passes passed, $failures failed"
((failures == 0))
