"""RFM segmentation (rfm.h): recency, frequency and monetary value per customer, quantile
scores 1 ... bins and the eleven standard named segments.

    rfm = store.rfm()                      # purchases of type "purchase", 5 bins
    len(rfm)                               # customers with at least one purchase
    rfm["17850"]                           # {"recency_days": 372, "frequency": 34, ...}
    rfm.to_pandas()                        # one row per customer, in the store's user order
    rfm.summary()                          # users and share per segment
    rfm.export("csv")                      # user,recency_days,frequency,monetary,r,f,m,segment

Results are built with ``Store.rfm(...)`` or read back with ``RFM.load(path)``; the exact
definitions (what a purchase, an order and a return are, the tie rule of the ranks, the
segment chart) are in docs/rfm.md and include/persona/rfm.h.
"""
import ctypes
import os
from ctypes import byref, c_int64, c_size_t, c_uint32, c_uint64

from . import _optional
from ._callbacks import CallbackGuard, reraising
from ._capi import NotFoundError, RfmHandle, encode, lib, new_struct, read_string, \
    take_owned_string
from ._handle import Handle
from ._structs import WRITE_FN, persona_rfm_entry, persona_rfm_options
from .cohort import _choice, _integer, time_ms
from .times import to_datetime

#: The named segments, by id (PERSONA_RFM_CHAMPIONS = 0 ... PERSONA_RFM_LOST = 10).
SEGMENTS = ("Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
            "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost")

#: Export formats (PERSONA_RFM_EXPORT_CSV, _SUMMARY_CSV, _JSON).
EXPORT_FORMATS = {"csv": 1, "summary": 2, "json": 3}

#: The fields of one customer, in the order of the CSV export.
COLUMNS = ("recency_days", "frequency", "monetary", "r", "f", "m", "segment")

MIN_BINS, MAX_BINS = 2, 10


def rfm_options(bins=None, purchase=None, returns=None, as_of=None, start=None,
                consent=None):
    """(persona_rfm_options, the strings it points to); the second item must be kept alive
    until the C call has returned."""
    opts = new_struct(persona_rfm_options)
    keep = []
    if bins is not None:
        opts.bins = _integer(bins, "bins", MIN_BINS, MAX_BINS)
    if purchase is not None:
        opts.purchase_type = value = encode(purchase, "purchase event type")
        keep.append(value)
    if returns is not None:
        opts.return_type = value = encode(returns, "return event type")
        keep.append(value)
    if consent is not None:
        opts.consent_purpose = value = encode(consent, "consent purpose")
        keep.append(value)
    if as_of is not None:
        opts.reference_ms = time_ms(as_of, "as_of")
        if opts.reference_ms == 0:
            raise ValueError("as_of cannot be 1970-01-01T00:00:00.000Z itself (0 means the "
                             "default); give a time 1 ms later")
    if start is not None:
        opts.from_ms = time_ms(start, "start")
        if opts.from_ms == 0:
            raise ValueError("start cannot be 1970-01-01T00:00:00.000Z itself (0 means no "
                             "limit)")
    return opts, keep


def build(store, **options):
    """persona_rfm_build() on a Store; the keyword arguments of rfm_options()."""
    opts, keep = rfm_options(**options)
    handle = RfmHandle()
    lib.persona_rfm_build(byref(handle), store._live(), byref(opts))
    del keep  # borrowed only for the call
    return RFM._wrap(handle)


def _entry_dict(entry):
    return {
        "recency_days": entry.recency_days,
        "frequency": entry.frequency,
        "monetary": entry.monetary,
        "r": entry.r,
        "f": entry.f,
        "m": entry.m,
        "segment": SEGMENTS[entry.segment],
        "last_purchase": to_datetime(entry.last_purchase_ms),
    }


