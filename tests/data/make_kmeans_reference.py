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
kmeans_small_sklearn_scores.csv
                            sklearn.metrics silhouette_score (exact), davies_bouldin_score
                            and calinski_harabasz_score of labelings of the points: "fit"
                            the labels above; "mod7" label = point index mod 7 (heavily
                            mixed clusters); "gap" the fit's labels with cluster 2 renamed
                            5 and 5 renamed 7, k = 8 (labels 2 and 6 empty)
"""
import os
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score


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
    gap = km.labels_.copy()
    gap[km.labels_ == 5] = 7
    gap[km.labels_ == 2] = 5
    labelings = [("fit", km.labels_, 6), ("mod7", np.arange(1500) % 7, 7), ("gap", gap, 8)]
    write(os.path.join(out, "kmeans_small_sklearn_scores.csv"),
          "labeling,k,silhouette,davies_bouldin,calinski_harabasz",
          [[name, k, float(silhouette_score(x, lab)), float(davies_bouldin_score(x, lab)),
            float(calinski_harabasz_score(x, lab))] for name, lab, k in labelings])


if __name__ == "__main__":
    main()
