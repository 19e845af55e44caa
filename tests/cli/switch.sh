#!/bin/bash
# osio switch as users meet it: create/list/show/delete of every type in a
# VM store of its own (OSIO_STORE_DIR), --json read back with jq, one clear
# line and the right exit status for every mistake, damaged files named;
# delete refusing a switch that VMs use (in their vmconfig, or a running VM's
# adapter) and --force disconnecting them.
# usage: switch.sh OSIO
set -u
osio=$1
tmp=$(mktemp -d)
trap '"$osio" stop run1 >/dev/null 2>&1; rm -rf "$tmp"' EXIT
export OSIO_STORE_DIR=$tmp/store OSIO_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$OSIO_RUNTIME_DIR"
failures=0 passes=0
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

jq_true() {
	[ "$(jq -r "$1" "$tmp/out")" = "true" ]
}

# An empty store: only the built-in default.
expect_ok "list, empty store" -- "$osio" switch list
check "the table has a header and default" \
	grep -Eq '^Name +Type +Network/Bridge +Notes' "$tmp/out"
check "default is NAT 10.0.2.0/24" grep -Eq '^default +nat +10\.0\.2\.0/24' "$tmp/out"
expect_ok "list --json, empty store" -- "$osio" switch list --json
check "json: just default, built in" \
	jq_true 'length == 1 and .[0].name == "default" and .[0].type == "nat" and
		.[0].subnet == "10.0.2.0/24" and .[0].builtin == true'

# One of each type.
expect_ok "create nat" -- "$osio" switch create isolated --type nat \
	--subnet 192.168.100.0/24 --restrict --notes "no internet"
expect_ok "create private" -- "$osio" switch create lab --type private --notes "QA lab"
expect_ok "create internal" -- "$osio" switch create hostnet --type internal
expect_ok "create internal, own bridge" -- "$osio" switch create mybr --type internal \
	--bridge br-lab0
expect_ok "create external" -- "$osio" switch create lan --type external --uplink eth0
expect_ok "create internal, long name" -- "$osio" switch create engineering-lab-42 \
	--type internal
check "the store folder is private" [ "$(stat -c %a "$OSIO_STORE_DIR/switches")" = 700 ]
check "no temporary files stay" \
	[ "$(find "$OSIO_STORE_DIR" -name '.*tmp*' | wc -l)" = 0 ]

expect_ok "list" -- "$osio" switch list
check "list: default first, then by name" \
	[ "$(awk 'NR > 1 { printf "%s ", $1 }' "$tmp/out")" = \
		"default engineering-lab-42 hostnet isolated lab lan mybr " ]
check "list: nat network and notes" \
	grep -Eq '^isolated +nat +192\.168\.100\.0/24 \(host only\) +no internet$' "$tmp/out"
check "list: private notes" grep -Eq '^lab +private +- +QA lab$' "$tmp/out"
check "list: internal bridge" grep -Eq '^hostnet +internal +osbr-hostnet$' "$tmp/out"
check "list: external bridge and uplink" grep -Eq '^lan +external +osbr-lan \+ eth0$' "$tmp/out"

expect_ok "list --json" -- "$osio" switch list --json
check "json: seven switches in order" \
	jq_true '[.[].name] == ["default", "engineering-lab-42", "hostnet", "isolated", "lab",
		"lan", "mybr"]'
check "json: nat" jq_true '.[] | select(.name == "isolated") | .type == "nat" and
	.subnet == "192.168.100.0/24" and .restrict == true and .notes == "no internet" and
	.builtin == false'
check "json: private" jq_true '.[] | select(.name == "lab") | .type == "private" and
	.notes == "QA lab" and (has("bridge") | not) and (has("subnet") | not)'
check "json: internal" jq_true '.[] | select(.name == "mybr") | .bridge == "br-lab0"'
check "json: external" jq_true '.[] | select(.name == "lan") | .bridge == "osbr-lan" and
	.uplink == "eth0"'
check "json: a long name's bridge fits IFNAMSIZ" \
	jq_true '.[] | select(.name == "engineering-lab-42") | (.bridge | length) <= 15 and
		(.bridge | startswith("osbr-"))'

