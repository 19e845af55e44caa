#!/bin/bash
# osio switch as users meet it: create/list/show/delete of every type in a
# VM store of its own (OSIO_STORE_DIR), --json read back with jq, one clear
# line and the right exit status for every mistake, damaged files named.
# usage: switch.sh OSIO
set -u
osio=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OSIO_STORE_DIR=$tmp/store
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
