"""Feature matrices from a store (features.h, docs/features.md) and k-means of its users.

    f = store.features("behaviour: log1p(events), sessions; money: log1p(value(purchase))")
    f.columns, f.views, f.users         # names, {view: [columns]}, row keys
    f.matrix                            # n × d (numpy array, or a list of rows)
    f.to_pandas()                       # DataFrame indexed by user
    f.transform("u1")                   # one user's row now, with the kept transforms

    seg = store.segment_kmeans(k=4, random_state=1)
    seg.labels["u1"], seg.summary(), seg.predict("u1"), seg.kmeans.inertia_

A Features object does not depend on the store afterwards (transform() reads the store it
is given).
"""
import ctypes
from ctypes import byref, c_double, c_size_t

from . import _optional
from ._capi import FeaturesHandle, encode, lib, new_struct, read_string
from ._handle import Handle
from ._structs import persona_features_column, persona_features_info, persona_features_options
from .cohort import _integer, time_ms

#: PERSONA_FEATURES_RAW
RAW = 1
#: Transforms of a column (persona_features_column.transform), by id.
TRANSFORMS = ("identity", "log1p", "slog1p")
MAX_LEVELS = 1000

#: The spec segment_kmeans() uses when none is given (as the CLI's default).
DEFAULT_SPEC = ('recency: recency_days; frequency: log1p(orders); '
                'monetary: slog1p(value("purchase")) as monetary')


def build(store, spec, as_of=None, standardize=True, max_levels=None):
    """persona_features_build() on a Store."""
    opts = new_struct(persona_features_options)
    if not isinstance(standardize, bool):
        raise ValueError(f"standardize must be True or False, not {standardize!r}")
    opts.flags = 0 if standardize else RAW
    if as_of is not None:
        opts.as_of_ms = time_ms(as_of, "as_of")
        if opts.as_of_ms == 0:
            raise ValueError("as_of cannot be 1970-01-01T00:00:00.000Z itself (0 means the "
                             "default); give a time 1 ms later")
    if max_levels is not None:
        opts.max_levels = _integer(max_levels, "max_levels", 1, MAX_LEVELS)
    text = encode(spec, "spec")
    handle = FeaturesHandle()
    lib.persona_features_build(byref(handle), store._live(), text, byref(opts))
    return Features._wrap(handle)


class Features(Handle):
    """A feature matrix of the users of a store (persona_features): rows in the store's
    user order, columns in spec order, grouped in views.

    Attributes (read once, at build): ``columns`` (names), ``views`` ({view: [column
    names]}, in order), ``users`` (row keys), ``as_of`` (ms), ``standardized``,
    ``column_info`` (per column: view, transform, standardized, fill, mean, sd, present)
    and ``matrix`` (a numpy array n × d when numpy is installed, else a list of rows).

    Thread-safety (features.h): immutable; any number of threads may read one at once.
    """

    _kind = "Features"

    def __init__(self):
        raise TypeError("Features objects come from Store.features()")

    @classmethod
    def _wrap(cls, handle):
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_features_free)
        info = new_struct(persona_features_info)
        lib.persona_features_info_get(byref(info), handle)
        n, d = info.n, info.d
        self.as_of = info.as_of_ms
        self.standardized = not (info.flags & RAW)
        self.columns = [read_string(lib.persona_features_column_name, handle, j)
                        for j in range(d)]
        self.column_info = []
        for j in range(d):
            c = new_struct(persona_features_column)
            lib.persona_features_column_get(byref(c), handle, j)
            self.column_info.append({"view": c.view, "transform": TRANSFORMS[c.transform],
                                     "standardized": bool(c.standardized), "fill": c.fill,
                                     "mean": c.mean, "sd": c.sd, "present": c.present})
        self.views = {}
        for v in range(info.views):
            first, count = c_size_t(), c_size_t()
            lib.persona_features_view_columns(byref(first), byref(count), handle, v)
            name = read_string(lib.persona_features_view_name, handle, v)
            self.views[name] = self.columns[first.value:first.value + count.value]
        self.users = [read_string(lib.persona_features_user_at, handle, i) for i in range(n)]
        flat = (c_double * max(1, n * d))()
        lib.persona_features_matrix(flat, n * d, handle)
        np = _optional.numpy()
        if np is not None:
            self.matrix = np.ctypeslib.as_array(flat)[:n * d].reshape(n, d).copy()
        else:
            self.matrix = [list(flat[i * d:(i + 1) * d]) for i in range(n)]
        self._n, self._d = n, d
        return self

    def __len__(self):
        return self._n

    @property
    def shape(self):
        return (self._n, self._d)

    def to_pandas(self):
        """A DataFrame indexed by user (index name "user") with the column names."""
        pd = _optional.require_pandas("Features.to_pandas()")
        return pd.DataFrame([list(r) for r in self.matrix], index=pd.Index(self.users, name="user"),
                            columns=self.columns)

    def transform(self, user, store):
        """One user's row computed now from ``store`` with this result's spec, as_of,
        levels, fills, means and sds (persona_features_transform): for a user of the build
        and an unchanged store, exactly its row. A list of d floats."""
        out = (c_double * max(1, self._d))()
        lib.persona_features_transform(out, self._d, self._live(), store._live(),
                                       encode(user, "user"))
        return list(out[:self._d])


class KMeansSegments:
    """k-means clusters of the users of a store (Store.segment_kmeans()).

    ``features`` (the Features), ``kmeans`` (the fitted persona.KMeans), ``labels`` (a
    pandas Series indexed by user when pandas is installed, else a dict user → cluster),
    ``summary()`` and ``predict(user)``.
    """

    def __init__(self, features, kmeans, store):
        self.features = features
        self.kmeans = kmeans
        self._store = store
        labels = [int(c) for c in kmeans.labels_]
        pd = _optional.pandas()
        if pd is not None:
            self.labels = pd.Series(labels, index=pd.Index(features.users, name="user"),
                                    name="cluster")
        else:
            self.labels = dict(zip(features.users, labels))

    def summary(self):
        """One row per cluster: cluster, users, share, description (persona_kmeans_describe
        with the feature column names); a DataFrame when pandas is installed, else a list
        of dicts."""
        n = len(self.features)
        rows = [{"cluster": c, "users": int(size), "share": int(size) / n,
                 "description": self.kmeans.describe(c, self.features.columns)}
                for c, size in enumerate(self.kmeans.sizes_)]
        pd = _optional.pandas()
        return pd.DataFrame(rows, columns=["cluster", "users", "share", "description"]) \
            if pd is not None else rows

    def predict(self, user, store=None):
        """The cluster of a user now (new or changed): its row through
        Features.transform() on ``store`` (default: the store it was built from), then the
        nearest centre."""
        row = self.features.transform(user, store if store is not None else self._store)
        return int(self.kmeans.predict([row])[0])


def segment_kmeans(store, k=8, features=None, random_state=None, n_init=1, as_of=None,
                   max_levels=None, **kmeans_options):
    """Store.segment_kmeans()."""
    from .kmeans import KMeans
    f = build(store, DEFAULT_SPEC if features is None else features, as_of=as_of,
              max_levels=max_levels)
    km = KMeans(k, random_state=random_state, n_init=n_init, **kmeans_options)
    km.fit(f.matrix)
    return KMeansSegments(f, km, store)