expect_ok "show" -- "$osio" switch show isolated
check "show: type, subnet, restrict, notes" bash -c "grep -q '^Type: *nat' '$tmp/out' &&
	grep -q '^Subnet: *192.168.100.0/24' '$tmp/out' && grep -q '^Restrict: *yes' '$tmp/out' &&
	grep -q '^Notes: *no internet' '$tmp/out'"
expect_ok "show --json" -- "$osio" switch show lan --json
check "show --json: external" jq_true '.name == "lan" and .type == "external" and
	.uplink == "eth0" and .bridge == "osbr-lan"'
expect_ok "show default" -- "$osio" switch show default --json
check "show default: built in" jq_true '.builtin == true and .type == "nat"'

# Mistakes: one line each, status 2 for bad arguments, 1 for the store.
expect_error "bad name" 2 "not a valid switch name" -- \
	"$osio" switch create 'a/b' --type private
expect_error "name starting with -" 2 "not a valid switch name" -- \
	"$osio" switch create --type private -- -x
expect_error "name too long" 2 "not a valid switch name" -- \
	"$osio" switch create "$(printf 'a%.0s' {1..64})" --type private
expect_error "existing switch" 1 "'lab' exists already" -- \
	"$osio" switch create lab --type nat
expect_error "unknown type" 2 "unknown switch type; use nat, private, internal or external" -- \
	"$osio" switch create x --type hub
expect_error "no type" 2 "which type\\? Give --type" -- "$osio" switch create x
expect_error "external without uplink" 2 "needs --uplink" -- \
	"$osio" switch create x --type external
expect_error "bad subnet (host bits)" 2 "--subnet '10.0.2.1/24'.*e\\.g\\. 10\\.0\\.2\\.0/24" -- \
	"$osio" switch create x --type nat --subnet 10.0.2.1/24
expect_error "bad subnet (no prefix)" 2 "--subnet '10.0.2.0'" -- \
	"$osio" switch create x --type nat --subnet 10.0.2.0
expect_error "bad subnet (prefix)" 2 "--subnet '10.0.0.0/31'" -- \
	"$osio" switch create x --type nat --subnet 10.0.0.0/31
expect_error "subnet on private" 2 "--subnet applies to NAT switches only" -- \
	"$osio" switch create x --type private --subnet 10.0.0.0/24
expect_error "bridge on nat" 2 "--bridge applies to internal and external" -- \
	"$osio" switch create x --type nat --bridge br0
expect_error "bridge name too long" 2 "--bridge 'bridge-name-too-long'.*1-15" -- \
	"$osio" switch create x --type internal --bridge bridge-name-too-long
expect_error "uplink on internal" 2 "--uplink applies to external switches only" -- \
	"$osio" switch create x --type internal --uplink eth0
expect_error "unknown option" 2 "unknown option '--colour'" -- \
	"$osio" switch create x --type nat --colour red
expect_error "option without value" 2 "--type needs a value" -- "$osio" switch create x --type
expect_error "unknown subcommand" 2 "unknown command 'rename'" -- "$osio" switch rename a b
expect_error "show unknown" 1 "no switch called 'nope'; create it" -- "$osio" switch show nope
expect_error "delete unknown" 1 "no switch called 'nope'" -- "$osio" switch delete nope
expect_error "delete built-in default" 1 "'default' is built in.*cannot be deleted" -- \
	"$osio" switch delete default
check "nothing was created by the mistakes" [ ! -e "$OSIO_STORE_DIR/switches/x.json" ]

# Delete each type; list follows.
for s in isolated lab hostnet mybr lan engineering-lab-42; do
	expect_ok "delete $s" -- "$osio" switch delete "$s"
done
expect_ok "list after deleting" -- "$osio" switch list --json
check "only default is left" jq_true '[.[].name] == ["default"]'

# --- switches that VMs use ------------------------------------------------------------------
# delete refuses them, naming the VMs; --force disconnects the VMs' adapters (connected = no,
# their switch line gone, the rest of each vmconfig byte for byte) and then deletes the switch.
vms=$OSIO_STORE_DIR/vms
expect_ok "create qa" -- "$osio" switch create qa --type private
expect_ok "create other" -- "$osio" switch create other --type private
expect_ok "VM web on qa" -- "$osio" create web --disk none --switch qa --memory 64M
expect_ok "VM db on qa" -- "$osio" create db --disk none --switch qa --memory 64M
expect_ok "VM mail on other" -- "$osio" create mail --disk none --switch other --memory 64M
expect_ok "VM bare without adapter" -- "$osio" create bare --disk none --switch none
# web: a second adapter on qa with comments around it, and a third on the default switch.
cat >>"$vms/web/web.vmconfig" <<'END'

