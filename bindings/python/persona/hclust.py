"""Hierarchical clustering of points (hclust.h), in SciPy's conventions:

    Z = persona.linkage(X, "ward")          # as scipy.cluster.hierarchy.linkage(X, "ward")
    hc = persona.HClust("ward").fit(X)
    hc.linkage_, hc.cut(n_clusters=5), hc.cut(height=2.0), hc.predict(new_points, 5)

Ward, average, complete and single linkage of Euclidean distances; the matrix has SciPy's
rows (a, b, distance, size) and its tie rules. docs/hclust.md has the details.
"""
from ctypes import byref, c_double, c_uint32

from . import _optional
from ._capi import HClustHandle, lib, new_struct
from ._handle import Handle
from ._structs import persona_hclust_info, persona_hclust_options
from .kmeans import _points

METHODS = {"ward": 0, "average": 1, "complete": 2, "single": 3}


def _labels(buf, n):
    np = _optional.numpy()
    return np.ctypeslib.as_array(buf)[:n].astype(np.int32) if np is not None else list(buf[:n])


class HClust(Handle):
    """Agglomerative clustering (persona_hclust_fit).

    * ``method``: "ward" (default), "average", "complete" or "single".
    * ``threads``: 0 = every CPU (at most 8); the results do not depend on it.

    After fit(): ``linkage_`` (n-1 × 4, SciPy's linkage matrix: a numpy array when numpy is
    installed, else a list of rows), ``n_features_in_`` and, for a DataFrame,
    ``feature_names_in_``. InvalidArgumentError (a ValueError) names a NaN or infinite input
    by row and column.
    """

    _kind = "HClust model"

    def __init__(self, method="ward", *, threads=0):
        if method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}, not {method!r}")
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
            raise ValueError(f"threads must be an int >= 0, not {threads!r}")
        self.method = method
        self.threads = threads

    def fit(self, X, y=None):
        """Build the hierarchy of the points X (n × d): numpy array, DataFrame or rows.
        Returns self."""
        del y
        keep, ptr, n, d, columns = _points(X, "X")
        o = new_struct(persona_hclust_options)
        o.method = METHODS[self.method]
        o.threads = self.threads
        handle = HClustHandle()
        lib.persona_hclust_fit(byref(handle), ptr, n, d, byref(o))
        del keep
        self.close()
        self._adopt(handle, lib.persona_hclust_free)
        info = new_struct(persona_hclust_info)
        lib.persona_hclust_info_get(byref(info), handle)
        rows = max(0, info.n - 1)
        z = (c_double * max(1, 4 * rows))()
        lib.persona_hclust_linkage(z, 4 * rows, handle)
        np = _optional.numpy()
        if np is not None:
            self.linkage_ = np.ctypeslib.as_array(z)[:4 * rows].reshape(rows, 4).copy()
        else:
            self.linkage_ = [list(z[4 * r:4 * r + 4]) for r in range(rows)]
        self.n_ = n
        self.n_features_in_ = d
        if columns is not None:
            self.feature_names_in_ = columns
        return self

    def cut(self, n_clusters=None, height=None):
        """Flat clusters of the fitted points: ``n_clusters`` = the clusters left after the
        first n - k merges (SciPy's cut_tree), or ``height`` = every merge at distance <=
        height (SciPy's fcluster(Z, height, "distance")). Labels 0, 1, … in the order of
        each cluster's first point."""
        if (n_clusters is None) == (height is None):
            raise ValueError("give exactly one of n_clusters and height")
        handle = self._live()
        out = (c_uint32 * max(1, self.n_))()
        if n_clusters is not None:
            if not isinstance(n_clusters, int) or isinstance(n_clusters, bool) or n_clusters < 1:
                raise ValueError(f"n_clusters must be a positive int, not {n_clusters!r}")
            lib.persona_hclust_cut(out, self.n_, handle, n_clusters)
        else:
            k = c_uint32()
            lib.persona_hclust_cut_height(out, self.n_, byref(k), handle, float(height))
        return _labels(out, self.n_)

    def predict(self, X, n_clusters, return_distance=False):
        """The flat cluster of cut(n_clusters) that each new point would join first under
        the linkage (persona_hclust_predict); with ``return_distance`` also that height."""
        keep, ptr, n, d, _ = _points(X, "X")
        labels = (c_uint32 * max(1, n))()
        dist = (c_double * max(1, n))()
        lib.persona_hclust_predict(labels, dist, self._live(), n_clusters, ptr, n, d)
        del keep
        out = _labels(labels, n)
        if not return_distance:
            return out
        np = _optional.numpy()
        return out, (np.ctypeslib.as_array(dist)[:n].copy() if np is not None else list(dist[:n]))

    def _live(self):
        if self._handle is None:
            raise ValueError("this HClust is not fitted: call fit() first")
        return self._handle


def linkage(X, method="single", threads=0):
    """SciPy's linkage matrix of the points X, as scipy.cluster.hierarchy.linkage(X, method)
    with Euclidean distances (its default method is single, so is this one's)."""
    hc = HClust(method, threads=threads)
    try:
        return hc.fit(X).linkage_
    finally:
        hc.close()
