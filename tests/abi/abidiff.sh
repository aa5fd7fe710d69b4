#!/bin/sh
# Compare the built library with the committed ABI baseline (TESTING §9, CONVENTIONS §11).
#
# usage: abidiff.sh BASELINE.abi BUILT_LIBRARY HEADERS_DIR
#
# Runs   abidiff --headers-dir2 HEADERS_DIR --drop-private-types --no-added-syms BASELINE BUILT
# and fails on any non-zero exit: with abigail 2.2 a removed function gives 12, a field
# inserted or appended in a public struct 4; added functions (0 with --no-added-syms) and
# changes inside opaque structs (0) pass. Exit 77 (skip) when abidiff is not installed.
# Regenerating the baseline: tests/abi/README.md.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 BASELINE.abi BUILT_LIBRARY HEADERS_DIR" >&2
    exit 2
fi
baseline=$1
built=$2
headers=$3

if ! command -v abidiff >/dev/null 2>&1; then
    echo "abidiff.sh: abidiff not installed (apt-get install abigail-tools); skipping" >&2
    exit 77
fi
for f in "$baseline" "$built"; do
    if [ ! -f "$f" ]; then
        echo "abidiff.sh: $f does not exist" >&2
        exit 1
    fi
done
if [ ! -d "$headers" ]; then
    echo "abidiff.sh: headers directory $headers does not exist" >&2
    exit 1
fi

# Without DWARF (a build without -g) abidiff can only compare symbols: say so, since
# then struct layout changes are caught only by test_layout.
if command -v readelf >/dev/null 2>&1 && ! readelf -S "$built" 2>/dev/null | grep -q '\.debug_info'; then
    echo "abidiff.sh: WARNING: $built has no debug info; only symbols are compared" >&2
fi

echo "abidiff --headers-dir2 $headers --drop-private-types --no-added-syms $baseline $built"
abidiff --headers-dir2 "$headers" --drop-private-types --no-added-syms "$baseline" "$built"
rc=$?
if [ $rc -ne 0 ]; then
    # Bits of the exit code: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
    echo "abidiff.sh: FAIL: abidiff exited $rc (1 = tool error, 2 = usage, 4 = ABI change," \
         "8 = incompatible change, e.g. 12 = a removed symbol)." >&2
    echo "abidiff.sh: if the change is intended, it needs a reviewed 'abi:' change that" \
         "regenerates the baseline (tests/abi/README.md)." >&2
    exit 1
fi
echo "abidiff.sh: no ABI change against $baseline"
exit 0
