"""Item affinity (affinity.h): co-occurrence of items by basket, session or user, the pair
measures, similar items, recommendations, user × category affinity and items that
over-index in a segment.

    aff = store.affinity(by="basket", events=["purchase"])
    aff.similar("milk", measure="lift", top=10)     # DataFrame item, score, count
    aff.recommend("u1", top=5, exclude=["bread"])   # DataFrame item, score
    aff.overindex("vip", top=10)                    # DataFrame item, index, segment_share, ...
    aff.pair("milk", "bread")                       # dict of counts and every measure

Tables are pandas DataFrames when pandas is installed, else lists of dicts. An Affinity is
immutable: any number of threads may query it (the GIL is released during calls).
docs/affinity.md has the formulas and tie orders.
"""
from ctypes import byref, c_char, c_char_p, cast, c_double, c_size_t, c_uint32, c_uint64

from . import _optional
from ._callbacks import CallbackGuard, reraising
from ._capi import AffinityHandle, encode, lib, new_struct, read_string
from ._handle import Handle
from ._structs import (AFFINITY_MEMBER_FN, persona_affinity_info, persona_affinity_options,
                       persona_affinity_pair_info)

BY = {"basket": 0, "session": 1, "user": 2}
MEASURES = {"lift": 0, "jaccard": 1, "cosine": 2, "confidence": 3, "support": 4,
            "conviction": 5, "leverage": 6, "count": 7}
_PAIR_FIELDS = ("count_ab", "count_a", "count_b", "units", "support", "confidence", "lift",
                "jaccard", "cosine", "conviction", "leverage")


def _table(columns, rows):
    pd = _optional.pandas()
    if pd is not None:
        return pd.DataFrame(rows, columns=list(columns))
    return [dict(zip(columns, r)) for r in rows]


def _measure(measure):
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {sorted(MEASURES)}, not {measure!r}")
    return MEASURES[measure]


def _count(value, what):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{what} must be an int >= 0, not {value!r}")
    return value


def _duration_ms(value, what):
    if value is None:
        return 0
    if hasattr(value, "total_seconds"):
        return int(value.total_seconds() * 1000)
    return _count(value, what)


