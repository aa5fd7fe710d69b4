"""Stability of segmentations (stability.h).

    persona.adjusted_rand_index(["a", "a", "b"], [1, 1, 2])        # 1.0
    rules.migration(store, "2024-01-01", "2024-02-01")              # a DataFrame of counts
"""
import ctypes
from ctypes import byref, c_double, c_uint32, c_uint64

from . import _optional
from ._capi import lib
from .cohort import time_ms

#: persona_eval_context.now_ms meaning "the store's clock" (PERSONA_NOW_STORE).
NOW_STORE = -2 ** 63

#: Label of the "no segment" row and column of a migration matrix.
NO_SEGMENT = "(none)"

MAX_ITEMS = 2 ** 32 - 1


def _dense(labels, what):
    """The labels as dense uint32 ids (equal labels, equal ids) ready for C, and the array
    to keep alive. numpy arrays go through numpy.unique; anything else must be a sequence
    of hashable labels."""
    np = _optional.numpy()
    if np is not None and isinstance(labels, np.ndarray):
        if labels.ndim != 1:
            raise ValueError(f"{what} must be one-dimensional, not of shape {labels.shape}")
        inverse = np.unique(labels, return_inverse=True)[1]
        array = np.ascontiguousarray(inverse, dtype=np.uint32)
        return array.ctypes.data_as(ctypes.POINTER(c_uint32)), len(array), array
    if isinstance(labels, (str, bytes)):
        raise TypeError(f"{what} must be a sequence of labels, not a single str")
    ids = {}
    dense = [ids.setdefault(label, len(ids)) for label in labels]
    array = (c_uint32 * max(len(dense), 1))(*dense)
    return array, len(dense), array


def adjusted_rand_index(a, b):
    """Adjusted Rand index of two labelings of the same items
    (persona_adjusted_rand_index): 1.0 for the same partition, about 0 for independent
    ones, negative for worse than chance. Labels may be any hashable values (or numpy
    arrays); only equality matters. Equal to scikit-learn's ``adjusted_rand_score`` bit
    for bit. ValueError when the lengths differ."""
    pa, na, keep_a = _dense(a, "a")
    pb, nb, keep_b = _dense(b, "b")
    if na != nb:
        raise ValueError(f"the labelings have different lengths ({na} and {nb})")
    if na > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} items")
    out = c_double()
    lib.persona_adjusted_rand_index(byref(out), pa, pb, na)
    del keep_a, keep_b
    return out.value


def _time(value, what):
    return NOW_STORE if value is None else time_ms(value, what)


def migration(rules, store, start, end, frame=None):
    """Users by (segment as of ``start``, segment as of ``end``) for a first-match rule set
    (persona_segment_model_migration). Rows and columns are the segment names in order
    and last "(none)", the users in no segment. A pandas DataFrame (index named "from",
    columns "to") when pandas is installed (``frame=True`` requires it, ``False`` never
    uses it), else ``(labels, matrix)`` with the matrix as a list of rows. ``start`` /
    ``end``: datetime, str or int ms; None = the store's clock. InvalidArgumentError (a
    ValueError) for an "all" rule set."""
    from .segment import Rules, _store_handle
    if not isinstance(rules, Rules):
        raise TypeError(f"rules must be a persona.Rules, not {type(rules).__name__}")
    if frame:
        pd = _optional.require_pandas("migration(frame=True)")
    elif frame is None:
        pd = _optional.pandas()
    else:
        pd = None
    names = rules.names
    side = len(names) + 1
    counts = (c_uint64 * (side * side))()
    lib.persona_segment_model_migration(counts, side * side, rules._live(), _store_handle(store),
                                        _time(start, "start"), _time(end, "end"))
    labels = names + [NO_SEGMENT]
    matrix = [[counts[i * side + j] for j in range(side)] for i in range(side)]
    if pd is None:
        return labels, matrix
    return pd.DataFrame(matrix, index=pd.Index(labels, name="from", dtype=object),
                        columns=pd.Index(labels, name="to", dtype=object), dtype="int64")
