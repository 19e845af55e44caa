# shellcheck shell=bash disable=SC2154 # tmp, failures, passes: the caller's
# Shared by the cli tests: counting results, checking that a command works quietly and that a
# mistake is one clear line.
# The caller sets tmp (a scratch directory), failures=0 and passes=0, then sources this.

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

pass() {
	passes=$((passes + 1))
	echo "ok: $*"
}

# crashed: whether the last command's stderr looks like a crash.
crashed() {
	grep -Eq 'Sanitizer|runtime error|Segmentation|core dumped' "$tmp/err"
}

# expect_error NAME STATUS PATTERN -- COMMAND...: the command exits with STATUS, prints exactly
# one line on stderr (the note about a KVM without hardware support aside) matching PATTERN
# (grep -E), and nothing that looks like a crash.
expect_error() {
	local name=$1 want=$2 pattern=$3 rc n
	shift 4
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	grep -v 'osio: note:' "$tmp/err" >"$tmp/err.lines"
	n=$(wc -l <"$tmp/err.lines")
	if ((rc != want)); then
		fail "$name: exit status $rc, expected $want"
	elif ((n != 1)); then
		fail "$name: $n lines on stderr, expected one"
	elif ! grep -Eq -- "$pattern" "$tmp/err.lines"; then
		fail "$name: the message does not say '$pattern'"
	elif crashed; then
		fail "$name: crashed"
	else
		pass "$name: $(cat "$tmp/err.lines")"
		return 0
	fi
	sed 's/^/    stderr: /' "$tmp/err"
	return 1
}

# expect_ok NAME -- COMMAND...: exit status 0, nothing on stderr (the note about a KVM without
# hardware support aside).
expect_ok() {
	local name=$1
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	if ((rc != 0)) || grep -qv 'osio: note:' "$tmp/err"; then
		fail "$name: exit status $rc"
		sed 's/^/    stderr: /' "$tmp/err"
		return 1
	fi
	pass "$name"
}

# check NAME COMMAND...: a jq or shell test on what the last command wrote ($tmp/out, shown when
# it fails).
check() {
	local name=$1
	shift
	if "$@"; then
		pass "$name"
	else
		fail "$name"
		sed 's/^/    out: /' "$tmp/out"
	fi
}
