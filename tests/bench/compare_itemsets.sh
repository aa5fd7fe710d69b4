#!/usr/bin/env bash
# Frequent itemsets against Borgelt's fpgrowth and eclat in one run on the same baskets:
# `persona itemsets` on the long CSV (read, mine, write every itemset as CSV) vs his programs
# on the .tx file (read, mine, write every itemset), process wall time, median of REPEATS.
# Prints one JSON line per input and support: medians, minima, peak RSS, the ratios
# anchor/persona (> 1: persona is faster) and whether our output's canonical form hashes as
# the anchors' recorded result (tests/data/itemsets_anchor_sha256.csv).
# Borgelt's programs are not installed from any registry: build his public sources outside
# the repository into $BORGELT_DIR (default /tmp/borgelt) as fpgrowth/src/fpgrowth and
# eclat/src/eclat (shared/bench/README.md); without them only our side runs.
# usage: tests/bench/compare_itemsets.sh [INPUT:SUPPORT ...]
#        (default: baskets_200k:0.002 baskets_200k:0.001 retail:0.002)
# env:   PERSONA_CLI (default build-rel/examples/cli/persona, else build/...), PERSONA_BENCH_DATA
#        (/tmp/persona-bench), PERSONA_BENCH_REPEATS (3), BORGELT_DIR (/tmp/borgelt)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CLI=${PERSONA_CLI:-}
if [ -z "$CLI" ]; then
  CLI=$ROOT/build-rel/examples/cli/persona
  [ -x "$CLI" ] || CLI=$ROOT/build/examples/cli/persona
fi
D=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
REPEATS=${PERSONA_BENCH_REPEATS:-3}
BORGELT=${BORGELT_DIR:-/tmp/borgelt}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(baskets_200k:0.002 baskets_200k:0.001 retail:0.002)
# Median and minimum wall time and peak RSS (KB) of REPEATS runs of a command.
timed() {
  /usr/bin/python3 - "$REPEATS" "$@" <<'PY'
import json, resource, statistics, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
times, rss = [], 0
for _ in range(n):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
    rss = max(rss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
                  "peak_rss_kb": rss}))
PY
}
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.read())$1)"; }
for c in "${cases[@]}"; do
  name=${c%%:*}; s=${c#*:}
  n=$(wc -l < "$D/$name.tx")
  count=$(/usr/bin/python3 -c "import math; print(max(1, math.ceil($s * $n - 1e-9)))")
  ours=$(timed "$CLI" itemsets "$D/$name.baskets.csv" --basket basket --item item \
         --min-support "$s" -o "$OUT/ours.csv")
  sha=$(/usr/bin/python3 "$ROOT/tests/data/itemsets_canonical.py" "$OUT/ours.csv" | sha256sum | cut -d' ' -f1)
  want=$(awk -F, -v i="$name" -v s="$s" '$1 == i && $2 == s {print $5}' "$ROOT/tests/data/itemsets_anchor_sha256.csv")
  rows=$(($(wc -l < "$OUT/ours.csv") - 1))
  line="{\"workload\": \"itemsets\", \"input\": \"$name\", \"min_support\": $s, \"min_count\": $count,"
  line+=" \"itemsets\": $rows, \"same_as_anchor\": $([ "$sha" = "$want" ] && echo true || echo false),"
  line+=" \"persona\": $ours"
  for prog in fpgrowth eclat; do
    bin=$BORGELT/$prog/src/$prog
    [ -x "$bin" ] || continue
    theirs=$(timed "$bin" "-s-$count" "-v %a" "$D/$name.tx" "$OUT/$prog.out")
    ratio=$(awk -v a="$(echo "$theirs" | field '["median_s"]')" -v b="$(echo "$ours" | field '["median_s"]')" \
            'BEGIN{printf "%.2f", a/b}')
    line+=", \"$prog\": $theirs, \"ratio_${prog}_over_persona\": $ratio"
  done
  echo "$line}"
done