class Affinity(Handle):
    """An affinity matrix (persona_affinity_matrix). Made by Store.affinity(),
    Affinity.load() or merge(); does not depend on the store it was built from, but keeps a
    reference to it for recommend() and user_categories() (the user's history now)."""

    _kind = "affinity matrix"

    def __init__(self, handle, store=None):
        self._adopt(handle, lib.persona_affinity_free)
        self._store = store

    @classmethod
    def build(cls, store, by="basket", *, events=None, session_gap=None, consent=None,
              category="category", category_from_item=False):
        """persona_affinity_build: ``by`` "basket" (the basket / order id), "session" or
        "user"; ``events``: event types that count (default every event with an item);
        ``session_gap``: ms or a timedelta (default the store's); ``consent``: count only
        users who granted this purpose; ``category``: the category property of
        user_categories(), or ``category_from_item=True`` for the item itself."""
        if by not in BY:
            raise ValueError(f"by must be one of {sorted(BY)}, not {by!r}")
        o = new_struct(persona_affinity_options)
        o.by = BY[by]
        o.session_gap_ms = _duration_ms(session_gap, "session_gap")
        keep = []
        if events is not None:
            if isinstance(events, str):
                events = [events]
            arr = (c_char_p * max(1, len(events)))(*[encode(e, "event type") for e in events])
            keep.append(arr)
            o.event_types = arr
            o.n_event_types = len(events)
        if consent is not None:
            keep.append(encode(consent, "consent purpose"))
            o.consent_purpose = keep[-1]
        if category_from_item:
            o.category_source = 1
        else:
            keep.append(encode(category, "category property"))
            o.category_prop = keep[-1]
        handle = AffinityHandle()
        lib.persona_affinity_build(byref(handle), store._live(), byref(o))
        del keep
        return cls(handle, store)

    @classmethod
    def load(cls, path, store=None):
        """A matrix saved with save() (persona_affinity_load); ``store`` is used by
        recommend() and user_categories()."""
        handle = AffinityHandle()
        lib.persona_affinity_load(byref(handle), encode(str(path), "path"))
        return cls(handle, store)

    def save(self, path):
        """Save as a snapshot file (persona_affinity_save; replaced atomically)."""
        lib.persona_affinity_save(self._live(), encode(str(path), "path"))

    def merge(self, other):
        """A new matrix of both partitions (persona_affinity_merge): equal to one built on
        all their users."""
        handle = AffinityHandle()
        lib.persona_affinity_merge(byref(handle), self._live(), other._live())
        return Affinity(handle, self._store)

    @property
    def info(self):
        """dict: by, units, items, pairs, users, categories, entries."""
        i = new_struct(persona_affinity_info)
        lib.persona_affinity_info_get(byref(i), self._live())
        by = {v: k for k, v in BY.items()}[i.by]
        return {"by": by, "units": i.units, "items": i.items, "pairs": i.pairs,
                "users": i.users, "categories": i.categories, "entries": i.entries}

    def item(self, index):
        """Key of item `index` (items are numbered in bytewise key order)."""
        return read_string(lib.persona_affinity_item_key, self._live(), index)

    @property
    def items(self):
        """Every item key, in bytewise order."""
        return [self.item(i) for i in range(self.info["items"])]

    def baskets(self):
        """The units (baskets, sessions or users) as a :class:`persona.Baskets`, item names
        = the matrix's keys (persona_affinity_baskets)."""
        from ._capi import BasketsHandle
        from .itemsets import Baskets
        h = BasketsHandle()
        lib.persona_affinity_baskets(byref(h), self._live())
        return Baskets._adopted(h, self.items)

    def itemsets(self, min_support=None, *, min_count=None, max_size=None, target="all",
                 max_itemsets=None):
        """Frequent itemsets of the units, as :func:`persona.itemsets` returns them (a
        DataFrame shaped like mlxtend's: support, itemsets, count)."""
        return self.baskets().mine(min_support, min_count=min_count, max_size=max_size,
                                   target=target, max_itemsets=max_itemsets).to_frame()

    def _category(self, index):
        return read_string(lib.persona_affinity_category_key, self._live(), index)

    def pair(self, a, b):
        """Counts and measures of the pair (a, b): dict count_ab, count_a, count_b, units,
        support, confidence (a → b), lift, jaccard, cosine, conviction (a → b), leverage."""
        p = new_struct(persona_affinity_pair_info)
        lib.persona_affinity_pair(byref(p), self._live(), encode(a, "item"), encode(b, "item"))
        return {f: getattr(p, f) for f in _PAIR_FIELDS}

    def similar(self, item, measure="lift", top=10, *, min_count=0):
        """The ``top`` items most similar to ``item`` (persona_affinity_similar): item, score,
        count; by score, then count (descending), then item key bytewise."""
        top = _count(top, "top")
        it, sc, cn, n = (c_uint32 * max(1, top))(), (c_double * max(1, top))(), \
            (c_uint64 * max(1, top))(), c_size_t()
        lib.persona_affinity_similar(it, sc, cn, top, byref(n), self._live(),
                                     encode(item, "item"), _measure(measure),
                                     _count(min_count, "min_count"))
        return _table(("item", "score", "count"),
                      [(self.item(it[i]), sc[i], cn[i]) for i in range(n.value)])

    def recommend(self, user, top=10, exclude=(), *, measure="lift", min_count=0,
                  from_matrix=False):
        """Items for ``user`` from what they have (persona_affinity_recommend): item, score;
        never an item they have or one in ``exclude``. Their history is read from the store
        the matrix was built from, or (``from_matrix=True``, or no store) from the matrix's
        own units."""
        top = _count(top, "top")
        if isinstance(exclude, str):
            exclude = [exclude]
        ex = [encode(x, "excluded item") for x in exclude]
        arr = (c_char_p * max(1, len(ex)))(*ex)
        store = None if from_matrix or self._store is None else self._store._live()
        it, sc, n = (c_uint32 * max(1, top))(), (c_double * max(1, top))(), c_size_t()
        lib.persona_affinity_recommend(it, sc, top, byref(n), self._live(), store,
                                       encode(user, "user"), arr, len(ex), _measure(measure),
                                       _count(min_count, "min_count"))
        return _table(("item", "score"), [(self.item(it[i]), sc[i]) for i in range(n.value)])

    def user_categories(self, user, top=10, *, as_of=None, half_life=None):
        """A user's categories with exponential time decay
        (persona_affinity_user_categories): category, score; as of ``as_of`` (ms; default
        the store's clock) with ``half_life`` (ms or a timedelta; default the store's)."""
        if self._store is None:
            raise ValueError("user_categories needs the store (Affinity.load(path, store))")
        top = _count(top, "top")
        it, sc, n = (c_uint32 * max(1, top))(), (c_double * max(1, top))(), c_size_t()
        lib.persona_affinity_user_categories(it, sc, top, byref(n), self._live(),
                                             self._store._live(), encode(user, "user"),
                                             0 if as_of is None else int(as_of),
                                             _duration_ms(half_life, "half_life"))
        return _table(("category", "score"),
                      [(self._category(it[i]), sc[i]) for i in range(n.value)])

    def overindex(self, segment, top=10, *, min_count=0):
        """Items that over-index in a segment (persona_affinity_overindex): item, index,
        segment_share, population_share, z. ``segment``: the name of a live segment of the
        store, a collection of user keys, or a callable user -> bool."""
        top = _count(top, "top")
        guard = None
        fn = cast(None, AFFINITY_MEMBER_FN)  # NULL: the live segment `name`
        name = None
        store = None
        if isinstance(segment, str):
            if self._store is None:
                raise ValueError("a live segment needs the store (Affinity.load(path, store))")
            name = encode(segment, "segment")
            store = self._store._live()
        else:
            test = segment if callable(segment) else set(segment).__contains__
            guard = CallbackGuard()

            def member(ctx, user, length):
                return 1 if test(bytes((c_char * length).from_address(user)).decode()) else 0
            fn = AFFINITY_MEMBER_FN(guard.wrap(member))
        it = (c_uint32 * max(1, top))()
        v = [(c_double * max(1, top))() for _ in range(4)]
        n, units = c_size_t(), c_uint64()
        with reraising(guard):
            lib.persona_affinity_overindex(it, v[0], v[1], v[2], v[3], top, byref(n),
                                           byref(units), self._live(), store, name, fn, None,
                                           _count(min_count, "min_count"))
        return _table(("item", "index", "segment_share", "population_share", "z"),
                      [(self.item(it[i]), v[0][i], v[1][i], v[2][i], v[3][i])
                       for i in range(n.value)])

