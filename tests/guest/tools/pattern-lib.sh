# shellcheck shell=bash disable=SC2034 # the options are the caller's variables
# Shared by pattern-disk-test.sh and pattern-pause-test.sh: the options both take, counting
# failures, and checking that an image holds exactly the pattern the guest wrote.

# pattern_opt OPTION VALUE: --osio, --kernel, --checker or --outdir into osio, kernel, checker
# or outdir; false for any other option.
pattern_opt() {
	case $1 in
	--osio) osio=$2 ;;
	--kernel) kernel=$2 ;;
	--checker) checker=$2 ;;
	--outdir) outdir=$2 ;;
	*) return 1 ;;
	esac
}

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# pattern_verify RAW SECTORS REPORT WHO: the checker finds the guest's pattern in exactly SECTORS
# sectors of the raw image RAW and zeroes elsewhere; its report is appended to REPORT, its last
# line printed (after WHO, e.g. "osio: ") or all of it with a FAIL.
pattern_verify() {
	if "$checker" "$1" --expect "$2" >>"$3" 2>&1; then
		echo "$4$(tail -n1 "$3")"
	else
		fail "$4the image does not hold what the guest wrote:"
		cat "$3"
	fi
}
