#!/usr/bin/env bash
# The README's second command: osio's whole test suite. Installs what is
# missing, builds the default preset and the debug preset (AddressSanitizer +
# UBSan), and runs ctest on both. Extra arguments go to both ctest runs, e.g.
#   scripts/test.sh -L unit        (seconds)
#   scripts/test.sh -LE slow       (a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)
for preset in default debug; do
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j "$jobs"
done
status=0
echo "== tests: default preset (release build)"
ctest --preset default -j "$jobs" "$@" || status=1
echo "== tests: debug preset (AddressSanitizer + UBSan)"
ctest --preset debug -j "$jobs" "$@" || status=1
exit $status
