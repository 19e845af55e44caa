#!/usr/bin/env bash
# scripts/make-deb.sh end to end: the package's files and Depends, lintian, and (as root) dpkg
# installing, removing and purging it in a scratch root (--instdir/--admindir, the maintainer
# scripts honouring DPKG_ROOT) while the host's own system stays untouched; VMs survive a purge.
set -uo pipefail

usage() {
	echo "usage: deb.sh --out DIR   (a scratch folder: the release build and the package go there)" >&2
	exit 2
}
out=''
while (($#)); do
	case $1 in
	--out) out=${2-}; shift 2 ;;
	*) usage ;;
	esac
done
[[ -n $out ]] || usage
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$out/scratch
rm -rf "$tmp"
mkdir -p "$tmp"
failures=0 passes=0
# shellcheck source=../cli/lib.sh
source "$src/tests/cli/lib.sh"

for tool in dpkg-deb dpkg-shlibdeps fakeroot objdump; do
	command -v "$tool" >/dev/null || {
		echo "SKIP: $tool is missing (Debian packages dpkg-dev, fakeroot, binutils)"
		exit 77
	}
done

# --- build ---------------------------------------------------------------------------------------
start=$SECONDS
"$src/scripts/make-deb.sh" --build-dir "$out/build" --out "$out" >"$tmp/make.out" 2>"$tmp/make.err"
rc=$?
deb=$(tail -n 1 "$tmp/make.out")
if ((rc != 0)) || [[ $deb != "$out"/osio_*_*.deb || ! -f $deb ]]; then
	fail "scripts/make-deb.sh: status $rc, last line '$deb'"
	tail -n 20 "$tmp/make.err"
	exit 1
fi
pass "scripts/make-deb.sh built ${deb##*/} in $((SECONDS - start)) s"

# --- contents ------------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/files"
want=(/usr/bin/osio /usr/share/man/man1/osio.1.gz /usr/share/man/man5/osio-vmconfig.5.gz
	/usr/share/bash-completion/completions/osio /usr/share/osio/keymaps/en-us
	/usr/share/osio/examples/installer.vmconfig /usr/share/doc/osio/copyright
	/usr/share/doc/osio/changelog.gz)
for f in "$src"/share/man/*.[1-9]; do
	n=${f##*/}
	want+=("/usr/share/man/man${n##*.}/$n.gz")
done
declare -A units=([osio.service]=/usr/lib/systemd/system/osio.service
	[osio-console@.service]=/usr/lib/systemd/system/osio-console@.service
	[tmpfiles.conf]=/usr/lib/tmpfiles.d/osio.conf [sysusers.conf]=/usr/lib/sysusers.d/osio.conf)
for u in "${!units[@]}"; do
	[[ -e $src/share/systemd/$u ]] && want+=("${units[$u]}")
done
missing=()
for f in "${want[@]}"; do
	grep -qxF "$f" "$tmp/files" || missing+=("$f")
