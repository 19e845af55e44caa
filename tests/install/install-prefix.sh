#!/usr/bin/env bash
# cmake --install into a temporary prefix, moved elsewhere: the installed osio runs a test guest
# with a keymap only that prefix has, its man pages render without warnings, and its bash
# completion, loaded the way bash-completion loads it, completes commands, options and VM names.
set -uo pipefail

usage() {
	echo "usage: install-prefix.sh --build DIR --guest DIR --out DIR" >&2
	echo "  --build: osio's build folder; --guest: its tests/guest (debugexit.elf); --out: scratch" >&2
	exit 2
}
build='' guest='' out=''
while (($#)); do
	case $1 in
	--build) build=${2-}; shift 2 ;;
	--guest) guest=${2-}; shift 2 ;;
	--out) out=${2-}; shift 2 ;;
	*) usage ;;
	esac
done
[[ -n $build && -n $guest && -n $out ]] || usage
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$out
rm -rf "$tmp"
mkdir -p "$tmp"
failures=0 passes=0
# shellcheck source=../cli/lib.sh
source "$src/tests/cli/lib.sh"

# --- install, then move the prefix: osio must find its data next to itself ----------------------
prefix=$tmp/prefix moved=$tmp/elsewhere/osio
if ! cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
	fail "cmake --install --prefix $prefix"
	cat "$tmp/install.log"
	exit 1
fi
pass "cmake --install --prefix $prefix"
mkdir -p "${moved%/*}"
mv "$prefix" "$moved"
osio=$moved/bin/osio

# Everything the tree has to install is there: the binary, every man page (compressed or not),
# the keymaps and examples, the documents, the completion, each systemd file the tree has.
want=(bin/osio share/doc/osio/README.md share/doc/osio/control-api.md
	share/bash-completion/completions/osio)
for f in "$src"/share/man/*.[1-9]; do
	n=${f##*/}
	want+=("share/man/man${n##*.}/$n")
done
for f in "$src"/share/keymaps/*; do
	n=${f##*/}
	[[ $n == README || $n == *.py ]] || want+=("share/osio/keymaps/$n")
done
for f in "$src"/share/examples/*.vmconfig; do want+=("share/osio/examples/${f##*/}"); done
declare -A units=([osio.service]=lib/systemd/system/osio.service
	[osio-console@.service]=lib/systemd/system/osio-console@.service
	[tmpfiles.conf]=lib/tmpfiles.d/osio.conf [sysusers.conf]=lib/sysusers.d/osio.conf)
for u in "${!units[@]}"; do
	[[ -e $src/share/systemd/$u ]] && want+=("${units[$u]}")
done
missing=()
for f in "${want[@]}"; do
	[[ -e $moved/$f || -e $moved/$f.gz ]] || missing+=("$f")
