#!/usr/bin/env bash
# `persona stats` against the DuckDB and pandas ingest anchors and the file-scan floors, in
# one run on the same files (shared/bench): prints each time and the ratio anchor/persona,
# and checks with compare.py that `persona profiles` equals DuckDB's per-user profiles.
#
# usage: tests/bench/compare_ingest.sh [INPUT...]   (inputs: retail synth_10m; default both)
# env:   PERSONA_CLI (default build/examples/cli/persona), PERSONA_BENCH_DATA (/tmp/persona-bench),
#        PERSONA_BENCH_REPEATS (3), SHARED (../shared beside the checkout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
CLI=${PERSONA_CLI:-$ROOT/build/examples/cli/persona}
export PERSONA_BENCH_DATA=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
REPEATS=${PERSONA_BENCH_REPEATS:-3}
INPUTS=${*:-retail synth_10m}
RESULTS=$PERSONA_BENCH_DATA/results-persona
mkdir -p "$RESULTS"
export PERSONA_BENCH_RESULTS=$RESULTS PERSONA_BENCH_INPUTS="$INPUTS"
bash "$SHARED/bench/run_anchors.sh" ingest >&2
JSONL=$(ls -t "$RESULTS"/anchors-*.jsonl | head -1)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
anchor() { # input anchor-prefix -> median seconds of the newest line
  /usr/bin/python3 - "$JSONL" "$1" "$2" <<'PY'
import json, sys
best = None
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["workload"] == "ingest" and d["input"] == sys.argv[2] and d["anchor"].startswith(sys.argv[3]):
        best = d["median_s"]
print(best if best is not None else "nan")
PY
}

printf '%-10s %10s %10s %10s %12s %14s %14s %s\n' input duckdb_s pandas_s memchr_s persona_s duckdb/persona persona/memchr equal
for input in $INPUTS; do
  case $input in
    retail) file=$PERSONA_BENCH_DATA/retail.events.csv ;;
    synth_10m) file=$PERSONA_BENCH_DATA/events_10m.csv ;;
    *) echo "unknown input $input" >&2; exit 2 ;;
  esac
  map=(--user user_id --time timestamp --event event --value value)
  times=()
  for _ in $(seq "$REPEATS"); do
    s=$(date +%s.%N); "$CLI" stats "$file" "${map[@]}" >/dev/null; e=$(date +%s.%N)
    times+=("$(awk -v a="$e" -v b="$s" 'BEGIN { print a - b }')")
  done
  ours=$(printf '%s\n' "${times[@]}" | median)
  "$CLI" profiles "$file" "${map[@]}" -o "$RESULTS/persona_$input.csv"
  eq=$(/usr/bin/python3 "$SHARED/bench/compare.py" ingest "$PERSONA_BENCH_DATA/out/ingest/duckdb_$input.csv" \
       "$RESULTS/persona_$input.csv" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["equal"])')
  duck=$(anchor "$input" duckdb); pandas=$(anchor "$input" pandas); floor=$(anchor "$input" limit-scan-memchr)
  printf '%-10s %10.3f %10.3f %10.3f %12.3f %14.2f %14.2f %s\n' "$input" "$duck" "$pandas" "$floor" "$ours" \
    "$(awk -v a="$duck" -v b="$ours" 'BEGIN { print a / b }')" \
    "$(awk -v a="$ours" -v b="$floor" 'BEGIN { print a / b }')" "$eq"
done
