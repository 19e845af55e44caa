#!/bin/bash
# ctest cli/many-vms: ten VMs running at once (the lifecycle guest), one worker killed with
# SIGKILL: the other nine keep counting, osio list shows that one Crashed with the end of its
# log and the nine Running, its control socket is cleaned up, and it starts again.
# Usage: many-vms.sh OSIO GUEST_DIR
set -u
osio=$1 guests=$2
tmp=$(mktemp -d /tmp/osio-many-vms.XXXXXX)
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/cli/vmlib.sh
. "$(dirname "$0")/vmlib.sh"

[[ -r /dev/kvm && -w /dev/kvm ]] || { echo "SKIP: /dev/kvm cannot be used here"; exit 77; }
[[ -r $guests/lifecycle.elf ]] || { echo "SKIP: $guests/lifecycle.elf is not built"; exit 77; }
vm_env "$tmp"
trap 'vm_kill_all; rm -rf "$tmp"' EXIT

n=10
for ((i = 0; i < n; i++)); do
	"$osio" create vm$i --memory 32M --cpus 1 --disk none --switch none >/dev/null 2>"$tmp/err" ||
		{ fail "create vm$i: $(cat "$tmp/err")"; exit 1; }
	vm_boot_kernel vm$i "$guests/lifecycle.elf" "period=200 disk=0" || exit 1
done
for ((i = 0; i < n; i++)); do
	"$osio" start vm$i >/dev/null 2>"$tmp/err" || fail "start vm$i: $(cat "$tmp/err")"
done
"$osio" list >"$tmp/list" 2>&1
running=$(grep -Ec '^vm[0-9] +Running ' "$tmp/list")
((running == n)) && pass "list: all $n Running" || fail "list shows $running Running: $(cat "$tmp/list")"

victim=vm3
read -r pid _ <"$OSIO_STORE_DIR/vms/$victim/.running"
kill -9 "$pid" && pass "SIGKILL to $victim's worker (pid $pid)" || fail "cannot kill pid $pid"
sleep 1
declare -A before
for ((i = 0; i < n; i++)); do
	[[ vm$i == "$victim" ]] || before[$i]=$(vm_last_count vm$i)
done
"$osio" list >"$tmp/list" 2>&1
grep -Eq "^$victim +Crashed " "$tmp/list" && pass "list: $victim Crashed" ||
	fail "list after the kill: $(cat "$tmp/list")"
running=$(grep -Ec '^vm[0-9] +Running ' "$tmp/list")
((running == n - 1)) && pass "list: the other $running Running" ||
	fail "list shows $running Running after the kill"
grep -A6 "^$victim " "$tmp/list" | grep -q 'osio' && pass "list shows the end of $victim's log" ||
	fail "no log lines under $victim: $(grep -A6 "^$victim " "$tmp/list")"
[[ -e $OSIO_RUNTIME_DIR/$victim.sock ]] && fail "$victim's control socket is still there" ||
	pass "$victim's control socket is cleaned up"
[[ $(vm_state $victim) == crashed ]] && pass "list --json: crashed" ||
	fail "list --json says '$(vm_state $victim)'"

# The nine go on counting.
for ((i = 0; i < n; i++)); do
	[[ vm$i == "$victim" ]] && continue
	vm_wait_count vm$i $((${before[$i]:-0} + 3)) || fail "vm$i stopped counting at ${before[$i]}"
done
((failures == 0)) && pass "the other $((n - 1)) keep counting"

"$osio" start $victim >/dev/null 2>"$tmp/err" && pass "the crashed VM starts again" ||
	fail "start $victim after the crash: $(cat "$tmp/err")"
[[ $(vm_state $victim) == running ]] && pass "$victim Running again" ||
	fail "$victim after its start: $(vm_state $victim)"
for ((i = 0; i < n; i++)); do
	"$osio" stop vm$i >/dev/null 2>&1 || fail "stop vm$i"
done
echo "many-vms: $passes passed, $failures failed"
((failures == 0))