# The test network, kept.
[nic "test"]
model = virtio  # the fast one
switch = qa     # this line goes
# a comment inside the section, kept

[nic "up"]
model = e1000
END
for vm in web db mail bare; do cp "$vms/$vm/$vm.vmconfig" "$tmp/$vm.before"; done
unchanged() {
	local vm
	for vm in "$@"; do cmp -s "$tmp/$vm.before" "$vms/$vm/$vm.vmconfig" || return 1; done
}
expect_error "delete a switch two VMs use" 1 \
	"switch 'qa' is in use by the VMs db, web; .*osio switch delete qa --force" -- \
	"$osio" switch delete qa
expect_error "delete a switch one VM uses" 1 \
	"switch 'other' is in use by the VM mail; disconnect its adapters first" -- \
	"$osio" switch delete other
check "the refused switches stay" \
	test -f "$OSIO_STORE_DIR/switches/qa.json" -a -f "$OSIO_STORE_DIR/switches/other.json"
check "a refusal changes no vmconfig" unchanged web db mail bare
expect_error "delete --force of a switch that does not exist" 1 "no switch called 'nope'" -- \
	"$osio" switch delete nope --force
expect_ok "delete --force a switch in use" -- "$osio" switch delete qa --force
cat >"$tmp/want" <<'END'
VM 'db': disconnected from switch 'qa' (1 adapter in its vmconfig, 0 unplugged while it runs)
VM 'web': disconnected from switch 'qa' (2 adapters in its vmconfig, 0 unplugged while it runs)
END
check "--force says which VMs it disconnected" cmp -s "$tmp/want" "$tmp/out"
check "--force deleted the switch" [ ! -e "$OSIO_STORE_DIR/switches/qa.json" ]
check "no vmconfig names qa any more" bash -c "! grep -q '^switch = qa' '$vms'/*/*.vmconfig"
# What changed in web's vmconfig: the two switch lines went, connected = no came; nothing else.
diff "$tmp/web.before" "$vms/web/web.vmconfig" >"$tmp/web.diff"
web_diff_ok() {
	[ "$(grep -c '^[<>] ' "$tmp/web.diff")" = 4 ] &&
		[ "$(grep -c '^< switch = qa' "$tmp/web.diff")" = 2 ] &&
		[ "$(grep -c '^> connected = no$' "$tmp/web.diff")" = 2 ]
}
check "web: only the switch lines went and connected = no came" web_diff_ok ||
	sed 's/^/    diff: /' "$tmp/web.diff"
check "web: the comments and the other adapter stay" bash -c \
	"grep -q '^# The test network, kept.$' '$vms/web/web.vmconfig' &&
	grep -q '^model = virtio  # the fast one$' '$vms/web/web.vmconfig' &&
	grep -q '^# a comment inside the section, kept$' '$vms/web/web.vmconfig' &&
	grep -Pzq '\\[nic \"up\"\\]\\nmodel = e1000\\n' '$vms/web/web.vmconfig'"
check "mail and bare are untouched" unchanged mail bare
expect_ok "a disconnected VM still lists" -- "$osio" list
expect_ok "delete other --force" -- "$osio" switch delete other --force
expect_ok "create idle" -- "$osio" switch create idle --type private
expect_ok "delete a switch nobody uses" -- "$osio" switch delete idle
check "delete without users prints nothing" [ ! -s "$tmp/out" ]
expect_error "the built-in default, --force" 1 "'default' is built in.*cannot be deleted" -- \
	"$osio" switch delete default --force
# A VM busy with another osio command: --force changes nothing and says so.
expect_ok "create busy" -- "$osio" switch create busy --type private
expect_ok "VM held on busy" -- "$osio" create held --disk none --switch busy
cp "$vms/held/held.vmconfig" "$tmp/held.before"
expect_error "--force while a VM is busy" 1 "VM 'held' is busy" -- \
	flock -n "$vms/held/.lock" -c "echo \$\$ >'$vms/held/.lock'; '$osio' switch delete busy --force"
