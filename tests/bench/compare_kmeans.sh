#!/usr/bin/env bash
# k-means against scikit-learn in one run on the same points (shared/bench blobs_1m_d8, the
# given initial centres, k = 8 and 64): persona_kmeans_fit (bench_kmeans, 2 threads) vs
# KMeans(init=…, n_init=1, algorithm="lloyd"|"elkan").fit (the anchor script, every CPU).
# Prints the medians, the ratios sklearn/persona, and whether iterations and inertia agree.
# usage: tests/bench/compare_kmeans.sh
# env:   PERSONA_BENCH_KMEANS (default build/tests/bench/bench_kmeans), PERSONA_BENCH_DATA
#        (/tmp/persona-bench), PERSONA_BENCH_REPEATS (3), SHARED (../shared beside the checkout)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
BENCH=${PERSONA_BENCH_KMEANS:-$ROOT/build/tests/bench/bench_kmeans}
export PERSONA_BENCH_DATA=${PERSONA_BENCH_DATA:-/tmp/persona-bench}
D=$PERSONA_BENCH_DATA
REPEATS=${PERSONA_BENCH_REPEATS:-3}
export PERSONA_BENCH_REPEATS=$REPEATS PERSONA_BENCH_JSONL=/dev/null
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])$1)"; }
for k in 8 64; do
  init=$D/blobs_1m_d8.init_k$k.csv
  ours=$("$BENCH" "$D/blobs_1m_d8.f64" 8 "$init" "$REPEATS" 2)
  for alg in lloyd elkan; do
    theirs=$(cd "$SHARED/bench/anchors" && /usr/bin/python3 kmeans_sklearn.py --points "$D/blobs_1m_d8.f64" \
             --d 8 --init "$init" --algorithm $alg --name blobs_1m_d8)
    ps=$(echo "$ours" | field '["median_s"]'); ss=$(echo "$theirs" | field '["median_s"]')
    pi=$(echo "$ours" | field '["iterations"]'); si=$(echo "$theirs" | field '["result"]["iterations"]')
    pin=$(echo "$ours" | field '["inertia"]'); sin=$(echo "$theirs" | field '["result"]["inertia"]')
    echo "{\"workload\": \"kmeans\", \"k\": $k, \"anchor\": \"sklearn-$alg\", \"persona_s\": $ps," \
         "\"sklearn_s\": $ss, \"ratio_sklearn_over_persona\": $(awk -v a="$ss" -v b="$ps" 'BEGIN{printf "%.2f", a/b}')," \
         "\"persona_s_per_iter\": $(echo "$ours" | field '["s_per_iter"]'), \"iterations\": [$pi, $si]," \
         "\"inertia_rel_diff\": $(awk -v a="$pin" -v b="$sin" 'BEGIN{d=(a-b)/b; if(d<0)d=-d; printf "%.2g", d}')}"
  done
done
