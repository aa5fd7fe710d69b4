#!/usr/bin/env bash
# Path models against pandas, in one run on the same file: the first-order transition
# table of the 10M-event synthetic file (sessions by a 30-minute gap, state = event type,
# (start) and (end) added). pandas (tests/bench/paths_pandas.py) on a loaded table
# (timestamps parsed, types categorical) against bench_paths on a loaded store
# (persona_path_build of order 1, and of order 2); also persona_path_next. Prints events/s
# of each side, the ratios pandas time / ours, and whether the two tables are equal.
#
# usage: tests/bench/compare_paths.sh [EVENTS.csv]   (default $PERSONA_BENCH_DATA/events_10m.csv,
#        made with ../shared/bench/gen/events.c: `events 10000000 42` when missing)
# env:   PERSONA_BENCH_PATHS (default build/tests/bench/bench_paths), PERSONA_BENCH_DATA
#        (/tmp/persona-bench), PERSONA_BENCH_REPEATS (3), SHARED (../shared beside the checkout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
BENCH=${PERSONA_BENCH_PATHS:-$ROOT/build/tests/bench/bench_paths}
D=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
REPEATS=${PERSONA_BENCH_REPEATS:-3}
FILE=${1:-$D/events_10m.csv}
mkdir -p "$D/bin"
if [ ! -f "$FILE" ]; then
  cc -O2 -o "$D/bin/events" "$SHARED/bench/gen/events.c" -lm
  "$D/bin/events" 10000000 42 "$FILE"
fi
pandas_json=$(/usr/bin/python3 "$ROOT/tests/bench/paths_pandas.py" "$FILE" "$D/paths_pandas.csv" "$REPEATS")
ours_json=$("$BENCH" "$FILE" "$REPEATS" "$D/paths_persona.csv")
# the same rows (ours come by count within each context, pandas' by name)
if cmp -s <(sort "$D/paths_pandas.csv") <(sort "$D/paths_persona.csv"); then equal=true; else equal=false; fi
/usr/bin/python3 - "$pandas_json" "$ours_json" "$equal" <<'PY'
import json, sys
p, o, equal = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
n = p["rows"]
print(f"{'side':<26} {'seconds':>9} {'events/s':>14} {'pandas/ours':>12}")
print(f"{'pandas transitions':<26} {p['compute_s']:9.3f} {n / p['compute_s']:14,.0f} {'1.00':>12}")
for key, name in (("order1_s", "persona build, order 1"), ("order2_s", "persona build, order 2")):
    print(f"{name:<26} {o[key]:9.3f} {n / o[key]:14,.0f} {p['compute_s'] / o[key]:12.2f}")
print(f"next (order 2, top 3): {o['next_ns']:.1f} ns per query; tables equal: {equal}")
print(json.dumps({"pandas_s": p["compute_s"], "order1_s": o["order1_s"], "order2_s": o["order2_s"],
                  "ratio_order1": round(p["compute_s"] / o["order1_s"], 2),
                  "ratio_order2": round(p["compute_s"] / o["order2_s"], 2),
                  "next_ns": o["next_ns"], "equal": equal == "true"}))
PY