class RFM(Handle):
    """RFM values, scores and segments of the customers of a store (persona_rfm).

    Customers are the profiles with at least one purchase, in the store's user order;
    ``rfm[key]`` gives one as a dict (KeyError for a key that is not scored), iterating
    gives the keys. Scores are 1 ... ``bins``; R is highest for the most recent.

    Thread-safety (rfm.h): immutable; any number of threads may read one result at once
    (the GIL is released during each C call). close() must not race with other calls.
    """

    _kind = "RFM result"

    def __init__(self):
        raise TypeError("RFM objects come from Store.rfm() or RFM.load()")

    @classmethod
    def _wrap(cls, handle):
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_rfm_free)
        return self

    @classmethod
    def load(cls, path):
        """A result saved with save() (persona_rfm_load); scores and segments are computed
        again from the saved values. CorruptError for a damaged file or one that is not an
        RFM result, VersionError for a newer format, PersonaIOError (an OSError) when it
        cannot be read."""
        handle = RfmHandle()
        lib.persona_rfm_load(byref(handle), os.fsencode(path))
        return cls._wrap(handle)

    def save(self, path):
        """Save the result (persona_rfm_save): written under a temporary name and renamed,
        so ``path`` holds the old file or the new one."""
        lib.persona_rfm_save(self._live(), os.fsencode(path))

    # ------------------------------------------------------------------ shape

    def __len__(self):
        """Number of scored customers."""
        out = c_size_t()
        lib.persona_rfm_count(byref(out), self._live())
        return out.value

    @property
    def bins(self):
        """Score bins (2 ... 10)."""
        out = c_uint32()
        lib.persona_rfm_bins(byref(out), self._live())
        return out.value

    @property
    def reference_ms(self):
        """Reference time recency is measured to, ms since the epoch."""
        out = c_int64()
        lib.persona_rfm_reference(byref(out), self._live())
        return out.value

    @property
    def reference(self):
        """Reference time as an aware datetime in UTC (by default the store's latest event
        + 1 day)."""
        return to_datetime(self.reference_ms)

    def user(self, index):
        """Key of the customer at a position (0-based, user order)."""
        return read_string(lib.persona_rfm_user_at, self._live(),
                           _integer(index, "index", 0, 2 ** 64 - 1), capacity=64)

    def users(self):
        """The customers' keys, in user order."""
        return [self.user(i) for i in range(len(self))]

    def __iter__(self):
        return iter(self.users())

    def _index(self, key):
        out = c_size_t()
        lib.persona_rfm_find(byref(out), self._live(), encode(key, "user"))
        return out.value

    def __contains__(self, key):
        if not isinstance(key, (str, bytes)):
            return False
        try:
            self._index(key)
        except NotFoundError:
            return False
        return True

    def entry(self, index):
        """The customer at a position as a dict: recency_days, frequency, monetary, r, f, m,
        segment (its name) and last_purchase (an aware datetime)."""
        entry = new_struct(persona_rfm_entry)
        lib.persona_rfm_get(byref(entry), self._live(),
                            _integer(index, "index", 0, 2 ** 64 - 1))
        return _entry_dict(entry)

    def __getitem__(self, key):
        """The entry() of a customer by key; NotFoundError (a KeyError) when the key has no
        purchase (or no consent, or is unknown)."""
        return self.entry(self._index(key))

    def rows(self):
        """Every customer as a tuple (user, recency_days, frequency, monetary, r, f, m,
        segment), in user order: the rows of the CSV export, with exact values."""
        handle = self._live()
        entry = new_struct(persona_rfm_entry)
        out = []
        for i in range(len(self)):
            lib.persona_rfm_get(byref(entry), handle, i)
            out.append((self.user(i), entry.recency_days, entry.frequency, entry.monetary,
                        entry.r, entry.f, entry.m, SEGMENTS[entry.segment]))
        return out

    def to_pandas(self):
        """The customers as a pandas DataFrame indexed by user key (index named "user") with
        the columns recency_days, frequency, monetary (float64), r, f, m (int) and segment,
        in user order. ImportError without pandas."""
        pd = _optional.require_pandas("RFM.to_pandas()")
        rows = self.rows()
        frame = pd.DataFrame({
            "recency_days": pd.Series([r[1] for r in rows], dtype="int64"),
            "frequency": pd.Series([r[2] for r in rows], dtype="int64"),
            "monetary": pd.Series([r[3] for r in rows], dtype="float64"),
            "r": pd.Series([r[4] for r in rows], dtype="int64"),
            "f": pd.Series([r[5] for r in rows], dtype="int64"),
            "m": pd.Series([r[6] for r in rows], dtype="int64"),
            "segment": pd.Series([r[7] for r in rows], dtype=object),
        })
        frame.index = pd.Index([r[0] for r in rows], name="user", dtype=object)
        return frame

    # ------------------------------------------------------------------ segments

    def segment_sizes(self):
        """Customers per named segment: a dict over all eleven names, in SEGMENTS order."""
        handle = self._live()
        out = c_uint64()
        sizes = {}
        for i, name in enumerate(SEGMENTS):
            lib.persona_rfm_segment_size(byref(out), handle, i)
            sizes[name] = out.value
        return sizes

    def summary(self, frame=None):
        """segment, users, share (users / scored customers; None when nobody is scored) for
        all eleven segments: a pandas DataFrame indexed by segment when pandas is installed
        (``frame=True`` requires it, ``False`` never uses it), else a list of tuples."""
        if frame:
            pd = _optional.require_pandas("RFM.summary(frame=True)")
        elif frame is None:
            pd = _optional.pandas()
        else:
            pd = None
        sizes = self.segment_sizes()
        total = sum(sizes.values())
        rows = [(name, users, users / total if total else None) for name, users in sizes.items()]
        if pd is None:
            return rows
        return pd.DataFrame({"users": [r[1] for r in rows],
                             "share": [float("nan") if r[2] is None else r[2] for r in rows]},
                            index=pd.Index([r[0] for r in rows], name="segment", dtype=object))

    # ------------------------------------------------------------------ export

    def export(self, format="csv", file=None):
        """The result as text: "csv" (one row per customer), "summary" (segment,users,share)
        or "json" (options, summary and rows in one object). With ``file`` (a binary or
        text file object) it is streamed there (persona_rfm_export) and None is returned."""
        fmt = _choice(format, EXPORT_FORMATS, "export format")
        if file is None:
            return take_owned_string(lib.persona_rfm_export_buffer, self._live(), fmt)
        from .store import _byte_sink
        write, finish = _byte_sink(file)

        def write_piece(ctx, data, size):
            write(ctypes.string_at(data, size))
            return 0

        guard = CallbackGuard()
        writer = WRITE_FN(guard.wrap(write_piece))
        with reraising(guard):
            lib.persona_rfm_export(self._live(), fmt, writer, None)
        finish()
        return None

    def __repr__(self):
        if self.closed:
            return "<persona.RFM closed>"
        return f"<persona.RFM {len(self)} customers, {self.bins} bins>"
