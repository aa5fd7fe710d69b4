"""k-means clustering of points (kmeans.h), with scikit-learn's names:

    km = persona.KMeans(8, random_state=42).fit(X)       # X: numpy array, DataFrame or rows
    km.cluster_centers_, km.labels_, km.inertia_, km.n_iter_
    km.predict(new_points)

Given the same initial centres, the iterations, labels and centres are scikit-learn's
(``KMeans(init=centres, n_init=1, algorithm="lloyd")``) with "lloyd", "hamerly", "elkan" or
"auto"; "minibatch" is mini-batch k-means (approximate, like scikit-learn's
MiniBatchKMeans). k-means++ and the batches draw from this library's own seeded stream.
Results are the same for any ``threads``. docs/kmeans.md has the details.
"""
import ctypes
from ctypes import byref, c_double, c_uint32, c_uint64

from . import _optional
from ._capi import KMeansHandle, encode, lib, new_struct, read_string
from ._handle import Handle
from ._structs import persona_cluster_scores, persona_kmeans_info, persona_kmeans_options

ALGORITHMS = {"auto": 0, "lloyd": 1, "hamerly": 2, "elkan": 3, "minibatch": 4}
TINY_TOL = 5e-324  # tol=0 (stop only when the centres stop moving): 0 means "default" in C


def _points(x, what):
    """(ctypes double array or numpy array kept alive, pointer, n, d, column names) of a
    2-D input: a numpy array, a pandas DataFrame, or a sequence of equal-length rows."""
    columns = None
    np = _optional.numpy()
    pd = _optional.pandas()
    if pd is not None and isinstance(x, pd.DataFrame):
        columns = [str(c) for c in x.columns]
        x = x.to_numpy(dtype="float64")
    if np is not None and not isinstance(x, (list, tuple)):
        a = np.ascontiguousarray(x, dtype=np.float64)
        if a.ndim != 2:
            raise ValueError(f"{what} must be 2-D (n points × d dimensions), not {a.ndim}-D")
        n, d = a.shape
        return a, a.ctypes.data_as(ctypes.POINTER(c_double)), n, d, columns
    rows = [list(r) for r in x]
    n = len(rows)
    d = len(rows[0]) if rows else 0
    if any(len(r) != d for r in rows):
        raise ValueError(f"{what}: every row must have {d} values")
    buf = (c_double * max(1, n * d))(*[float(v) for r in rows for v in r])
    return buf, ctypes.cast(buf, ctypes.POINTER(c_double)), n, d, columns


