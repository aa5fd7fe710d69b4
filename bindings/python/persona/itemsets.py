"""Frequent itemsets and association rules (itemsets.h), shaped like mlxtend's so that
switching is a changed import:

    fi = persona.itemsets(baskets, min_support=0.01)          # DataFrame: support, itemsets, count
    rules = persona.association_rules(fi, metric="lift", min_threshold=1.2)

``baskets`` is a list of baskets (each an iterable of hashable items; repeats count once),
a long DataFrame with ``basket=`` and ``item=`` column names, or mlxtend's one-hot
DataFrame (a column per item, True/1 where the basket has it). Items come back as the
original Python objects in frozensets. Without pandas, lists of dicts are returned.
An itemset is frequent when its basket count >= ceil(min_support × baskets − 1e-9).
docs/itemsets.md has the algorithm, the orders and the limits.
"""
import ctypes
from ctypes import byref, c_size_t, c_uint32, c_uint64

from . import _optional
from ._capi import AssocRulesHandle, BasketsHandle, ItemsetsHandle, lib, new_struct
from ._handle import Handle
from ._structs import persona_assoc_rule, persona_assoc_rules_options, persona_itemsets_options

TARGETS = {"all": 0, "closed": 1, "maximal": 2}
MEASURES = {"confidence": 0, "lift": 1, "support": 2, "conviction": 3, "leverage": 4}


def _csr_from_lists(baskets):
    """(offsets, ids, items) of a list of baskets; items in first-appearance order."""
    index, items, offsets, ids = {}, [], [0], []
    for basket in baskets:
        if isinstance(basket, (str, bytes)):
            raise TypeError("each basket must be an iterable of items, not a string")
        for it in basket:
            i = index.get(it)
            if i is None:
                i = index[it] = len(items)
                items.append(it)
            ids.append(i)
        offsets.append(len(ids))
    return offsets, ids, items


