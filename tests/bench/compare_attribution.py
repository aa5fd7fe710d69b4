#!/usr/bin/env python3
"""Attribution: libpersona against the test suite's Python reference (numpy absorbing-chain
solve, bindings/python/tests/test_attribution_reference.py) on the same synthetic journeys,
in one run. The journeys come from bench_attribution --dump (aggregated here into paths,
the reference's input form); the reference is timed for the Markov model of order 1 and 2
(its dense solve grows with the cube of the states, so order 3 is left out), libpersona for
the same (persona_attribution_compute on the same aggregated set). Credits must agree to
1e-9 relative. Prints seconds and the ratio reference / libpersona.

usage: compare_attribution.py BENCH_ATTRIBUTION [N] [C]"""
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python", "tests"))

import persona  # noqa: E402
from test_attribution_reference import ref_markov  # noqa: E402


def main():
    bench = sys.argv[1]
    n = sys.argv[2] if len(sys.argv) > 2 else "1000000"
    c = sys.argv[3] if len(sys.argv) > 3 else "20"
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "journeys.txt")
        subprocess.run([bench, n, c, "1", "--dump", dump], check=True, stdout=subprocess.DEVNULL)
        agg = Counter()
        values = Counter()
        with open(dump) as f:
            for line in f:
                parts = line.split()
                path = tuple(f"ch{int(x):02d}" for x in parts[3:])
                agg[(path, "c")] += int(parts[0])
                agg[(path, "n")] += int(parts[2])
                values[path] += float(parts[1])
    paths = sorted({p for p, _ in agg})
    journeys = [(list(p), agg[(p, "c")], values[p], agg[(p, "n")]) for p in paths]
    channels = sorted({x for p in paths for x in p})
    a = persona.Attribution.from_journeys([j[0] for j in journeys], [j[1] for j in journeys],
                                          [j[2] for j in journeys], [j[3] for j in journeys])
    print(f"{n} journeys, {len(paths)} distinct paths, {len(channels)} channels")
    for order in (1, 2):
        t0 = time.perf_counter()
        ref = ref_markov(journeys, channels, order)
        t_ref = time.perf_counter() - t0
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            got = a.compute("markov", order)
            best = min(best, time.perf_counter() - t0)
        rows = got.to_dict("records") if hasattr(got, "to_dict") else got
        worst = max(abs(r["conversions"] - ref[r["channel"]][0]) / max(1.0, abs(ref[r["channel"]][0]))
                    for r in rows)
        assert worst < 1e-9, worst
        print(f"markov order {order}: reference {t_ref:.3f} s, libpersona {best:.3f} s, "
              f"ratio {t_ref / best:.1f}x (largest relative difference {worst:.1e})")


if __name__ == "__main__":
    main()
