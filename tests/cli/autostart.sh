#!/bin/bash
# ctest cli/autostart: osio autostart and autostop on a store of test guests (lifecycle.elf powers
# off on the ACPI power button, kbdecho.elf ignores it). autostart starts exactly the VMs marked
# autostart, by autostart_order and not by name, after each one's delay, says which one failed and
# still starts the others; autostop applies each VM's stop_action at once: shutdown (Off),
# shutdown that times out (saved), save (Saved, and start resumes it), off. And osio.service as
# installed (@BINDIR@ replaced) passes systemd-analyze verify.
# Usage: autostart.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
tmp=$(mktemp -d /tmp/osio-autostart.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"
unit=$(dirname "$0")/../../share/systemd/osio.service

# --- osio.service, as cmake --install writes it -------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP (part): systemd-analyze is not installed: osio.service not verified"
else
	mkdir -p "$tmp/unit"
	sed "s|@BINDIR@|$(dirname "$(realpath "$osio")")|g" "$unit" >"$tmp/unit/osio.service"
	if systemd-analyze verify --man=no "$tmp/unit/osio.service" >"$tmp/verify" 2>&1; then
		pass "systemd-analyze verify osio.service"
	else
		fail "systemd-analyze verify osio.service: $(cat "$tmp/verify")"
	fi
	grep -q "^ExecStop=$(dirname "$(realpath "$osio")")/osio --system autostop$" \
		"$tmp/unit/osio.service" && pass "ExecStop runs osio --system autostop" ||
		fail "osio.service: $(grep Exec "$tmp/unit/osio.service")"
fi

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
for g in lifecycle kbdecho; do
	[[ -r $guests/$g.elf ]] || { echo "SKIP: $guests/$g.elf is not built"; exit 77; }
done
vm_env "$tmp" || exit 2
unset OSIO_SANDBOX OSIO_SYSTEM
trap 'vm_kill_all; rm -rf "$tmp"' EXIT

# vm NAME GUEST APPEND [KEY=VALUE...]: a store VM booting GUEST directly, no disk, the [vm] keys
# given.
vm() {
	local name=$1 guest=$2 append=$3 kv
	shift 3
	"$osio" create "$name" --memory 64M --cpus 1 --disk none --switch none >/dev/null ||
		{ fail "osio create $name"; return 1; }
	vm_boot_kernel "$name" "$guests/$guest.elf" "$append" || return 1
	for kv in "$@"; do
		sed -i "s|^\[vm\]$|[vm]\n${kv%%=*} = ${kv#*=}|" "$OSIO_STORE_DIR/vms/$name/$name.vmconfig"
	done
}

# started_at NAME: when osio start last started the VM (seconds since the epoch, from
# worker.log's line).
started_at() {
	local when
	when=$(sed -n 's/^=== \(.*\) UTC: osio start .*/\1/p' "$OSIO_STORE_DIR/vms/$1/worker.log" |
		tail -1)
	date -u -d "$when" +%s
}

# Names in the other order than autostart_order: zeta first, alpha 3 s after it.
vm zeta lifecycle "period=100 disk=0" autostart=yes autostart_order=1 stop_action=save || exit 1
vm alpha lifecycle "period=100 disk=0" autostart=yes autostart_order=2 autostart_delay=3 || exit 1
vm third lifecycle "period=100 disk=0" stop_action=off || exit 1
vm deaf kbdecho "timeout=600" stop_timeout=2 || exit 1

# --- the plan -----------------------------------------------------------------------------------
"$osio" autostart --dry-run >"$tmp/plan" 2>&1 && pass "autostart --dry-run: status 0" ||
	fail "autostart --dry-run: $(cat "$tmp/plan")"
if [[ $(grep -c '^would start' "$tmp/plan") == 2 ]] &&
	sed -n 1p "$tmp/plan" | grep -q "VM 'zeta' (autostart_order 1) after waiting 0 s" &&
	sed -n 2p "$tmp/plan" | grep -q "VM 'alpha' (autostart_order 2) after waiting 3 s"; then
	pass "the plan: zeta, then alpha after 3 s"
else
	fail "the plan: $(cat "$tmp/plan")"
fi
[[ $(vm_state zeta) == off ]] && pass "--dry-run started nothing" || fail "dry run: $(vm_state zeta)"

# --- autostart: the two marked, in order, alpha 3 s after zeta; the others stay off --------------
t0=$(date +%s)
"$osio" autostart >"$tmp/out" 2>"$tmp/err" && pass "autostart: status 0" ||
	fail "autostart: status $?: $(cat "$tmp/err")"
t1=$(date +%s)
if [[ $(grep -c "started" "$tmp/out") == 2 ]] && sed -n 1p "$tmp/out" | grep -q "^VM 'zeta' started" &&
	sed -n 2p "$tmp/out" | grep -q "^VM 'alpha' started"; then
	pass "autostart: zeta then alpha"
else
	fail "autostart printed: $(cat "$tmp/out")"
fi
for v in zeta alpha; do
	[[ $(vm_state $v) == running ]] && pass "$v runs" || fail "$v: $(vm_state $v)"
done
for v in third deaf; do
	[[ $(vm_state $v) == off ]] && pass "$v (no autostart) stays off" || fail "$v: $(vm_state $v)"
done
gap=$(($(started_at alpha) - $(started_at zeta)))
((gap >= 2 && t1 - t0 >= 3)) && pass "alpha started ${gap} s after zeta (its delay: 3 s)" ||
	fail "alpha started $gap s after zeta, autostart took $((t1 - t0)) s"

# Running VMs are left alone, and said so.
"$osio" autostart >"$tmp/out" 2>&1 && grep -q "^VM 'zeta' is Running already$" "$tmp/out" &&
	pass "autostart again: $(head -1 "$tmp/out")" || fail "autostart again: $(cat "$tmp/out")"

# --- autostop: all four stop_actions at once ----------------------------------------------------
"$osio" start third >/dev/null 2>"$tmp/err" || fail "start third: $(cat "$tmp/err")"
"$osio" start deaf >/dev/null 2>"$tmp/err" || fail "start deaf: $(cat "$tmp/err")"
vm_wait_count zeta 3 || fail "zeta does not count"
vm_wait_count alpha 3 || fail "alpha does not count"
"$osio" autostop --dry-run >"$tmp/plan" 2>&1
grep -q "^would save VM 'zeta' (Running)$" "$tmp/plan" &&
	grep -q "^would shut down VM 'alpha' (Running), saving it if not off in time$" "$tmp/plan" &&
	grep -q "^would power off VM 'third' (Running)$" "$tmp/plan" &&
	pass "autostop --dry-run: the four actions" || fail "autostop --dry-run: $(cat "$tmp/plan")"
[[ $(vm_state third) == running ]] && pass "--dry-run stopped nothing" || fail "$(vm_state third)"

t0=$(date +%s)
"$osio" autostop >"$tmp/out" 2>"$tmp/err" && pass "autostop: status 0" ||
	fail "autostop: status $?: $(cat "$tmp/err")"
t1=$(date +%s)
sed 's/^/    | /' "$tmp/out"
grep -q "^VM 'alpha' shut down$" "$tmp/out" && pass "alpha: shut down" || fail "alpha: $(cat "$tmp/out")"
grep -q "^VM 'zeta' saved " "$tmp/out" && pass "zeta: saved" || fail "zeta: $(cat "$tmp/out")"
grep -q "^VM 'third' is off$" "$tmp/out" && pass "third: powered off" || fail "third: $(cat "$tmp/out")"
grep -q "^VM 'deaf' did not shut down within 2 s: VM 'deaf' saved " "$tmp/out" &&
	pass "deaf: not off after 2 s, saved" || fail "deaf: $(cat "$tmp/out")"
# All at once: third (off) and zeta (save) are done long before deaf's 2 s are over, though
# deaf comes first by name.
third_at=$(grep -n "^VM 'third'" "$tmp/out" | cut -d: -f1)
deaf_at=$(grep -n "^VM 'deaf'" "$tmp/out" | cut -d: -f1)
[[ -n $third_at && -n $deaf_at ]] && ((third_at < deaf_at && t1 - t0 < 30)) &&
	pass "the VMs were stopped in parallel ($((t1 - t0)) s)" ||
	fail "not in parallel: third on line ${third_at:-?}, deaf on ${deaf_at:-?}, $((t1 - t0)) s"
for s in "alpha off" "zeta saved" "third off" "deaf saved"; do
	[[ $(vm_state "${s% *}") == "${s#* }" ]] && pass "${s% *} is ${s#* }" ||
		fail "${s% *} is $(vm_state "${s% *}"), not ${s#* }"
done
grep -q 'status 0' "$OSIO_STORE_DIR/vms/alpha/worker.log" &&
	pass "alpha's guest turned itself off (status 0)" ||
	fail "alpha's worker.log: $(tail -3 "$OSIO_STORE_DIR/vms/alpha/worker.log")"
"$osio" autostop >"$tmp/out" 2>&1 && grep -q "^no VM is running$" "$tmp/out" &&
	pass "autostop with nothing running: $(cat "$tmp/out")" || fail "autostop again: $(cat "$tmp/out")"

# --- the saved ones resume at the next autostart (zeta; deaf has no autostart) ----------------
"$osio" autostart >"$tmp/out" 2>"$tmp/err" || fail "autostart after autostop: $(cat "$tmp/err")"
grep -q "resuming its saved state" "$OSIO_STORE_DIR/vms/zeta/worker.log" &&
	pass "zeta resumed its saved state" || fail "zeta's worker.log: $(tail -3 "$OSIO_STORE_DIR/vms/zeta/worker.log")"
vm_wait_count zeta 3 && ! vm_serial zeta 1 | grep -q '^lifecycle: boot' &&
	pass "zeta counts on with no new boot" || fail "zeta after the resume: $(vm_serial zeta 1 | head -3)"
[[ $(vm_state deaf) == saved ]] && pass "deaf (no autostart) stays saved" || fail "deaf: $(vm_state deaf)"

# --- a VM that cannot start: said, status 1, the others still start ------------------------------
"$osio" autostop >/dev/null 2>&1
vm broken lifecycle "" autostart=yes autostart_order=0 || exit 1
sed -i "s|^kernel = .*|kernel = $tmp/no-such-kernel.elf|" "$OSIO_STORE_DIR/vms/broken/broken.vmconfig"
"$osio" autostart >"$tmp/out" 2>"$tmp/err"
rc=$?
((rc == 1)) && pass "autostart with a broken VM: status 1" || fail "autostart: status $rc"
grep -q "broken" "$tmp/err" && pass "its error: $(head -1 "$tmp/err")" || fail "stderr: $(cat "$tmp/err")"
[[ $(vm_state zeta) == running && $(vm_state alpha) == running ]] &&
	pass "the others started all the same" || fail "zeta $(vm_state zeta), alpha $(vm_state alpha)"

# --- a value out of range: the vmconfig's own message, the VM left alone ------------------------
vm badorder lifecycle "" autostart=yes autostart_order=1000 || exit 1
"$osio" autostart --dry-run >"$tmp/out" 2>"$tmp/err"
rc=$?
((rc == 1)) && grep -q "VM 'badorder' is left alone: .*autostart_order.*999" "$tmp/err" &&
	pass "autostart_order = 1000: $(grep badorder "$tmp/err")" ||
	fail "autostart_order = 1000: status $rc: $(cat "$tmp/err")"

# --- usage --------------------------------------------------------------------------------------
expect_error "autostart with a stray argument" 2 "unknown argument 'now'" -- "$osio" autostart now
"$osio" autostop >/dev/null 2>&1

echo "$passes passed, $failures failed"
((failures == 0))