def _csr_from_frame(df, basket, item):
    """The same from a DataFrame: long (basket, item columns) or one-hot."""
    np = _optional.numpy()
    pd = _optional.pandas()
    if basket is not None or item is not None:
        if basket is None or item is None:
            raise ValueError("give both basket= and item= for a long DataFrame")
        bcodes, _ = pd.factorize(df[basket], sort=False)
        icodes, items = pd.factorize(df[item], sort=False)
        keep = (bcodes >= 0) & (icodes >= 0)  # rows with a missing basket or item are skipped
        bcodes, icodes = bcodes[keep], icodes[keep]
        order = np.argsort(bcodes, kind="stable")
        n = int(bcodes.max()) + 1 if len(bcodes) else 0
        offsets = np.zeros(n + 1, dtype=np.uint64)
        offsets[1:] = np.cumsum(np.bincount(bcodes, minlength=n))
        return offsets, icodes[order].astype(np.uint32), list(items)
    values = df.to_numpy()
    if values.dtype != bool and not np.isin(values, (0, 1)).all():
        raise ValueError("a DataFrame without basket=/item= must be one-hot (bool or 0/1 "
                         "columns, one per item, as mlxtend's TransactionEncoder makes)")
    rows, cols = np.nonzero(values.astype(bool))
    offsets = np.zeros(values.shape[0] + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(np.bincount(rows, minlength=values.shape[0]))
    return offsets, cols.astype(np.uint32), list(df.columns)


class Baskets(Handle):
    """A basket set (persona_baskets) built from Python data; see the module docstring.
    Single-thread while built, then read-only; the GIL is released during mining."""

    _kind = "Baskets"

    def __init__(self, baskets, basket=None, item=None):
        pd = _optional.pandas()
        if pd is not None and isinstance(baskets, pd.DataFrame):
            offsets, ids, self.items = _csr_from_frame(baskets, basket, item)
            n = len(offsets) - 1
            off_p = offsets.ctypes.data_as(ctypes.POINTER(c_uint64))
            ids_p = ids.ctypes.data_as(ctypes.POINTER(c_uint32)) if len(ids) else None
            keep = (offsets, ids)
        else:
            offsets, ids, self.items = _csr_from_lists(baskets)
            n = len(offsets) - 1
            off_a = (c_uint64 * len(offsets))(*offsets)
            ids_a = (c_uint32 * max(1, len(ids)))(*ids)
            off_p, ids_p, keep = off_a, ids_a, (off_a, ids_a)
        h = BasketsHandle()
        lib.persona_baskets_from_csr(byref(h), off_p, n, ids_p, None, len(self.items))
        del keep
        self._adopt(h, lib.persona_baskets_free)
        self.n_baskets = n

    @classmethod
    def _adopted(cls, handle, items):
        """A basket set made by the library (e.g. an affinity matrix's units)."""
        self = cls.__new__(cls)
        self._adopt(handle, lib.persona_baskets_free)
        self.items = items
        self.n_baskets = 0
        n = c_uint64()
        lib.persona_baskets_counts(byref(n), None, self._live())
        self.n_baskets = n.value
        return self

    def mine(self, min_support=None, *, min_count=None, max_size=None, target="all",
             max_itemsets=None, threads=0):
        """The frequent itemsets as an :class:`Itemsets` (persona_itemsets_mine).
        ``threads``: 0 = every CPU (at most 8); the result does not depend on it."""
        if target not in TARGETS:
            raise ValueError(f"target must be one of {sorted(TARGETS)}, not {target!r}")
        o = new_struct(persona_itemsets_options)
        if min_count is not None:
            o.min_count = int(min_count)
        if min_support is not None:
            o.min_support = float(min_support)
            if o.min_support == 0:  # 0 means "unset" in C; say what is wrong here
                raise ValueError("min_support must be in (0, 1], not 0")
        o.target = TARGETS[target]
        o.max_size = int(max_size or 0)
        o.max_itemsets = int(max_itemsets or 0)
        if int(threads) < 0:
            raise ValueError(f"threads must be >= 0, not {threads!r}")
        o.threads = int(threads)
        h = ItemsetsHandle()
        lib.persona_itemsets_mine(byref(h), self._live(), byref(o))
        return Itemsets(h, self.items, self.n_baskets, target)


class Itemsets(Handle):
    """Mined itemsets (persona_itemsets): immutable, safe to read from any thread."""

    _kind = "Itemsets"

    def __init__(self, handle, items, n_baskets, target):
        self._adopt(handle, lib.persona_itemsets_free)
        self.items = items
        self.n_baskets = n_baskets
        self.target = target

    def __len__(self):
        n = c_uint64()
        lib.persona_itemsets_count(byref(n), None, self._live())
        return n.value

    def rows(self):
        """(frozenset of items, count) per itemset, in mining order."""
        h = self._live()
        buf = (c_uint32 * 64)()
        length, count = c_size_t(), c_uint64()
        items = self.items
        for i in range(len(self)):
            lib.persona_itemsets_get(buf, 64, byref(length), byref(count), h, i)
            yield frozenset(items[buf[j]] for j in range(length.value)), count.value

    def to_frame(self):
        """mlxtend's shape: columns support, itemsets (frozensets), plus count."""
        rows = list(self.rows())
        n = self.n_baskets or 1
        data = {"support": [c / n for _, c in rows], "itemsets": [s for s, _ in rows],
                "count": [c for _, c in rows]}
        pd = _optional.pandas()
        if pd is None:
            return [dict(zip(data, v)) for v in zip(*data.values())]
        df = pd.DataFrame(data, columns=["support", "itemsets", "count"])
        df.attrs["persona_itemsets"] = self
        return df

    def rules(self, metric="confidence", min_threshold=0.8, *, top=None, antecedents=None,
              consequents=None):
        """Association rules (persona_assoc_rules_build) as a DataFrame shaped like
        mlxtend's association_rules(), best first by ``metric``."""
        if metric not in MEASURES:
            raise ValueError(f"metric must be one of {sorted(MEASURES)}, not {metric!r}")
        o = new_struct(persona_assoc_rules_options)
        o.sort_by = MEASURES[metric]
        if metric == "confidence":
            o.min_confidence = float(min_threshold)
        elif metric == "lift":
            o.min_lift = float(min_threshold)
        o.top = int(top or 0)
        index = {it: i for i, it in enumerate(self.items)}
        keep = []
        for name, allowed in (("antecedent", antecedents), ("consequent", consequents)):
            if allowed is None:
                continue
            try:
                ids = [index[a] for a in allowed]
            except KeyError as e:
                raise ValueError(f"{name} item {e.args[0]!r} is not in the baskets") from None
            arr = (c_uint32 * max(1, len(ids)))(*ids)
            keep.append(arr)
            setattr(o, f"{name}_items", arr)
            setattr(o, f"n_{name}_items", len(ids))
        h = AssocRulesHandle()
        lib.persona_assoc_rules_build(byref(h), self._live(), byref(o))
        del keep
        try:
            n = c_uint64()
            lib.persona_assoc_rules_count(byref(n), h)
            cols = ["antecedents", "consequents", "antecedent support", "consequent support",
                    "support", "confidence", "lift", "leverage", "conviction", "count"]
            out = {c: [] for c in cols}
            buf = (c_uint32 * 64)()
            m = new_struct(persona_assoc_rule)
            for i in range(n.value):
                lib.persona_assoc_rules_get(byref(m), buf, 64, h, i)
                na = m.n_antecedent
                if metric not in ("confidence", "lift") and getattr(m, metric) < min_threshold:
                    continue
                out["antecedents"].append(frozenset(self.items[buf[j]] for j in range(na)))
                out["consequents"].append(
                    frozenset(self.items[buf[j]] for j in range(na, na + m.n_consequent)))
                out["antecedent support"].append(m.antecedent_support)
                out["consequent support"].append(m.consequent_support)
                for c in ("support", "confidence", "lift", "leverage", "conviction", "count"):
                    out[c].append(getattr(m, c))
        finally:
            lib.persona_assoc_rules_free(h)
        pd = _optional.pandas()
        if pd is None:
            return [dict(zip(out, v)) for v in zip(*out.values())]
        return pd.DataFrame(out, columns=cols)


def itemsets(baskets, min_support=None, max_size=None, target="all", *, min_count=None,
             basket=None, item=None, max_itemsets=None, threads=0):
    """Frequent itemsets of ``baskets`` as mlxtend's apriori/fpgrowth return them
    (``use_colnames=True``): a DataFrame with ``support`` and ``itemsets`` (frozensets),
    plus ``count``. ``target``: "all", "closed" or "maximal". Rows in mining order
    (depth-first: a set before its extensions)."""
    b = Baskets(baskets, basket=basket, item=item)
    try:
        s = b.mine(min_support, min_count=min_count, max_size=max_size, target=target,
                   max_itemsets=max_itemsets, threads=threads)
    finally:
        b.close()
    return s.to_frame()


def association_rules(frequent_itemsets, metric="confidence", min_threshold=0.8, *, top=None,
                      antecedents=None, consequents=None):
    """Rules of a result of :func:`itemsets` (target "all"), as mlxtend's
    association_rules(df, metric, min_threshold): columns antecedents, consequents,
    antecedent support, consequent support, support, confidence, lift, leverage,
    conviction (inf at confidence 1), count; sorted by ``metric``, greatest first (ties:
    greater count, then mining order). ``top`` keeps the N best; ``antecedents`` /
    ``consequents`` restrict which items may appear on each side."""
    s = getattr(frequent_itemsets, "attrs", {}).get("persona_itemsets")
    if s is None and isinstance(frequent_itemsets, Itemsets):
        s = frequent_itemsets
    if s is None:
        raise ValueError("association_rules needs the DataFrame persona.itemsets() returned "
                         "(or an Itemsets)")
    return s.rules(metric, min_threshold, top=top, antecedents=antecedents,
                   consequents=consequents)