done
if ((${#missing[@]})); then
	fail "the package lacks: ${missing[*]}"
else
	pass "the package has all ${#want[@]} files looked for (binary, man pages, completion, data," \
		"docs, systemd files)"
fi
x=$tmp/extract
dpkg-deb -x "$deb" "$x"
for u in "${!units[@]}"; do
	f=$x${units[$u]}
	[[ -e $f ]] || continue
	if grep -q '@BINDIR@' "$f" || { grep -q '@BINDIR@' "$src/share/systemd/$u" &&
		! grep -q '/usr/bin/osio' "$f"; }; then
		fail "${units[$u]}: @BINDIR@ not replaced by /usr/bin"
	else
		pass "${units[$u]}: no @BINDIR@ left (/usr/bin where the tree says it)"
	fi
done
if [[ $("$x/usr/bin/osio" version) == "osio $(dpkg-deb -f "$deb" Version)" ]]; then
	pass "the packaged osio runs: $("$x/usr/bin/osio" version)"
else
	fail "the packaged osio does not say its package's version"
fi
# The package names no folder of the machine that built it (keymaps come from /usr/share/osio).
if strings "$x/usr/bin/osio" | grep -qF "$src"; then
	fail "the packaged osio contains the source path $src"
else
	pass "the packaged osio names no source folder"
fi

# Depends: a package for every library the binary links, as dpkg -S names it here.
depends=$(dpkg-deb -f "$deb" Depends)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
bad=()
for so in $(objdump -p "$x/usr/bin/osio" | awk '/NEEDED/ {print $2}'); do
	pkg=$(dpkg -S "*/$so" 2>/dev/null | grep -F "/$multiarch/" | head -n 1 | cut -d: -f1)
	[[ -n $pkg ]] && grep -qE "(^|, |\\| )$pkg( |,|$)" <<<"$depends" || bad+=("$so(${pkg:-?})")
done
if ((${#bad[@]})); then
	fail "Depends ($depends) lacks the packages of ${bad[*]}"
else
	pass "Depends names the package of each library osio links: $depends"
fi
if [[ $(dpkg-deb -f "$deb" Recommends) == *seabios* ]]; then
	pass "Recommends seabios (Generation 1 VMs' BIOS)"
else
	fail "Recommends lacks seabios"
fi

# lintian: no errors (warnings are shown).
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>&1
	grep -v 'running with root privileges' "$tmp/lintian" | sed 's/^/    lintian: /'
	if grep -q '^E:' "$tmp/lintian"; then
		fail "lintian reports errors"
	else
		pass "lintian: no errors ($(grep -c '^W:' "$tmp/lintian") warnings)"
	fi
else
	echo "note: lintian is missing: not run"
fi

# --- install, remove, purge into a scratch root ---------------------------------------------------
if (($(id -u) != 0)); then
	echo "deb: $passes passed, $failures failed"
	((failures == 0)) || exit 1
	echo "SKIP: installing the package into a scratch root needs root (the maintainer scripts" \
		"make the osio user and root-owned folders there)"
	exit 77
fi
inst=$tmp/root admin=$tmp/admin
# What a Debian system has before osio: the folders its maintainer scripts write into (/usr is
# dpkg's to make and remove here: no base-files package owns it).
mkdir -p "$inst"/{etc/systemd/system,run,var/lib/systemd} "$admin"/{info,updates,triggers}
touch "$admin/status" "$admin/available"
(cd "$inst" && find . -mindepth 1 | sort) >"$tmp/before"
dpkg_() {
	dpkg --instdir="$inst" --admindir="$admin" --force-depends --force-script-chrootless \
		--log="$tmp/dpkg.log" "$@" >"$tmp/out" 2>"$tmp/err"
}
state() {
	dpkg-query --admindir="$admin" -W -f='${db:Status-Status}' osio 2>/dev/null
}
# The host: its accounts, systemd links and system folders before and after.
host_state() {
	md5sum /etc/passwd /etc/group /etc/shadow 2>/dev/null
	ls -d /var/lib/osio /etc/systemd/system/multi-user.target.wants/osio.service \
		/var/lib/systemd/deb-systemd-helper-enabled/osio.service.dsh-also \
		/usr/bin/osio /usr/lib/systemd/system/osio.service 2>/dev/null
	dpkg-query -W -f='${db:Status-Status}\n' osio 2>/dev/null
}
host_state >"$tmp/host.before"

has_unit() { [[ -e $src/share/systemd/$1 ]]; }
check_installed() {
	local what=$1
	if [[ $(state) != installed ]]; then
		fail "$what: dpkg says '$(state)'"
		sed 's/^/    /' "$tmp/err"
		return
	fi
	pass "$what: installed"
	[[ -x $inst/usr/bin/osio ]] || fail "$what: no $inst/usr/bin/osio"
	if has_unit sysusers.conf; then
		check "$what: the osio user and group in the root's /etc/passwd and /etc/group" \
			grep -q '^osio:' "$inst/etc/passwd" "$inst/etc/group"
	fi
	if has_unit tmpfiles.conf; then
		local gid want_gid
		gid=$(stat -c %g "$inst/var/lib/osio" 2>/dev/null)
		want_gid=$(awk -F: '$1 == "osio" {print $3}' "$inst/etc/group" 2>/dev/null)
		check "$what: /var/lib/osio in the root, group osio ($want_gid), mode 2770" \
			test -n "$gid" -a "$gid" = "$want_gid" -a "$(stat -c %a "$inst/var/lib/osio")" = 2770
	fi
	if has_unit osio.service; then
		check "$what: osio.service enabled in the root" \
			test -L "$inst/etc/systemd/system/multi-user.target.wants/osio.service"
	fi
}

dpkg_ -i "$deb"
check_installed "dpkg -i"
dpkg_ --remove osio
if [[ $(state) == config-files && ! -e $inst/usr/bin/osio ]]; then
	pass "dpkg --remove: the binary gone, the package's configuration kept"
else
	fail "dpkg --remove: state '$(state)'"
	sed 's/^/    /' "$tmp/err"
fi
dpkg_ -i "$deb"
check_installed "dpkg -i after a remove (the osio user there already)"

# A purge leaves the VMs (the store is the user's data) and says so.
mkdir -p "$inst/var/lib/osio/vms/keep"
echo '[vm]' >"$inst/var/lib/osio/vms/keep/keep.vmconfig"
dpkg_ --purge osio
if [[ -n $(state) && $(state) != not-installed ]]; then
	fail "dpkg --purge: state '$(state)'"
	sed 's/^/    /' "$tmp/err"
elif [[ ! -f $inst/var/lib/osio/vms/keep/keep.vmconfig ]]; then
	fail "dpkg --purge deleted a VM in /var/lib/osio"
elif ! grep -q 'var/lib/osio is kept' "$tmp/err"; then
	fail "dpkg --purge kept the VMs without saying so"
	sed 's/^/    /' "$tmp/err"
else
	pass "dpkg --purge keeps the VMs in /var/lib/osio: $(grep 'is kept' "$tmp/err")"
fi
rm -rf "$inst/var/lib/osio/vms/keep"

# With no VM, install and purge leave the root as it was, the osio account aside (Debian leaves
# system users: files may still belong to them).
dpkg_ -i "$deb"
check_installed "dpkg -i again"
dpkg_ --purge osio
(cd "$inst" && find . -mindepth 1 | sort) >"$tmp/after"
extra=$(comm -13 "$tmp/before" "$tmp/after" |
	grep -vE '^\./etc/(passwd|group|shadow|gshadow|\.pwd\.lock)-?$')
gone=$(comm -23 "$tmp/before" "$tmp/after")
if [[ -n $extra || -n $gone ]]; then
	fail "dpkg --purge left behind: ${extra//$'\n'/ } ${gone:+removed: ${gone//$'\n'/ }}"
else
	pass "dpkg --purge: the root as before (the osio account aside)"
fi

host_state >"$tmp/host.after"
if cmp -s "$tmp/host.before" "$tmp/host.after"; then
	pass "the host's accounts, systemd links, /var/lib/osio and dpkg database untouched"
else
	fail "the host changed: $(diff "$tmp/host.before" "$tmp/host.after" | tr '\n' ' ')"
fi

echo "deb: $passes passed, $failures failed"
((failures == 0))
