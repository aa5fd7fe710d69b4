#!/usr/bin/env bash
# Cohort tables and funnels against the DuckDB and pandas anchors, in one run on the same
# files (shared/bench): end to end (`persona cohort` / `persona funnel` on the CSV vs the
# anchors' query on read_csv) and compute (bench_cohort / bench_funnel on a loaded store vs
# the anchors' query on a loaded table). Prints each time, the ratios anchor/persona, the
# peak RSS of both sides, and whether the results are equal under compare.py.
#
# usage: tests/bench/compare_cohort.sh [INPUT...]   (inputs: retail synth_10m; default both;
#        the funnel runs on synth_10m only: retail has no view/addtocart events)
# env:   PERSONA_CLI, PERSONA_BENCH_COHORT, PERSONA_BENCH_FUNNEL (the programs; default under
#        build/), PERSONA_BENCH_DATA (/tmp/persona-bench), PERSONA_BENCH_REPEATS (3),
#        SHARED (../shared beside the checkout), PERSONA_BENCH_REUSE_ANCHORS=1 (use the newest
#        anchor results in $PERSONA_BENCH_DATA/results-persona instead of running them again)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
CLI=${PERSONA_CLI:-$ROOT/build/examples/cli/persona}
BENCH_COHORT=${PERSONA_BENCH_COHORT:-$ROOT/build/tests/bench/bench_cohort}
BENCH_FUNNEL=${PERSONA_BENCH_FUNNEL:-$ROOT/build/tests/bench/bench_funnel}
export PERSONA_BENCH_DATA=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
D=$PERSONA_BENCH_DATA
REPEATS=${PERSONA_BENCH_REPEATS:-3}
INPUTS=${*:-retail synth_10m}
RESULTS=$D/results-persona
mkdir -p "$RESULTS"
export PERSONA_BENCH_RESULTS=$RESULTS PERSONA_BENCH_INPUTS="$INPUTS"
[ -n "${PERSONA_BENCH_REUSE_ANCHORS:-}" ] || bash "$SHARED/bench/run_anchors.sh" cohort funnel >&2
JSONL=$(ls -t "$RESULTS"/anchors-*.jsonl | head -1)

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
anchor() { # workload input anchor-prefix phase -> median seconds of the newest line
  /usr/bin/python3 - "$JSONL" "$@" <<'PY'
import json, sys
best = None
for line in open(sys.argv[1]):
    d = json.loads(line)
    if (d["workload"], d["input"], d["phase"]) == (sys.argv[2], sys.argv[3], sys.argv[5]) \
            and d["anchor"].startswith(sys.argv[4]):
        best = d["median_s"]
print(best if best is not None else "nan")
PY
}
# Wall seconds (median of REPEATS) of a command; its peak RSS (MB) is left for rss_mb.
timed() {
  local times=() s e
  for _ in $(seq "$REPEATS"); do
    s=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$RESULTS/rss.txt" "$@" >/dev/null
    e=$(date +%s.%N)
    times+=("$(awk -v a="$e" -v b="$s" 'BEGIN { print a - b }')")
  done
  printf '%s\n' "${times[@]}" | median
}
rss_mb() { awk '{ printf "%.0f", $1 / 1024 }' "$RESULTS/rss.txt"; }
# Peak RSS in MB of one DuckDB anchor process (end to end, load and compute phases).
duck_rss() { # workload file name
  (cd "$SHARED/bench/anchors" && PERSONA_BENCH_REPEATS=1 PERSONA_BENCH_JSONL=/dev/null \
     /usr/bin/time -f '%M' -o "$RESULTS/duck_rss.txt" node "$1_duckdb.mjs" --events "$2" \
     --name "$3" >/dev/null 2>&1) || true
  awk '{ printf "%.0f", $1 / 1024 }' "$RESULTS/duck_rss.txt"
}
equal() { /usr/bin/python3 "$SHARED/bench/compare.py" "$@" | /usr/bin/python3 -c \
  'import json,sys; print(json.load(sys.stdin)["equal"])'; }

map=(--user user_id --time timestamp --event event --value value)
printf '%-8s %-10s %-8s %9s %9s %9s %8s %9s %9s %s\n' workload input phase duckdb_s pandas_s \
  persona_s duck/ours rss_duck rss_ours equal
for input in $INPUTS; do
  case $input in
    retail) file=$D/retail.events.csv ;;
    synth_10m) file=$D/events_10m.csv ;;
    *) echo "unknown input $input" >&2; exit 2 ;;
  esac
  # cohort, end to end
  ours=$(timed "$CLI" cohort "$file" "${map[@]}" -o "$RESULTS/persona_cohort_$input.csv")
  rss=$(rss_mb)
  eq=$(equal cohort "$D/out/cohort/duckdb_${input}_e2e.csv" "$RESULTS/persona_cohort_$input.csv")
  duck=$(anchor cohort "$input" duckdb end-to-end); pandas=$(anchor cohort "$input" pandas end-to-end)
  printf '%-8s %-10s %-8s %9.3f %9.3f %9.3f %8s %9s %9s %s\n' cohort "$input" e2e "$duck" "$pandas" \
    "$ours" "$(ratio "$duck" "$ours")" "$(duck_rss cohort "$file" "$input")" "$rss" "$eq"
  # cohort, compute on a loaded store (bench_cohort prints the median build time)
  line=$("$BENCH_COHORT" "$file" 5 "$RESULTS/persona_cohort_compute_$input.csv")
  ours=$(printf '%s' "$line" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["build_s"])')
  eq=$(equal cohort "$D/out/cohort/duckdb_${input}_compute.csv" "$RESULTS/persona_cohort_compute_$input.csv")
  duck=$(anchor cohort "$input" duckdb compute); pandas=$(anchor cohort "$input" pandas compute)
  printf '%-8s %-10s %-8s %9.3f %9.3f %9.4f %8s %9s %9s %s\n' cohort "$input" compute "$duck" \
    "$pandas" "$ours" "$(ratio "$duck" "$ours")" - - "$eq"
  [ "$input" = synth_10m ] || continue
  # funnel, end to end and compute
  fargs=(--steps view,addtocart,transaction --window 24h)
  ours=$(timed "$CLI" funnel "$file" "${map[@]}" "${fargs[@]}" -o "$RESULTS/persona_funnel_$input.csv")
  rss=$(rss_mb)
  eq=$(equal funnel "$D/out/funnel/duckdb_${input}_e2e.csv" "$RESULTS/persona_funnel_$input.csv")
  duck=$(anchor funnel "$input" duckdb end-to-end); pandas=$(anchor funnel "$input" pandas end-to-end)
  printf '%-8s %-10s %-8s %9.3f %9.3f %9.3f %8s %9s %9s %s\n' funnel "$input" e2e "$duck" "$pandas" \
    "$ours" "$(ratio "$duck" "$ours")" "$(duck_rss funnel "$file" "$input")" "$rss" "$eq"
  line=$("$BENCH_FUNNEL" "$file" 5)
  ours=$(printf '%s' "$line" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["build_s"])')
  eq=$(printf '%s' "$line" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["anchor_match"])')
  duck=$(anchor funnel "$input" duckdb compute); pandas=$(anchor funnel "$input" pandas compute)
  printf '%-8s %-10s %-8s %9.3f %9.3f %9.4f %8s %9s %9s %s\n' funnel "$input" compute "$duck" \
    "$pandas" "$ours" "$(ratio "$duck" "$ours")" - - "$eq"
done
