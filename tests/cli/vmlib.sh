# shellcheck shell=bash disable=SC2154 # osio, tmp: the caller's
# Shared by the tests that drive store VMs with osio start: a scratch store and runtime
# directory, a VM booting a guest program directly, its serial output, its state. The caller
# sets osio (the binary) and sources this after lib.sh.

# vm_env DIR: a store and a runtime directory of the test's own under DIR.
vm_env() {
	export OSIO_STORE_DIR=$1/store OSIO_RUNTIME_DIR=$1/run
	mkdir -p "$OSIO_STORE_DIR" && mkdir -p -m 700 "$OSIO_RUNTIME_DIR"
}

# vm_kill_all: ends every worker of the test's store (for the EXIT trap).
vm_kill_all() {
	local f pid
	for f in "$OSIO_STORE_DIR"/vms/*/.running; do
		[[ -f $f ]] || continue
		read -r pid _ <"$f" && [[ $pid =~ ^[0-9]+$ ]] && kill -9 "$pid" 2>/dev/null
	done
}

# vm_boot_kernel NAME KERNEL APPEND: the VM boots KERNEL directly with that command line
# instead of its boot order.
vm_boot_kernel() {
	local cfg=$OSIO_STORE_DIR/vms/$1/$1.vmconfig
	sed -i -e '/^order = /d' -e "s|^\[boot\]|[boot]\nkernel = $2\nappend = \"$3\"|" "$cfg"
	grep -q "^kernel = " "$cfg" || { fail "cannot give $1 its kernel"; return 1; }
}

# vm_serial NAME SECONDS: what osio serial shows in that time (the recent output first), without
# carriage returns.
vm_serial() {
	timeout "$2" "$osio" serial "$1" </dev/null 2>/dev/null | tr -d '\r'
}

# vm_last_count NAME: the highest count the lifecycle guest printed so far.
vm_last_count() {
	vm_serial "$1" 1 | sed -n 's/^count \([0-9]*\)$/\1/p' | tail -1
}

# vm_wait_count NAME N: waits up to 60 s for the lifecycle guest to print count N or higher.
vm_wait_count() {
	local i c
	for ((i = 0; i < 60; i++)); do
		c=$(vm_last_count "$1")
		[[ -n $c ]] && ((c >= $2)) && return 0
	done
	return 1
}

# vm_state NAME: its state as osio list --json says it (off, running, paused, saved, crashed...).
vm_state() {
	"$osio" list --json 2>/dev/null | jq -r --arg n "$1" '.[] | select(.name == $n) | .state'
}

# vm_counts_go_on PRE POST: the lifecycle guest's output before a save (PRE, taken while the VM
# was paused: its last line may be cut) and after the resume (POST) join into one stream whose
# counts go on one by one from PRE's last whole count, with no boot line in POST. Prints the
# count at the join ("N -> N+1").
vm_counts_go_on() {
	local last
	last=$(sed -n 's/^count \([0-9]*\)$/\1/p' "$1" | tail -1)
	[[ -n $last ]] || { echo "no count before"; return 1; }
	grep -q '^lifecycle: boot' "$2" && { echo "the guest booted again"; return 1; }
	cat "$1" "$2" | sed -n 's/^count \([0-9]*\)$/\1/p' | awk -v last="$last" '
		!seen && $1 == last { seen = 1; want = last + 1; next }
		seen && n < 3 { if ($1 != want) { print "count " want " expected, got " $1; bad = 1; exit }
				want++; n++ }
		END { if (bad) exit 1; if (n < 3) { print "too few counts after " last; exit 1 }
		      print last " -> " last + 1 }'
}