class KMeans(Handle):
    """k-means (persona_kmeans_fit). Parameters as scikit-learn's KMeans:

    * ``n_clusters``: k (1 ... 65,536, at most the number of points).
    * ``init``: "k-means++" or an array of k initial centres (then ``n_init`` must be 1).
    * ``n_init``: k-means++ runs, the one of least inertia kept (default 1).
    * ``max_iter``, ``tol``: scikit-learn's stopping rule (the summed squared centre shift
      at most tol × the mean variance of the dimensions, or no label changed); ``tol=0``
      stops only when the centres no longer move.
    * ``random_state``: the seed of k-means++ (an int; None = 0, so fits repeat).
    * ``algorithm``: "auto" (Lloyd up to 16 clusters, Hamerly's bounds beyond), "lloyd",
      "hamerly" or "elkan" — the same
      results ("elkan" keeps n × k doubles of bounds); or "minibatch": steps over
      ``batch_size`` points drawn with ``random_state`` (``n_iter_`` counts the steps;
      ``max_iter`` passes over the data at most), then every point assigned to the final
      centres.
    * ``batch_size``: points per mini-batch step (default 1024, as scikit-learn's
      MiniBatchKMeans; ``batch_size`` >= the points: every point each step).
    * ``threads``: 0 = every CPU (at most 8); the results do not depend on it.

    After fit(): ``cluster_centers_`` (also ``centers_``), ``labels_``, ``inertia_``,
    ``n_iter_``, ``sizes_``, ``converged_``, ``n_features_in_`` and, for a DataFrame,
    ``feature_names_in_``. Arrays are numpy arrays when numpy is installed, else lists.
    InvalidArgumentError (a ValueError) names a NaN or infinite input by row and column.
    """

    _kind = "KMeans model"

    def __init__(self, n_clusters=8, *, init="k-means++", n_init=1, max_iter=300, tol=1e-4,
                 random_state=None, algorithm="auto", threads=0, batch_size=1024):
        if not isinstance(n_clusters, int) or isinstance(n_clusters, bool) or n_clusters < 1:
            raise ValueError(f"n_clusters must be a positive int, not {n_clusters!r}")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, not {algorithm!r}")
        if isinstance(init, str) and init != "k-means++":
            raise ValueError(f"init must be 'k-means++' or an array of centres, not {init!r}")
        for name, value, least in (("n_init", n_init, 1), ("max_iter", max_iter, 1),
                                   ("threads", threads, 0), ("batch_size", batch_size, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an int >= {least}, not {value!r}")
        if not isinstance(tol, (int, float)) or tol < 0 or tol != tol or tol == float("inf"):
            raise ValueError("tol must be a finite number >= 0")
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.algorithm = algorithm
        self.threads = threads
        self.batch_size = batch_size

    def _options(self, d):
        o = new_struct(persona_kmeans_options)
        o.k = self.n_clusters
        o.max_iter = self.max_iter
        o.n_init = self.n_init
        o.tol = float(self.tol) if self.tol > 0 else TINY_TOL
        seed = 0 if self.random_state is None else int(self.random_state)
        o.seed = seed & 0xFFFFFFFFFFFFFFFF
        o.algorithm = ALGORITHMS[self.algorithm]
        o.threads = self.threads
        o.batch_size = min(self.batch_size, 0xFFFFFFFF)  # more than the points: all of them
        keep = None
        if not isinstance(self.init, str):
            keep, ptr, k, cd, _ = _points(self.init, "init")
            if k != self.n_clusters or cd != d:
                raise ValueError(f"init must be {self.n_clusters} × {d}, not {k} × {cd}")
            o.init_centers = ptr
        return o, keep

    def fit(self, X, y=None):
        """Cluster the points X (n × d): numpy array, DataFrame or rows. Returns self."""
        del y
        keep, ptr, n, d, columns = _points(X, "X")
        o, keep_init = self._options(d)
        labels = (c_uint32 * max(1, n))()
        handle = KMeansHandle()
        self._call_fit(handle, ptr, n, d, o, labels, columns)
        del keep, keep_init
        self.close()
        self._adopt(handle, lib.persona_kmeans_free)
        self._read_model()
        np = _optional.numpy()
        self.labels_ = (np.ctypeslib.as_array(labels)[:n].astype(np.int32) if np is not None
                        else list(labels[:n]))
        if columns is not None:
            self.feature_names_in_ = columns
        return self

    def _read_model(self):
        """The fitted attributes from the C model."""
        handle = self._handle
        info = new_struct(persona_kmeans_info)
        lib.persona_kmeans_info_get(byref(info), handle)
        d = info.d
        centers = (c_double * (info.k * d))()
        lib.persona_kmeans_centers(centers, len(centers), handle)
        sizes = (c_uint64 * info.k)()
        lib.persona_kmeans_sizes(sizes, info.k, handle)
        np = _optional.numpy()
        if np is not None:
            self.cluster_centers_ = np.ctypeslib.as_array(centers).reshape(info.k, d).copy()
            self.sizes_ = np.ctypeslib.as_array(sizes).astype(np.int64)
        else:
            self.cluster_centers_ = [list(centers[c * d:(c + 1) * d]) for c in range(info.k)]
            self.sizes_ = list(sizes)
        self.centers_ = self.cluster_centers_
        self.inertia_ = info.inertia
        self.n_iter_ = info.iterations
        self.converged_ = bool(info.converged)
        self.n_features_in_ = d
        return info

    def save(self, path):
        """Save the fitted model (persona_kmeans_save; docs/file-format.md, kind 6): centres,
        sizes, the fit's numbers and, for a multi-view model, its weights. Labels are not
        saved."""
        lib.persona_kmeans_save(self._live(), encode(str(path), "path"))

    @classmethod
    def load(cls, path):
        """A model saved with save(): predict, describe and the fitted attributes (not
        labels_) answer as the saved one's."""
        handle = KMeansHandle()
        lib.persona_kmeans_load(byref(handle), encode(str(path), "path"))
        self = cls.__new__(cls)
        self._adopt(handle, lib.persona_kmeans_free)
        info = self._read_model()
        self.n_clusters = info.k
        self.labels_ = None
        return self

    def _call_fit(self, handle, ptr, n, d, o, labels, columns):
        del columns
        lib.persona_kmeans_fit(byref(handle), ptr, n, d, byref(o), labels)

    def predict(self, X):
        """The nearest centre of each point (persona_kmeans_predict): labels as fit gives."""
        keep, ptr, n, d, _ = _points(X, "X")
        labels = (c_uint32 * max(1, n))()
        lib.persona_kmeans_predict(labels, None, self._live(), ptr, n, d)
        del keep
        np = _optional.numpy()
        return np.ctypeslib.as_array(labels)[:n].astype(np.int32) if np is not None else list(labels[:n])

    def fit_predict(self, X, y=None):
        """fit(X) and its labels."""
        return self.fit(X, y).labels_

    def zscores(self, cluster):
        """The cluster's centre as z-scores of the fitted points' dimensions
        (persona_kmeans_zscores): a list of d floats."""
        d = self.n_features_in_
        out = (c_double * d)()
        lib.persona_kmeans_zscores(out, d, self._live(), cluster)
        return list(out)

    def describe(self, cluster, names=None):
        """The cluster's persona in plain words (persona_kmeans_describe), e.g. "very high
        monetary (8.21), low recency (1.3): 12.3 % of points (523)". ``names`` defaults to
        the DataFrame's columns, else x0, x1, …"""
        names = names if names is not None else getattr(self, "feature_names_in_", None)
        handle = self._live()
        arr, n = None, 0
        if names is not None:
            names = [str(v) for v in names]
            arr = (ctypes.c_char_p * len(names))(*[encode(v, "name") for v in names])
            n = len(names)
        return read_string(lib.persona_kmeans_describe, handle, cluster, arr, n)

    @property
    def personas_(self):
        """describe() of every cluster, in cluster order."""
        return [self.describe(c) for c in range(len(self.sizes_))]

    def score(self, X):
        """Minus the sum of squared distances of the points to their nearest centres (as
        scikit-learn's score: higher is better)."""
        keep, ptr, n, d, _ = _points(X, "X")
        labels = (c_uint32 * max(1, n))()
        dist = (c_double * max(1, n))()
        lib.persona_kmeans_predict(labels, dist, self._live(), ptr, n, d)
        del keep
        return -sum(dist[:n])

    def _live(self):
        if self._handle is None:
            raise ValueError("this KMeans is not fitted: call fit() first")
        return self._handle


SCORE_FIELDS = ("k", "inertia", "silhouette", "davies_bouldin", "calinski_harabasz",
                "silhouette_points")


def _scores_dict(sc):
    return {f: getattr(sc, f) for f in SCORE_FIELDS}


def cluster_scores(X, labels, k=None, sample=0, seed=0):
    """Silhouette, Davies–Bouldin and Calinski–Harabasz of a labeling, as scikit-learn's
    silhouette_score, davies_bouldin_score and calinski_harabasz_score
    (persona_cluster_scores_get), and the summed squared distance to the cluster means.
    ``k``: the number of clusters (default max(labels) + 1); ``sample``: 0 = the exact
    silhouette, else over that many points drawn with ``seed``. A dict; NaN where a score
    needs at least two clusters."""
    keep, ptr, n, d, _ = _points(X, "X")
    labs = [int(v) for v in labels]
    if len(labs) != n:
        raise ValueError(f"{len(labs)} labels for {n} points")
    if any(v < 0 for v in labs):
        raise ValueError("labels must be >= 0")
    k = max(labs) + 1 if k is None else k
    lab = (c_uint32 * max(1, n))(*labs)
    sc = new_struct(persona_cluster_scores)
    lib.persona_cluster_scores_get(byref(sc), ptr, n, d, lab, k, sample, seed)
    del keep
    return _scores_dict(sc)


def choose_k(X, k_range=range(2, 11), sample=0, **kmeans_options):
    """Choosing k (persona_kmeans_choose_k): a KMeans fit for every k of ``k_range`` (a
    range of consecutive k; other keywords as KMeans: n_init, random_state, max_iter, tol,
    algorithm, threads) and its scores — the elbow in inertia, silhouette (higher is better),
    Davies–Bouldin (lower), Calinski–Harabasz (higher). A pandas DataFrame indexed by k
    when pandas is installed, else a list of dicts."""
    ks = list(k_range)
    if not ks or ks != list(range(ks[0], ks[-1] + 1)) or ks[0] < 1:
        raise ValueError("k_range must be consecutive k >= 1, e.g. range(2, 11)")
    keep, ptr, n, d, _ = _points(X, "X")
    model = KMeans(ks[0], **kmeans_options)
    o, keep_init = model._options(d)
    rows = (persona_cluster_scores * len(ks))()
    for r in rows:
        lib.persona_cluster_scores_init(byref(r), ctypes.sizeof(r))
    lib.persona_kmeans_choose_k(rows, len(ks), ptr, n, d, ks[0], ks[-1], byref(o), sample)
    del keep, keep_init
    table = [_scores_dict(r) for r in rows]
    pd = _optional.pandas()
    if pd is None:
        return table
    return pd.DataFrame(table).set_index("k")
