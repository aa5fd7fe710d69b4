#!/usr/bin/env python3
"""scikit-learn's k-means on the retail RFM features of shared/bench (the anchor of issue 7's
"retail RFM features k=4 and k=8 equal the anchor").

usage: make_retail_kmeans_reference.py PREFIX OUT_DIR
  PREFIX: the output prefix of shared/bench/gen/retail.py ONLINE_RETAIL.csv.gz PREFIX, whose
  PREFIX.rfm.csv (log1p of recency days, frequency, monetary per customer) and
  PREFIX.rfm.init_k4.csv / _k8.csv (initial centres) are the inputs.

Writes OUT_DIR/retail_rfm_kmeans_sklearn.json: for k = 4 and 8, KMeans(n_clusters=k,
init=PREFIX.rfm.init_k{k}.csv, n_init=1, algorithm="lloyd", tol=1e-4, max_iter=300) on
PREFIX.rfm.csv: centers, inertia, iterations, sizes and the labels in row order.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.cluster import KMeans


def main():
    prefix, out = sys.argv[1], sys.argv[2]
    x = np.loadtxt(prefix + ".rfm.csv", delimiter=",", skiprows=1)
    result = {"sklearn": sklearn.__version__}
    for k in (4, 8):
        init = np.loadtxt(f"{prefix}.rfm.init_k{k}.csv", delimiter=",", skiprows=1, ndmin=2)
        km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", tol=1e-4,
                    max_iter=300).fit(x)
        result[f"k{k}"] = {"centers": km.cluster_centers_.tolist(), "inertia": float(km.inertia_),
                           "iterations": int(km.n_iter_),
                           "sizes": np.bincount(km.labels_, minlength=k).tolist(),
                           "labels": km.labels_.tolist()}
    with open(os.path.join(out, "retail_rfm_kmeans_sklearn.json"), "w") as f:
        json.dump(result, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
