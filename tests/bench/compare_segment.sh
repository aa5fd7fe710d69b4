#!/usr/bin/env bash
# The whole-store segment scan against DuckDB, in one run on the same file: twelve
# behavioural rules (tests/bench/rules_synth.txt) and the same rules as SQL
# (tests/bench/segment_duckdb.mjs). End to end: `persona segment rules --summary` on the CSV
# vs the query on read_csv; compute: bench_segment's scan of a loaded store vs the query on
# a loaded table (2 threads each). Prints the times, the ratios DuckDB/persona and whether
# every segment's count is equal.
#
# usage: tests/bench/compare_segment.sh [EVENTS.csv]   (default the 10M-event synthetic file)
# env:   PERSONA_CLI, PERSONA_BENCH_SEGMENT (the programs; default under build/),
#        PERSONA_BENCH_DATA (/tmp/persona-bench; DuckDB from tools/duckdb there, as the
#        shared anchors install it), PERSONA_BENCH_REPEATS (3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLI=${PERSONA_CLI:-$ROOT/build/examples/cli/persona}
BENCH=${PERSONA_BENCH_SEGMENT:-$ROOT/build/tests/bench/bench_segment}
D=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
EVENTS=${1:-$D/events_10m.csv}
REPEATS=${PERSONA_BENCH_REPEATS:-3}
RULES=$ROOT/tests/bench/rules_synth.txt
WORK=$D/results-persona/segment
mkdir -p "$WORK"
if [ ! -d "$D/tools/duckdb/node_modules/@duckdb" ]; then
  echo "compare_segment: DuckDB not installed under $D/tools/duckdb (see shared/bench/README.md)" >&2
  exit 77
fi
# The anchor runs beside a link to DuckDB's node_modules (ES modules resolve from the file).
cp "$ROOT/tests/bench/segment_duckdb.mjs" "$WORK/"
ln -sfn "$D/tools/duckdb/node_modules" "$WORK/node_modules"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
duck=$(node "$WORK/segment_duckdb.mjs" --events "$EVENTS" --set synth --repeats "$REPEATS")
times=()
for _ in $(seq "$REPEATS"); do
  s=$(date +%s.%N)
  "$CLI" segment rules "$EVENTS" --rules "$RULES" --mode all --summary --threads 2 >"$WORK/summary.csv"
  e=$(date +%s.%N)
  times+=("$(awk -v a="$e" -v b="$s" 'BEGIN { print a - b }')")
done
cli_s=$(printf '%s\n' "${times[@]}" | median)
scan=$("$BENCH" "$EVENTS" "$REPEATS" scan "$RULES")
/usr/bin/python3 - "$duck" "$scan" "$cli_s" "$WORK/summary.csv" <<'PY'
import csv, json, sys
duck, scan, cli_s = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
summary = {r["segment"]: int(r["users"]) for r in csv.DictReader(open(sys.argv[4]))}
want = {k: v for k, v in duck["counts"].items() if k != "users"}
equal = all(scan["counts"].get(k) == v and summary.get(k) == v for k, v in want.items())
print(json.dumps({
    "workload": "segment-scan", "anchor": duck["anchor"], "rules": len(want),
    "users": duck["counts"]["users"], "equal_counts": equal,
    "end_to_end_s": {"persona_cli": round(cli_s, 3), "duckdb": round(duck["e2e_s"], 3),
                     "ratio_duckdb_over_persona": round(duck["e2e_s"] / cli_s, 2)},
    "compute_s": {"persona_scan": scan["scan_s"], "duckdb": round(duck["compute_s"], 3),
                  "ratio_duckdb_over_persona": round(duck["compute_s"] / scan["scan_s"], 2)},
}))
sys.exit(0 if equal else 1)
PY
