"""Multi-view k-means (persona_kmeans_fit_views): the columns fall into views (feature
groups such as behaviour, transactions, demographics), each with a weight in the distance,
given or learned:

    mv = persona.MultiViewKMeans(4, views={"behaviour": ["visits", "pages"],
                                           "money": ["orders", "revenue"]}).fit(df)
    mv.view_weights_            # {"behaviour": 0.31, "money": 0.69}
    mv.labels_, mv.predict(new_rows), mv.personas_

docs/kmeans.md "Multi-view k-means" gives the algorithm and its sources.
"""
from ctypes import byref, c_double, c_uint32

from ._capi import lib, new_struct
from ._structs import persona_kmeans_views
from .kmeans import KMeans


class MultiViewKMeans(KMeans):
    """k-means whose distance weighs views of the columns (persona_kmeans_fit_views).

    * ``views``: a dict view name → its columns (DataFrame column names or column indexes),
      every column in exactly one view; or a sequence of d view names, one per column.
    * ``weights``: a dict (or sequence in view order) of fixed weights, or None to learn
      them (w_v proportional to D_v^(1/(1-gamma)), D_v the view's within-cluster sum of
      squares, alternating with k-means until the labels stay).
    * ``gamma``: the exponent of the weights in the distance, > 1 (default 2).
    * ``max_rounds``: most rounds of weights (default 30).
    * The other parameters are KMeans's.

    After fit(): KMeans's attributes (``inertia_`` is the weighted objective), and
    ``view_names_``, ``view_weights_`` and ``view_within_`` (dicts by view name),
    ``n_rounds_``. ``save``/``load`` keep the weights (a loaded model names its views
    view0, view1, …).
    """

    _kind = "MultiViewKMeans model"

    def __init__(self, n_clusters=8, *, views, weights=None, gamma=2.0, max_rounds=30, **kw):
        super().__init__(n_clusters, **kw)
        if not views:
            raise ValueError("views must name the columns of each view")
        if not isinstance(gamma, (int, float)) or not gamma > 1 or gamma == float("inf"):
            raise ValueError(f"gamma must be a finite number above 1, not {gamma!r}")
        if not isinstance(max_rounds, int) or isinstance(max_rounds, bool) or max_rounds < 1:
            raise ValueError(f"max_rounds must be an int >= 1, not {max_rounds!r}")
        self.views = views
        self.weights = weights
        self.gamma = gamma
        self.max_rounds = max_rounds

    def _view_of(self, d, columns):
        """(view names, the view index of each of the d columns)."""
        if isinstance(self.views, dict):
            names = [str(v) for v in self.views]
            view_of = [None] * d
            for q, (name, cols) in enumerate(self.views.items()):
                for c in cols:
                    if isinstance(c, int) and not isinstance(c, bool):
                        j = c
                    elif columns is not None and str(c) in columns:
                        j = columns.index(str(c))
                    else:
                        raise ValueError(f"view {name!r}: no column {c!r}")
                    if not 0 <= j < d:
                        raise ValueError(f"view {name!r}: column {j} of {d}")
                    if view_of[j] is not None:
                        raise ValueError(f"column {c!r} is in two views")
                    view_of[j] = q
            missing = [j for j in range(d) if view_of[j] is None]
            if missing:
                label = columns[missing[0]] if columns is not None else missing[0]
                raise ValueError(f"column {label!r} is in no view")
            return names, view_of
        labels = [str(v) for v in self.views]
        if len(labels) != d:
            raise ValueError(f"views: {len(labels)} view names for {d} columns")
        names = list(dict.fromkeys(labels))
        return names, [names.index(v) for v in labels]

    def _call_fit(self, handle, ptr, n, d, o, labels, columns):
        names, view_of = self._view_of(d, columns)
        v = new_struct(persona_kmeans_views)
        v.n_views = len(names)
        of = (c_uint32 * d)(*view_of)
        v.view_of = of
        w = None
        if self.weights is not None:
            given = ([self.weights[name] for name in names] if isinstance(self.weights, dict)
                     else list(self.weights))
            if len(given) != len(names):
                raise ValueError(f"{len(given)} weights for {len(names)} views")
            w = (c_double * len(names))(*[float(x) for x in given])
            v.weights = w
        v.gamma = float(self.gamma)
        v.max_rounds = self.max_rounds
        lib.persona_kmeans_fit_views(byref(handle), ptr, n, d, byref(v), byref(o), labels)
        del of, w
        self.view_names_ = names

    def _read_model(self):
        info = super()._read_model()
        views = info.n_views
        weights = (c_double * views)()
        within = (c_double * views)()
        lib.persona_kmeans_views_get(weights, within, views, self._handle)
        names = getattr(self, "view_names_", None)
        if names is None or len(names) != views:  # a loaded model: views by number
            names = [f"view{q}" for q in range(views)]
            self.view_names_ = names
        self.view_weights_ = dict(zip(names, weights))
        self.view_within_ = dict(zip(names, within))
        self.n_rounds_ = info.rounds
        return info