check "a busy VM keeps its vmconfig and the switch stays" \
	test -f "$OSIO_STORE_DIR/switches/busy.json" -a -f "$tmp/held.before"
check "the busy VM's vmconfig is unchanged" unchanged held

# A running VM: refused while it uses the switch, whether its vmconfig names it or only its
# worker's adapter is plugged into it; --force unplugs the adapter through the control API.
if "$osio" help 2>/dev/null | grep -q '^  start ' && [ -w /dev/kvm ]; then
	expect_ok "create live" -- "$osio" switch create live --type private
	expect_ok "VM run1 on live" -- "$osio" create run1 --disk none --switch live --memory 64M
	if "$osio" start run1 >"$tmp/out" 2>"$tmp/err"; then
		expect_error "delete a switch a running VM uses" 1 "in use by the VM run1" -- \
			"$osio" switch delete live
		# Only the worker's adapter is on it now.
		sed -i '/^switch = live$/d' "$vms/run1/run1.vmconfig"
		expect_error "delete a switch only a running adapter uses" 1 "in use by the VM run1" \
			-- "$osio" switch delete live
		expect_ok "delete --force a switch a running VM uses" -- \
			"$osio" switch delete live --force
		check "--force unplugged the running adapter" grep -Fxq "VM 'run1': disconnected from \
switch 'live' (0 adapters in its vmconfig, 1 unplugged while it runs)" "$tmp/out"
		# Made again, nothing uses it: the worker's adapter is no longer on it.
		expect_ok "create live again" -- "$osio" switch create live --type private
		expect_ok "nothing uses the new live" -- "$osio" switch delete live
		"$osio" stop run1 >/dev/null 2>&1
	else
		fail "osio start run1: $(cat "$tmp/err")"
	fi
else
	echo "skip: a running VM's adapter (no osio start or no /dev/kvm)"
fi

# A stored "default" replaces the built-in; deleting it brings that back.
expect_ok "create default" -- "$osio" switch create default --type private
expect_ok "show stored default" -- "$osio" switch show default --json
check "stored default is private" jq_true '.type == "private" and .builtin == false'
expect_ok "delete stored default" -- "$osio" switch delete default
expect_ok "show default again" -- "$osio" switch show default --json
check "built-in default is back" jq_true '.type == "nat" and .builtin == true'

# Damaged files are named, with the fix; the other switches still list.
expect_ok "create ok" -- "$osio" switch create ok --type private
printf '{"name": "broken", "type": ' >"$OSIO_STORE_DIR/switches/broken.json"
expect_error "damaged JSON (show)" 1 "switches/broken\\.json: damaged.*fix or remove" -- \
	"$osio" switch show broken
"$osio" switch list >"$tmp/out" 2>"$tmp/err"
rc=$?
if ((rc == 1)) && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q 'switches/broken\.json' "$tmp/err" &&
	grep -q '^ok ' "$tmp/out" && ! crashed; then
	pass "damaged JSON (list): status 1, the file named, the others listed"
else
	fail "damaged JSON (list): status $rc"
	sed 's/^/    stderr: /' "$tmp/err"
fi
printf '{"name": "broken", "type": "private", "vlan": 5}\n' >"$OSIO_STORE_DIR/switches/broken.json"
expect_error "unknown key" 1 "broken\\.json: unknown key \"vlan\"" -- "$osio" switch show broken
printf '{"name": "other", "type": "private"}\n' >"$OSIO_STORE_DIR/switches/broken.json"
expect_error "name differs from the file" 1 "broken\\.json: its \"name\" is \"other\"" -- \
	"$osio" switch show broken
expect_ok "a damaged switch can be deleted" -- "$osio" switch delete broken

# A store folder others can write to is refused, naming it.
chmod 0777 "$OSIO_STORE_DIR"
expect_error "store writable by others" 1 "store.*writable only by it.*mode 777" -- \
	"$osio" switch create y --type private
chmod 0700 "$OSIO_STORE_DIR"
OSIO_STORE_DIR=relative expect_error "relative OSIO_STORE_DIR" 1 "absolute path.*OSIO_STORE_DIR" \
	-- "$osio" switch create y --type private

echo "$passes passed, $failures failed"
((failures == 0))
