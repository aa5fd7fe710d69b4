#!/usr/bin/env python3
"""scikit-learn's k-means on a small fixed input, the reference of tests/unit/cluster.

usage: make_kmeans_reference.py OUT_DIR   (tests/data)

Writes into OUT_DIR (CSV, one header row, numbers as %.17g):

kmeans_small_points.csv     1,500 points of 4 dimensions: 6 Gaussian blobs (numpy's
                            default_rng(2026), centres uniform in [-8, 8]^4, standard
                            deviation 1.5, so the blobs overlap a little)
kmeans_small_init.csv       6 initial centres: points 0, 250, 500, 750, 1000, 1250
kmeans_small_sklearn_centers.csv, _labels.csv, _summary.csv (inertia, iterations)
                            sklearn.cluster.KMeans(n_clusters=6, init=those centres,
                            n_init=1, algorithm="lloyd", tol=1e-4, max_iter=300)
"""
import os
import sys

import numpy as np
from sklearn.cluster import KMeans


def write(path, header, rows):
    with open(path, "w") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(",".join(f"{v:.17g}" if isinstance(v, float) else str(v) for v in r) + "\n")


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(2026)
    centres = rng.uniform(-8, 8, size=(6, 4))
    which = rng.integers(0, 6, size=1500)
    x = centres[which] + rng.normal(0, 1.5, size=(1500, 4))
    init = x[[0, 250, 500, 750, 1000, 1250]]
    km = KMeans(n_clusters=6, init=init, n_init=1, algorithm="lloyd", tol=1e-4,
                max_iter=300).fit(x)
    cols = "x0,x1,x2,x3"
    write(os.path.join(out, "kmeans_small_points.csv"), cols, [list(map(float, r)) for r in x])
    write(os.path.join(out, "kmeans_small_init.csv"), cols, [list(map(float, r)) for r in init])
    write(os.path.join(out, "kmeans_small_sklearn_centers.csv"), cols,
          [list(map(float, r)) for r in km.cluster_centers_])
    write(os.path.join(out, "kmeans_small_sklearn_labels.csv"), "label",
          [[int(v)] for v in km.labels_])
    write(os.path.join(out, "kmeans_small_sklearn_summary.csv"), "inertia,iterations",
          [[float(km.inertia_), int(km.n_iter_)]])


if __name__ == "__main__":
    main()
