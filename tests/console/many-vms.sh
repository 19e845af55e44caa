#!/bin/bash
# The console with a VM store of 200 VMs (vmconfigs written directly; ten with a worker's claim
# held, so Starting; five Saved) in an 80x24 terminal: the list shows, PgDn and End scroll to the
# last VM and Home back, '/' narrows the list to the matching VMs, a resize to 200x60 and back to
# 80x24 draws a full screen each time, and every step answers within a few seconds. The screens
# are kept in ARTIFACTS.
# usage: many-vms.sh OSIO [ARTIFACTS]
set -u
OSIO=$1
tmp=$(mktemp -d)
ARTIFACTS=${2:-$tmp/artifacts}
holders=()
cleanup() {
	((${#holders[@]})) && kill "${holders[@]}" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
failures=0 passes=0
# shellcheck source=tests/console/lib.sh
. "$(dirname "$0")/lib.sh"
con_need_tmux
con_dirs
mkdir -p "$OSIO_STORE_DIR/vms"
rm -f "$ARTIFACTS"/many-*.txt "$ARTIFACTS/console.stderr"

# The VM numbers the screen shows, one per line.
shown_numbers() {
	con_screen | grep -Eo '\bvm[0-9]{3}\b' | sed 's/^vm0*//' | sort -n | uniq
}

# --- the store: 200 VMs ----------------------------------------------------------------------

for i in $(seq -f '%03g' 1 200); do
	d=$OSIO_STORE_DIR/vms/vm$i
	mkdir -p "$d"
	printf '# vm%s: written by many-vms.sh\n[vm]\nname = vm%s\nmemory = %dM\ncpus = %d\n' \
		"$i" "$i" $((256 * (10#$i % 8 + 1))) $((10#$i % 4 + 1)) >"$d/vm$i.vmconfig"
done
for i in 196 197 198 199 200; do
	echo "a saved state" >"$OSIO_STORE_DIR/vms/vm$i/saved.vmstate"
done
boot_id=$(cat /proc/sys/kernel/random/boot_id)
for i in $(seq -f '%03g' 11 20); do
	f=$OSIO_STORE_DIR/vms/vm$i/.running
	# shellcheck disable=SC2016
	bash -c 'exec 9<>"$1" && flock -n 9 && exec sleep 600' hold "$f" >/dev/null 2>&1 &
	holders+=($!)
	echo "$! $boot_id $(cut -d' ' -f1 /proc/uptime | cut -d. -f1)000000000" >"$f"
done
sleep 0.2
n=$("$OSIO" list --json | jq length)
if [[ $n != 200 ]]; then
	echo "FAIL: osio list sees $n VMs, not 200"
	exit 1
fi

# --- 80x24 -----------------------------------------------------------------------------------

con_start 80 24 || exit 1
con_step "launch: the list of 200 VMs" 'osio - 200 virtual machines, 10 running' 15
con_step "the first VM's row" '\bvm001\b.*Off'
con_step "the key bar" 'Quit'
con_capture many-80x24-start
first_max=$(shown_numbers | tail -1)
if [[ -z $first_max ]] || ((first_max >= 200)); then
	fail "the first page shows VMs up to '$first_max'"
fi

# PgDn moves the selection a page less one row: to the last row, then past it.
con_keys NPage NPage
want=$((first_max + 1))
con_step "PgDn: a VM below the first page" "\\bvm$(printf %03d "$want")\\b"
con_keys End
con_step "End: the last VM" '\bvm200\b.*Saved'
con_capture many-80x24-end
check_gone() { ! con_screen | grep -Eq '\bvm001\b'; }
if check_gone; then pass "End: vm001 scrolled away"; else fail "End: vm001 still shown"; fi
con_keys Home
con_step "Home: the first VM again" '\bvm001\b'
con_keys NPage NPage NPage
con_step "PgDn three times" "\\bvm01[0-9]\\b"
con_keys End
con_step "End again" '\bvm200\b'

# --- the filter ------------------------------------------------------------------------------

con_keys /
con_text vm19
con_keys Enter
con_step "the filter in the title" 'Filter: vm19 \(10 shown\)'
con_step "its VMs" '\bvm190\b'
nums=$(shown_numbers | tr '\n' ' ')
bad=$(shown_numbers | awk '$1 < 190 || $1 > 199')
if [[ -z $bad ]]; then pass "only vm190-vm199 shown: $nums"; else fail "shown: $nums"; fi
con_capture many-80x24-filter
con_keys /
con_text starting
con_keys Enter
con_step "a filter on the state" 'Filter: vm19starting \(0 shown\)'
con_keys / Escape
if con_wait_gone 'Filter:' 5; then
	pass "Esc clears it (${CON_WAITED_MS} ms)"
else
	fail "Esc clears it"
fi
con_keys /
con_text Starting
con_keys Enter
con_step "'Starting' shows the ten with a worker" 'Filter: Starting \(10 shown\)'
con_keys / Escape
con_wait_gone 'Filter:' 5 || fail "the filter did not go"
con_step "the selection stayed on a Starting VM" '─ vm0(1[1-9]|20) ─'
con_keys End
con_step "End: the last VM" '\bvm200\b.*Saved'

# --- resizing --------------------------------------------------------------------------------

# full_screen COLS ROWS NAME: the screen is COLS x ROWS, the title on the first row, the key bar
# near the last, and a row (a frame) as wide as the terminal.
full_screen() {
	local cols=$1 rows=$2 name=$3 start took lines w
	start=$(date +%s%N)
	for ((t = 0; t < 50; t++)); do
		w=$(con_widest)
		lines=$(con_screen | wc -l)
		if ((w >= cols - 2 && w <= cols && lines == rows)) &&
			con_screen | head -1 | grep -q 'osio - 200 virtual machines' &&
			con_screen | tail -3 | grep -q 'Quit'; then
			took=$((($(date +%s%N) - start) / 1000000))
			pass "$name: a full ${cols}x${rows} screen (${took} ms)"
			con_capture "many-$name"
			return 0
		fi
		sleep 0.1
	done
	fail "$name: not a full ${cols}x${rows} screen (widest row $w, $lines rows)"
	con_capture "many-$name"
	return 1
}

con_resize 200 60
full_screen 200 60 200x60
con_step "200x60: still the last VM selected" '\bvm200\b'
rows200=$(shown_numbers | wc -l)
con_resize 80 24
full_screen 80 24 80x24-again
rows80=$(shown_numbers | wc -l)
if ((rows200 > rows80)); then
	pass "200x60 shows more VMs ($rows200) than 80x24 ($rows80)"
else
	fail "200x60 shows $rows200 VMs, 80x24 $rows80"
fi
con_keys Home
con_step "Home after the resizes" '\bvm001\b'

# --- it still answers, and quits cleanly -----------------------------------------------------

if con_alive; then pass "the console still runs"; else fail "the console exited"; fi
con_stop && pass "q quits"
if grep -Eq 'Sanitizer|runtime error|Segmentation' "$ARTIFACTS/console.stderr" 2>/dev/null; then
	fail "the console's stderr:"
	sed 's/^/    /' "$ARTIFACTS/console.stderr"
fi

echo "$passes passed, $failures failed"
((failures == 0))
