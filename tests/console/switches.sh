#!/bin/bash
# The Virtual Switch Manager in the real console, driven in tmux: a private switch made in its New
# form, a VM's adapter given that switch in Settings and another VM's second adapter put on it in
# its vmconfig (a third VM stays on the NAT switch), the switch deleted in the manager: the confirmation names the VMs that use it and only those, their adapters on it end up
# disconnected in their vmconfigs (as osio switch delete --force leaves them), osio switch list
# no longer has it, and the console goes on working. Every screen is kept in ARTIFACTS.
# usage: switches.sh OSIO [ARTIFACTS]
set -u

OSIO=$(realpath "$1")
sw=lab1
tmp=$(mktemp -d /tmp/osio-switches.XXXXXX)
ARTIFACTS=${2:-$tmp/artifacts}
# The screens stay; the scratch store goes (and the rest when the screens are elsewhere).
# shellcheck disable=SC2317 # the EXIT trap runs it
cleanup() {
	rm -rf "$tmp/store" "$tmp/run"
	[[ $ARTIFACTS == "$tmp"/* ]] || rm -rf "$tmp"
}
trap cleanup EXIT
failures=0 passes=0
# shellcheck source=tests/console/lib.sh
. "$(dirname "$0")/lib.sh"
con_need_tmux
con_dirs
rm -f "$ARTIFACTS"/[0-9][0-9]-*.txt "$ARTIFACTS/console.stderr"

shot=0
# capture NAME: the screen into ARTIFACTS/NN-NAME.txt (NAME's words joined by '-').
capture() {
	local name=${1//[^A-Za-z0-9]/-} screen
	screen=$(con_screen 2>/dev/null) || return 0
	shot=$((shot + 1))
	printf '%s\n' "$screen" >"$ARTIFACTS/$(printf %02d "$shot")-${name:0:48}.txt"
}

# finish: the console's stderr must be clean; the verdict.
finish() {
	con_kill
	if grep -Eq 'Sanitizer|runtime error|Segmentation' "$ARTIFACTS/console.stderr" 2>/dev/null; then
		fail "the console's stderr shows a crash:"
		sed 's/^/    stderr: /' "$ARTIFACTS/console.stderr" | head -40
	fi
	echo "$passes passed, $failures failed (screens in $ARTIFACTS)"
	((failures == 0)) || exit 1
	exit 0
}

# step NAME REGEX [TIMEOUT]: con_step, and the screen kept; a failure ends the test.
step() {
	if con_step "$1" "$2" "${3:-5}"; then
		capture "$1"
	else
		capture "FAILED $1"
		finish
	fi
}

# box_text TITLE: the text inside the dialog box called TITLE on the screen, its rows joined
# with single spaces (what wraps reads as one sentence).
box_text() {
	local LC_ALL=C.UTF-8 rows row pre rest col=-1 w=0 i
	mapfile -t rows < <(con_screen)
	for i in "${!rows[@]}"; do
		row=${rows[i]}
		if ((col < 0)); then
			[[ $row == *"┌─ $1 ─"* ]] || continue
			pre=${row%%"┌─ $1 ─"*}
			col=${#pre}
			rest=${row:col}
			rest=${rest%%┐*}
			w=$((${#rest} + 1))
			continue
		fi
		[[ ${row:col:1} == └ ]] && break
		printf '%s\n' "${row:col+1:w-2}"
	done | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# nic VM SECTION: the lines of the vmconfig's [nic "SECTION"], comments aside.
nic() {
	awk -v s="[nic \"$2\"]" '$0 == s { on = 1; next } /^\[/ { on = 0 } on && !/^[#;]/' \
		"$OSIO_STORE_DIR/vms/$1/$1.vmconfig"
}

# --- the switch, made in the manager ----------------------------------------------------------

for v in vma vmb vmc; do
	"$OSIO" create "$v" --disk none >"$tmp/out" 2>&1 || { fail "osio create $v: $(cat "$tmp/out")"; exit 1; }
done
con_start 100 30 || exit 1
step "launch: the console shows the three VMs" 'osio - 3 virtual machines'
con_keys v
step "manager: only the built-in NAT switch" '─ Virtual Switch Manager ─'
con_screen | grep -q "$sw" && fail "the manager lists '$sw' before it was made"
con_keys n
step "new: the New Virtual Switch form" '─ New Virtual Switch ─'
con_text "$sw"
con_keys Tab
sleep 0.2
con_keys Right
step "new: private chosen" '\(\*\) Private'
con_keys Enter
step "new: the manager lists $sw as a private switch" "Switch '$sw' created\."
con_screen | grep -Eq "│ +$sw +private +VMs only" ||
	fail "the manager's list has no line '$sw private VMs only'"
if "$OSIO" switch show "$sw" 2>&1 | grep -qi private; then
	pass "osio switch show $sw: a private switch"
else
	fail "osio switch show $sw: $("$OSIO" switch show "$sw" 2>&1)"
fi

# --- VMs on it: vma's adapter in Settings, vmc's second one in its vmconfig ---------------------

con_keys Escape
con_wait_gone '─ Virtual Switch Manager ─' 5 >/dev/null || { fail "Esc did not close the manager"; finish; }
con_keys Home
step "settings: vma selected" '─ vma ─'
con_keys e
step "settings: vma's Settings" '─ Settings for vma ─'
# Down through the hardware list until the right pane is the network adapter's.
for ((i = 0; i < 30; i++)); do
	con_screen | grep -q '│ Network Adapter  ' && break
	con_keys Down
	sleep 0.1
done
step "settings: the network adapter" 'Virtual switch: default'
con_keys Enter
step "settings: the adapter's form" '─ Network Adapter ─'
con_keys Right
step "settings: $sw chosen for it" "Virtual switch: < $sw +>"
# Past the model to the MAC address, where Enter is the form's OK; then Settings' OK.
con_keys Tab Tab
sleep 0.2
con_keys Enter
step "settings: the adapter on $sw, not saved yet" "│ Virtual switch: $sw +│"
con_keys Tab
sleep 0.2
con_keys Enter
con_wait_gone '─ Settings for vma ─' 5 >/dev/null || { fail "Settings did not close on OK"; finish; }
capture "settings: saved"
[[ $(nic vma lan) == *"switch = $sw"* ]] || { fail "vma's vmconfig after Settings: $(nic vma lan)"; finish; }
pass "settings: vma's vmconfig has its adapter on $sw"
printf '\n[nic "lab"]\nmodel = virtio\nswitch = %s\n' "$sw" >>"$OSIO_STORE_DIR/vms/vmc/vmc.vmconfig"

# --- delete it in the manager -----------------------------------------------------------------

con_keys v
step "delete: the manager again" '─ Virtual Switch Manager ─'
con_keys End
sleep 0.2
# Its list is read afresh for the confirmation.
con_keys d
step "delete: the confirmation" '─ Delete Virtual Switch ─'
# Exactly vma and vmc: vmb's adapter is on 'default'.
text=$(box_text "Delete Virtual Switch")
if [[ $text == "Delete the switch '$sw'? These VMs name it: vma, vmc. Their adapters are disconnected"* ]]
then
	pass "the confirmation names vma and vmc, not vmb"
else
	fail "the confirmation says: $text"
fi
con_keys Left
sleep 0.2
con_keys Enter
step "delete: the manager says $sw is deleted" "Switch '$sw' deleted\."
con_screen | grep -Eq "│ +$sw +private" && fail "the manager still lists '$sw'"
if "$OSIO" switch list | grep -qw "$sw"; then
	fail "osio switch list still has '$sw':"
	"$OSIO" switch list | sed 's/^/    /'
else
	pass "osio switch list: no '$sw'"
fi
for v in vma:lan vmc:lab; do
	set -- "${v%:*}" "${v#*:}"
	s=$(nic "$1" "$2")
	if [[ $s == *"connected = no"* && $s != *"switch ="* ]]; then
		pass "$1's adapter '$2': connected = no, no switch"
	else
		fail "$1's adapter '$2' after the delete:"
		printf '    %s\n' "${s//$'\n'/$'\n'    }"
	fi
done
for v in vmb:lan vmc:lan; do
	set -- "${v%:*}" "${v#*:}"
	s=$(nic "$1" "$2")
	if [[ $s == *"connected = no"* || $s == *"switch ="* && $s != *"switch = default"* ]]; then
		fail "$1's adapter '$2' on 'default' was changed:"
		printf '    %s\n' "${s//$'\n'/$'\n'    }"
	else
		pass "$1's adapter '$2' untouched"
	fi
done

# --- the console goes on -----------------------------------------------------------------------

con_keys Escape
step "after: the main screen with the three VMs" 'osio - 3 virtual machines'
con_keys Home
step "after: vma's details show its adapter not connected" 'Adapters: .*lan +e1000 .*not connected'
con_keys Down
step "after: vmb's adapter still on default" 'Adapters: .*lan +e1000 on default'
con_keys v
step "after: the manager opens again" '─ Virtual Switch Manager ─'
con_screen | grep -Eq "│ +$sw +" && fail "the manager lists '$sw' again"
con_keys Escape
con_wait_gone '─ Virtual Switch Manager ─' 5 >/dev/null || fail "Esc did not close the manager"
capture "after: the manager closed"
if con_stop; then
	pass "q: the console quits"
fi
finish
