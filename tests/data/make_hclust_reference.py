#!/usr/bin/env python3
"""SciPy's hierarchical clustering of the 5k benchmark points, the reference of
tests/unit/cluster/test_hclust.c.

usage: make_hclust_reference.py HC_5K_D8.f64 OUT_DIR   (tests/data)

HC_5K_D8.f64 is made by ../shared/bench/gen/blobs.py --n 5000 --d 8 --seed 5 --out PREFIX
(5,000 points of 8 dimensions, float64 little-endian, row-major). Writes into OUT_DIR:

hclust_5k_points.f64          the points, as given
hclust_5k_scipy_METHOD.csv    scipy.cluster.hierarchy.linkage(points, METHOD) for ward,
                              average, complete, single: rows a,b,distance,size (%.17g);
                              fastcluster's linkage (linkage_vector for ward and single)
                              is checked to give the same merges and heights to 1e-12
hclust_5k_scipy_cuts.csv      method,kind,value,labels: flat clusters of that matrix,
                              kind "k" scipy's cut_tree(Z, n_clusters=value), kind "height"
                              fcluster(Z, value, criterion="distance"); labels renumbered
                              in the order of each cluster's first point, joined by spaces
"""
import os
import sys

import fastcluster
import numpy as np
from scipy.cluster.hierarchy import cut_tree, fcluster, linkage

METHODS = ["ward", "average", "complete", "single"]


def first_seen(labels):
    seen = {}
    return [seen.setdefault(v, len(seen)) for v in labels]


def main():
    src, out = sys.argv[1], sys.argv[2]
    x = np.fromfile(src, dtype="<f8").reshape(-1, 8)
    x.tofile(os.path.join(out, "hclust_5k_points.f64"))
    cuts = []
    for m in METHODS:
        z = linkage(x, method=m, metric="euclidean")
        f = (fastcluster.linkage_vector(x, method=m) if m in ("ward", "single")
             else fastcluster.linkage(x, method=m))
        assert (z[:, [0, 1, 3]] == f[:, [0, 1, 3]]).all(), m
        assert (np.abs(z[:, 2] - f[:, 2]) <= 1e-12 * z[:, 2]).all(), m
        with open(os.path.join(out, f"hclust_5k_scipy_{m}.csv"), "w") as fh:
            fh.write("a,b,distance,size\n")
            for r in z:
                fh.write(f"{int(r[0])},{int(r[1])},{r[2]:.17g},{int(r[3])}\n")
        for k in (4, 12):
            cuts.append((m, "k", k, first_seen(cut_tree(z, n_clusters=k)[:, 0])))
        h = float(np.median(z[:, 2]) * 3)
        cuts.append((m, "height", h, first_seen(fcluster(z, h, criterion="distance"))))
    with open(os.path.join(out, "hclust_5k_scipy_cuts.csv"), "w") as fh:
        fh.write("method,kind,value,labels\n")
        for m, kind, v, labels in cuts:
            fh.write(f"{m},{kind},{v:.17g},{' '.join(map(str, labels))}\n")


if __name__ == "__main__":
    main()
