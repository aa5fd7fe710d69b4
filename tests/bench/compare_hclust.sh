#!/usr/bin/env bash
# Hierarchical clustering against SciPy and fastcluster in one run on the same points
# (shared/bench hc_20k_d8, or POINTS/N from the environment): persona_hclust_fit
# (bench_hclust, 2 threads) vs scipy.cluster.hierarchy.linkage and fastcluster
# (linkage_vector for ward and single, linkage otherwise; the anchor scripts, one thread).
# Prints the medians, the ratios anchor/persona and the relative difference of the height
# sums. usage: tests/bench/compare_hclust.sh [METHOD ...]   (default: ward average single)
# env:   PERSONA_BENCH_HCLUST (default build/tests/bench/bench_hclust), PERSONA_BENCH_DATA
#        (/tmp/persona-bench), PERSONA_BENCH_HC (hc_20k_d8), PERSONA_BENCH_REPEATS (3),
#        SHARED (../shared beside the checkout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
BENCH=${PERSONA_BENCH_HCLUST:-$ROOT/build/tests/bench/bench_hclust}
export PERSONA_BENCH_DATA=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
D=$PERSONA_BENCH_DATA
NAME=${PERSONA_BENCH_HC:-hc_20k_d8}
REPEATS=${PERSONA_BENCH_REPEATS:-3}
export PERSONA_BENCH_REPEATS=$REPEATS PERSONA_BENCH_JSONL=/dev/null
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }
methods=("$@")
[ ${#methods[@]} -gt 0 ] || methods=(ward average single)
for m in "${methods[@]}"; do
  ours=$("$BENCH" "$D/$NAME.f64" 8 "$m" "$REPEATS" 2)
  ps=$(echo "$ours" | field '["median_s"]'); ph=$(echo "$ours" | field '["height_sum"]')
  for tool in scipy fastcluster; do
    theirs=$(cd "$SHARED/bench/anchors" && /usr/bin/python3 "hclust_$tool.py" --points "$D/$NAME.f64" \
             --d 8 --method "$m" --name "$NAME")
    ts=$(echo "$theirs" | field '["median_s"]'); th=$(echo "$theirs" | field '["result"]["height_sum"]')
    echo "{\"workload\": \"hclust\", \"points\": \"$NAME\", \"method\": \"$m\", \"anchor\": \"$tool\"," \
         "\"persona_s\": $ps, \"anchor_s\": $ts," \
         "\"ratio_anchor_over_persona\": $(awk -v a="$ts" -v b="$ps" 'BEGIN{printf "%.2f", a/b}')," \
         "\"height_sum_rel_diff\": $(awk -v a="$ph" -v b="$th" 'BEGIN{d=(a-b)/b; if(d<0)d=-d; printf "%.2g", d}')}"
  done
done
