#!/usr/bin/env bash
# Save and open of the store of the 10M-event synthetic file against the disk's sequential
# write speed, measured in the same run and directory (`dd ... conv=fdatasync` of a file of
# the snapshot's size). Prints both and the ratios (issue target: save >= 50 % of dd).
#
# usage: tests/bench/compare_snapshot.sh [DIR]   (DIR for the files, default PERSONA_BENCH_DATA)
# env:   PERSONA_BENCH_SNAPSHOT (build/tests/bench/bench_snapshot), PERSONA_BENCH_DATA
#        (/tmp/persona-bench), SHARED (../shared beside the checkout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
BENCH=${PERSONA_BENCH_SNAPSHOT:-$ROOT/build/tests/bench/bench_snapshot}
DATA=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
DIR=${1:-$DATA}
mkdir -p "$DATA/bin" "$DIR"
CSV=$DATA/events_10m.csv
if [ ! -s "$CSV" ]; then
  gcc -O2 -std=c11 -o "$DATA/bin/events" "$SHARED/bench/gen/events.c" -lm
  "$DATA/bin/events" 10000000 42 "$CSV"
fi
SNAP=$DIR/bench.snap
ours=$("$BENCH" "$CSV" "$SNAP" 3)
mb=$(echo "$ours" | /usr/bin/python3 -c 'import json,sys; print(int(json.load(sys.stdin)["snapshot_mb"]) + 1)')
dd_out=$(dd if=/dev/zero of="$DIR/dd.bin" bs=1M count="$mb" conv=fdatasync 2>&1 | tail -1)
rm -f "$DIR/dd.bin" "$SNAP"
dd_mb_s=$(echo "$dd_out" | /usr/bin/python3 -c '
import re, sys
line = sys.stdin.read()
m = re.search(r"(\d+) bytes.*?, ([\d.]+) s,", line)
print(round(int(m.group(1)) / float(m.group(2)) / 1e6, 1))')
echo "persona: $ours"
echo "dd conv=fdatasync: $dd_mb_s MB/s ($dd_out)"
echo "$ours" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin); dd = float(sys.argv[1])
print("save/dd = %.2f   open/dd = %.2f" % (d["save_mb_s"] / dd, d["open_mb_s"] / dd))' "$dd_mb_s"