done
if ((${#missing[@]})); then
	fail "installed files missing from the prefix: ${missing[*]}"
else
	pass "the prefix has all ${#want[@]} files (binary, man pages, keymaps, examples, docs," \
		"completion, units)"
fi
[[ -x $osio ]] || { echo "FAIL: no installed osio at $osio"; exit 1; }

# @BINDIR@ in a unit names the installed binary (the prefix given to cmake --install).
for u in "${!units[@]}"; do
	f=$moved/${units[$u]}
	[[ -e $f ]] || continue
	if grep -q '@BINDIR@' "$f"; then
		fail "$f still says @BINDIR@"
	elif grep -q '@BINDIR@' "$src/share/systemd/$u" && ! grep -qF "$prefix/bin/osio" "$f"; then
		fail "$f does not name $prefix/bin/osio"
	else
		pass "${units[$u]}: no @BINDIR@ left"
	fi
done

# --- the installed binary runs a guest with a keymap that only its prefix has --------------------
kernel=$guest/debugexit.elf
if [[ ! -r $kernel ]]; then
	fail "no test guest $kernel (build the guest_programs target)"
else
	probe=osio-install-probe-$$
	cp "$src/share/keymaps/de" "$moved/share/osio/keymaps/$probe"
	# A VNC server on a Unix socket (never a port another test holds): a keymap it cannot load
	# stops the VM from starting.
	run_guest() {
		timeout 60 "$osio" run --kernel "$kernel" --memory 32M -q --vnc "$tmp/vnc.sock" \
			--serial "file:$tmp/serial.log" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	}
	run_guest --keymap "$probe"
	rc=$?
	if ((rc != 42)) || grep -qv 'osio: note:' "$tmp/err"; then
		fail "installed osio with keymap $probe from its prefix: status $rc (42 expected)"
		sed 's/^/    stderr: /' "$tmp/err"
	elif ! grep -q 'debugexit: writing 42' "$tmp/serial.log"; then
		fail "the guest's serial output is missing"
	else
		pass "installed osio, moved to another folder, ran the guest with keymap $probe" \
			"from its share/osio/keymaps"
	fi
	# The prefix's keymaps come before the source tree's: a damaged en-us there is what osio reads.
	cp "$moved/share/osio/keymaps/en-us" "$tmp/en-us.good"
	echo 'nosuchkeysym KEY_A' >"$moved/share/osio/keymaps/en-us"
	run_guest --keymap en-us
	rc=$?
	name="a damaged en-us in the prefix is what osio reads, not the source tree's"
	if ((rc != 1)) || crashed; then
		fail "$name: status $rc (1 expected)"
		sed 's/^/    stderr: /' "$tmp/err"
	elif ! grep -qF "elsewhere/osio/bin/../share/osio/keymaps/en-us:1: unknown keysym" "$tmp/err"; then
		fail "$name: the message does not name the prefix's en-us"
		sed 's/^/    stderr: /' "$tmp/err"
	else
		pass "$name: $(head -n 1 "$tmp/err")"
	fi
	cp "$tmp/en-us.good" "$moved/share/osio/keymaps/en-us"
fi

# --- man pages -----------------------------------------------------------------------------------
if ! command -v man >/dev/null; then
	fail "man is missing (Debian package man-db)"
else
	for page in "$moved"/share/man/man*/*; do
		warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		text=$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
		if [[ -n $warnings ]]; then
			fail "man --warnings -l ${page#"$moved"/}: $warnings"
		elif ((text < 10)); then
			fail "man -l ${page#"$moved"/} renders $text lines"
		else
			pass "man -l ${page#"$moved"/}: $text lines, no warnings"
		fi
	done
fi

# --- bash completion -----------------------------------------------------------------------------
export OSIO_STORE_DIR=$tmp/store
mkdir -m 700 "$OSIO_STORE_DIR"
for vm in alpha beta-2 gamma.3; do
	expect_ok "osio create $vm" -- "$osio" create "$vm" --disk none --switch none --memory 64M
done
bc=/usr/share/bash-completion/bash_completion
if [[ ! -r $bc ]]; then
	fail "$bc is missing (Debian package bash-completion)"
else
	# comp LINE...: for each LINE, the words bash would offer for its last word, sorted, on one
	# line; bash-completion finds the file itself through XDG_DATA_DIRS=PREFIX/share.
	comp() {
		PATH=$moved/bin:$PATH XDG_DATA_DIRS=$moved/share HOME=$tmp bash --norc -c '
			source "$1"
			shift
			__load_completion osio || { echo "NOT LOADED"; exit 1; }
			for line in "$@"; do
				read -r -a COMP_WORDS <<<"$line"
				[[ $line == *" " ]] && COMP_WORDS+=("")
				COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line}
				COMPREPLY=()
				_osio osio
				printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | paste -sd " "
			done' bash "$bc" "$@" 2>&1
	}
	# expect_comp LINE WANT: the completion of LINE is exactly WANT.
	expect_comp() {
		local got
		got=$(comp "$1")
		if [[ $got == "$2" ]]; then
			pass "completion of '$1': $got"
		else
			fail "completion of '$1': got '$got', expected '$2'"
		fi
	}
	expect_comp "osio st" "start status stop"
	expect_comp "osio start " "alpha beta-2 gamma.3"
	expect_comp "osio stop b" "beta-2"
	expect_comp "osio checkpoint " "alpha beta-2 gamma.3"
	expect_comp "osio start alpha --fr" "--fresh"
	expect_comp "osio --system st" "start status stop"
	expect_comp "osio disk " "check convert create info reconnect resize"
	expect_comp "osio switch show " "default"
	expect_comp "osio create x --disk-bus " "ide virtio"
	expect_comp "osio disk create x.vhdx --format " "qcow2 raw vhd vhdx"
	mkdir -p "$tmp/files/sub"
	touch "$tmp/files/a.iso" "$tmp/files/b.vmconfig" "$tmp/files/c.txt"
	expect_comp "osio dvd alpha insert $tmp/files/" "$tmp/files/a.iso $tmp/files/sub"
	expect_comp "osio import $tmp/files/" "$tmp/files/b.vmconfig $tmp/files/sub"
	expect_comp "osio run --kernel $tmp/files/c" "$tmp/files/c.txt"
	# Every command osio help lists is completed, and the completion knows its arguments.
	cmds=$("$osio" help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p' | LC_ALL=C sort)
	got=$(comp "osio " | tr ' ' '\n' | grep -vx help)
	check "completion offers every command of osio help ($(wc -l <<<"$cmds"))" \
		test "$got" = "$cmds"
	unknown=$(PATH=$moved/bin:$PATH XDG_DATA_DIRS=$moved/share HOME=$tmp bash --norc -c '
		source "$1"; __load_completion osio
		for c in $2; do [[ -v _osio_args[$c] ]] || echo "$c"; done' bash "$bc" "$cmds")
	check "the completion's table of arguments has every command${unknown:+ (missing: $unknown)}" \
		test -z "$unknown"
	# Each command's options as its --help lists them.
	opts=$("$osio" run --help | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*' | sed 's/^[ ,]*//' |
		LC_ALL=C sort -u | paste -sd ' ')
	expect_comp "osio run --" "$opts"
fi

echo "install-prefix: $passes passed, $failures failed"
((failures == 0))
