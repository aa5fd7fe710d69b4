"""Cohort, lifecycle and stickiness tables (cohort.h).

Tables are built through persona.Store (``store.cohort(...)``, ``store.lifecycle(...)``,
``store.stickiness(...)``) or read back with ``CohortTable.load(path)``. The keyword
arguments of those methods map one to one to the fields of persona_cohort_options; this
module turns the Python values into the C ones and refuses unknown names with ValueError
before anything reaches the library.
"""
import ctypes
import datetime as _dt
import math
import numbers
import os
import re
from ctypes import byref, c_char_p, c_double, c_int32, c_int64, c_size_t, c_uint32, c_uint64

from . import _optional
from ._callbacks import CallbackGuard, reraising
from ._capi import (CohortTableHandle, NotFoundError, encode, lib, new_struct, read_string,
                    take_owned_string)
from ._handle import Handle
from ._structs import WRITE_FN, persona_cohort_options
from .times import PERIODS as CALENDAR_PERIODS, duration_ms, to_datetime, to_ms

#: Table kinds (PERSONA_COHORT_RETENTION, _LIFECYCLE, _STICKINESS).
KINDS = {"retention": 0, "lifecycle": 1, "stickiness": 2}
KIND_NAMES = {value: name for name, value in KINDS.items()}

#: Column periods: the calendar PERSONA_PERIOD_* and PERSONA_PERIOD_ROLLING.
PERIODS = dict(CALENDAR_PERIODS, rolling=7)

#: Retention modes (PERSONA_RETENTION_*).
RETENTION_MODES = {"classic": 0, "unbounded": 1}

#: Metric ids (PERSONA_COHORT_USERS ... _LTV) read by cell(), matrix(), export().
METRICS = {"users": 0, "events": 1, "revenue": 2, "rate": 3, "ltv": 4}

#: Metrics a build can add to users (persona_cohort_options.metrics, bit 1 << id).
EXTRA_METRICS = {"events": 1, "revenue": 2}

#: Cohort definitions (PERSONA_COHORT_BY_*).
COHORT_BY_FIRST_EVENT = 0
COHORT_BY_FIRST_OF_TYPE = 1
COHORT_BY_PROPERTY = 2

#: Export formats (PERSONA_COHORT_EXPORT_CSV / _JSON).
EXPORT_FORMATS = {"csv": 1, "json": 2}

#: Header of the row labels per kind (the first CSV column).
INDEX_NAMES = {"retention": "cohort", "lifecycle": "period", "stickiness": "active_periods"}

_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d|w)")
_DURATION_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
                   "w": 7 * 86_400_000}


# --------------------------------------------------------------------------- options

def _choice(value, table, what):
    if isinstance(value, str) and value in table:
        return table[value]
    raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(table)}")


def _integer(value, what, low, high):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{what} {value} is out of range [{low}, {high}]")
    return int(value)


def time_ms(value, what):
    """A time (datetime, ISO string or int ms) as int64 ms: ctypes would wrap a bigger int
    silently."""
    return _integer(to_ms(value), what, -2 ** 63, 2 ** 63 - 1)


def _uint32(value, what):
    return _integer(value, what, 0, 2 ** 32 - 1)


def utc_offset_minutes(value):
    """Minutes east of UTC for an offset given as int minutes, a timedelta, or a str
    "+05:30", "-0800", "+02", "Z" / "UTC". ValueError for other strings."""
    if value is None:
        return 0
    if isinstance(value, _dt.timedelta):
        minutes, rest = divmod(value, _dt.timedelta(minutes=1))
        if rest:
            raise ValueError(f"utc_offset {value} is not a whole number of minutes")
        return _integer(minutes, "utc_offset", -2 ** 31, 2 ** 31 - 1)
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ("Z", "UTC"):
            return 0
        match = _OFFSET.fullmatch(text) or re.fullmatch(r"([+-])(\d{1,2})()", text)
        if match is None:
            raise ValueError(f"utc_offset {value!r} is not an offset like '+05:30', "
                             "'-08:00' or 'Z'")
        sign, hours, minutes = match.groups()
        minutes = int(minutes or 0)
        if minutes >= 60:
            raise ValueError(f"utc_offset {value!r}: minutes must be below 60")
        total = int(hours) * 60 + minutes
        return -total if sign == "-" else total
    return _integer(value, "utc_offset", -2 ** 31, 2 ** 31 - 1)


def window_ms(value, what="window"):
    """A rolling window (or another duration, named ``what`` in errors) as ms: int ms, a
    timedelta, or a str such as "24h", "90m", "7d", "1h30m", "500ms", "2w". ValueError for
    other strings."""
    if isinstance(value, str):
        text = value.replace(" ", "")
        parts = list(_DURATION_PART.finditer(text))
        if not text or "".join(p.group(0) for p in parts) != text:
            raise ValueError(f"{what} {value!r} is not a duration like '24h', '90m', '7d' "
                             "or '1h30m'")
        total = sum(float(p.group(1)) * _DURATION_UNITS[p.group(2)] for p in parts)
        if total != int(total):
            raise ValueError(f"{what} {value!r} is not a whole number of milliseconds")
        return _integer(int(total), what, -2 ** 63, 2 ** 63 - 1)
    return _integer(duration_ms(value), what, -2 ** 63, 2 ** 63 - 1)


def _cohort_by(value):
    """(PERSONA_COHORT_BY_*, event type, property) for a cohort definition."""
    if value is None or value == "first_event":
        return COHORT_BY_FIRST_EVENT, None, None
    kind = name = None
    if isinstance(value, str):
        for prefix, full in (("first:", "first_of_type"), ("prop:", "property")):
            if value.startswith(prefix):
                kind, name = full, value[len(prefix):]
    elif isinstance(value, tuple) and len(value) == 2 and value[0] in ("first_of_type",
                                                                        "property"):
        kind, name = value
    if kind is not None:
        if not isinstance(name, (str, bytes)) or not name:
            what = "event type" if kind == "first_of_type" else "property name"
            raise ValueError(f"cohort_by {value!r} needs a non-empty {what}")
        if kind == "first_of_type":
            return COHORT_BY_FIRST_OF_TYPE, encode(name, "cohort event type"), None
        return COHORT_BY_PROPERTY, None, encode(name, "cohort property")
    raise ValueError(f"unknown cohort_by {value!r}; expected None, 'first_event', "
                     "('first_of_type', EVENT), 'first:EVENT', ('property', NAME) "
                     "or 'prop:NAME'")


def _strings(value, what):
    if isinstance(value, (str, bytes)):
        value = [value]
    return [encode(v, what) for v in value]


def _metric_bits(metrics):
    if metrics is None:
        return 0
    if isinstance(metrics, str):
        metrics = [metrics]
    bits = 0
    for name in metrics:
        if name == "users":
            continue  # always built
        bits |= 1 << _choice(name, EXTRA_METRICS, "metric to build")
    return bits


def cohort_options(kind="retention", period="month", *, retention="classic", cohort_by=None,
                   metrics=(), active=None, brackets=None, periods=None, min_users=None,
                   utc_offset=0, window=None, row_period=None, consent=None, start=None,
                   end=None, threads=None):
    """(persona_cohort_options, the arrays and strings it points to). The second item must
    be kept alive until the C call has returned."""
    opts = new_struct(persona_cohort_options)
    keep = []
    opts.kind = _choice(kind, KINDS, "kind")
    opts.period = _choice(period, PERIODS, "period")
    if row_period is not None:
        opts.row_period = _choice(row_period, CALENDAR_PERIODS, "row_period")
    if window is not None:
        opts.window_ms = window_ms(window)
    opts.utc_offset_minutes = utc_offset_minutes(utc_offset)
    opts.cohort_by, event, prop = _cohort_by(cohort_by)
    opts.cohort_event, opts.cohort_property = event, prop
    keep += [event, prop]
    opts.retention = _choice(retention, RETENTION_MODES, "retention")
    opts.metrics = _metric_bits(metrics)
    if active is not None:
        types = _strings(active, "active event type")
        if types:
            array = (c_char_p * len(types))(*types)
            keep += [types, array]
            opts.active_types = ctypes.cast(array, ctypes.POINTER(c_char_p))
            opts.n_active_types = len(types)
    if brackets is not None:
        firsts = [_uint32(b, "bracket") for b in brackets]
        if firsts:
            array = (c_uint32 * len(firsts))(*firsts)
            keep.append(array)
            opts.brackets = ctypes.cast(array, ctypes.POINTER(c_uint32))
            opts.n_brackets = len(firsts)
    if periods is not None:
        opts.periods = _uint32(periods, "periods")
    if min_users is not None:
        opts.min_users = _uint32(min_users, "min_users")
    if consent is not None:
        opts.consent_purpose = purpose = encode(consent, "consent purpose")
        keep.append(purpose)
    if start is not None:
        opts.from_ms = time_ms(start, "start")
    if end is not None:
        opts.to_ms = time_ms(end, "end")
    if threads is not None:
        opts.threads = _integer(threads, "threads", 0, 2 ** 31 - 1)
    return opts, keep


def build(store, kind="retention", period="month", **options):
    """persona_cohort_build() on a Store; the keyword arguments of cohort_options()."""
    opts, keep = cohort_options(kind, period, **options)
    handle = CohortTableHandle()
    lib.persona_cohort_build(byref(handle), store._live(), byref(opts))
    del keep  # borrowed only for the call
    return CohortTable._wrap(handle)


# --------------------------------------------------------------------------- the table

def _index(value, what):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} {value} is out of range")
    return int(value)


def _metric(metric):
    return _choice(metric, METRICS, "metric")


def _number(value, metric_id):
    """A cell as Python: None for NaN, int for the counting metrics, else float."""
    if math.isnan(value):
        return None
    if metric_id in (METRICS["users"], METRICS["events"]):
        return int(value)
    return value


class CohortTable(Handle):
    """A built cohort (retention), lifecycle or stickiness table (persona_cohort_table).

    Retention: one row per cohort, one column per period since (p0, p1, ... or
    brackets). Lifecycle: one row per period, columns new, returning, resurrecting,
    dormant. Stickiness: one row per number of active periods, one column "users".

    Thread-safety (cohort.h): immutable except for merge() and update(). Any number of
    threads may read one table at once (the GIL is released during each C call); merge()
    and update() need exclusive access, and close() must not race with other calls.
    There are no locks in Python.
    """

    _kind = "cohort table"

    def __init__(self):
        raise TypeError("CohortTable objects come from Store.cohort(), Store.lifecycle(), "
                        "Store.stickiness() or CohortTable.load()")

    @classmethod
    def _wrap(cls, handle):
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_cohort_table_free)
        return self

    @classmethod
    def load(cls, path):
        """A table saved with save() (persona_cohort_table_load). CorruptError for a
        damaged file or one that is not a cohort table, VersionError for a newer format,
        PersonaIOError (an OSError) when it cannot be read."""
        handle = CohortTableHandle()
        lib.persona_cohort_table_load(byref(handle), os.fsencode(path))
        return cls._wrap(handle)

    def save(self, path):
        """Save the table (persona_cohort_table_save): written under a temporary name and
        renamed, so ``path`` holds the old file or the new one. A loaded table keeps the
        true counts; min_users suppression applies again on reading."""
        lib.persona_cohort_table_save(self._live(), os.fsencode(path))

    # ------------------------------------------------------------------ shape

    @property
    def kind(self):
        """"retention", "lifecycle" or "stickiness"."""
        out = c_int32()
        lib.persona_cohort_table_kind(byref(out), self._live())
        return KIND_NAMES.get(out.value, out.value)

    @property
    def rows(self):
        """Number of rows (cohorts, lifecycle periods or active-period counts)."""
        out = c_size_t()
        lib.persona_cohort_table_rows(byref(out), self._live())
        return out.value

    @property
    def cols(self):
        """Number of columns (periods or brackets; 4 for lifecycle; 1 for stickiness)."""
        out = c_size_t()
        lib.persona_cohort_table_cols(byref(out), self._live())
        return out.value

    @property
    def shape(self):
        """(rows, cols)."""
        return self.rows, self.cols

    def row_label(self, row):
        """Label of a row: "2024-03", "2024-W10", a property value or "(none)", or "3"."""
        return read_string(lib.persona_cohort_table_label, self._live(), _index(row, "row"),
                           capacity=64)

    def col_label(self, col):
        """Label of a column: "p0", "p2-3", "p8+", "new", ..., "users"."""
        return read_string(lib.persona_cohort_table_col_label, self._live(),
                           _index(col, "col"), capacity=32)

    def row_labels(self):
        """Labels of all rows, in order."""
        return [self.row_label(r) for r in range(self.rows)]

    def col_labels(self):
        """Labels of all columns, in order."""
        return [self.col_label(c) for c in range(self.cols)]

    def row_start(self, row):
        """Start of a row's period as an aware datetime in UTC (local midnight of its first
        day, for an offset table); None for a property cohort or a stickiness row."""
        out = c_int64()
        try:
            lib.persona_cohort_table_row_start(byref(out), self._live(), _index(row, "row"))
        except NotFoundError:
            return None
        return to_datetime(out.value)

    # ------------------------------------------------------------------ values

    def size(self, row):
        """Users in a row (a cohort's size); None when suppressed by min_users."""
        size, suppressed = c_uint64(), c_int32()
        lib.persona_cohort_table_size(byref(size), byref(suppressed), self._live(),
                                      _index(row, "row"))
        return None if suppressed.value else size.value

    def sizes(self):
        """size() of every row, as a list (None for suppressed rows)."""
        return [self.size(r) for r in range(self.rows)]

    def cell(self, row, col, metric="users"):
        """One cell: an int for "users" and "events", a float for "revenue", "rate" and
        "ltv"; None when suppressed (min_users) or past the end of the cohort's data.
        UnsupportedError for a metric the table was not built with."""
        metric_id = _metric(metric)
        value = c_double()
        lib.persona_cohort_table_cell(byref(value), None, self._live(), _index(row, "row"),
                                      _index(col, "col"), metric_id)
        return _number(value.value, metric_id)

    def suppressed(self, row, col, metric="users"):
        """Whether a cell covers fewer than min_users users."""
        value, flag = c_double(), c_int32()
        lib.persona_cohort_table_cell(byref(value), byref(flag), self._live(),
                                      _index(row, "row"), _index(col, "col"), _metric(metric))
        return bool(flag.value)

    def _raw(self, metric_id):
        handle = self._live()
        rows, cols = self.rows, self.cols
        value = c_double()
        out = []
        for r in range(rows):
            line = []
            for c in range(cols):
                lib.persona_cohort_table_cell(byref(value), None, handle, r, c, metric_id)
                line.append(value.value)
            out.append(line)
        return out

    def matrix(self, metric="users", as_array=False):
        """Every cell of one metric, row by row: a list of lists (ints for users and
        events, floats otherwise, None for suppressed or unavailable cells), or with
        ``as_array=True`` a float64 numpy array of shape (rows, cols) with NaN for those
        (ImportError without numpy)."""
        metric_id = _metric(metric)
        if as_array:
            np = _optional.numpy()
            if np is None:
                raise ImportError("CohortTable.matrix(as_array=True) needs numpy, which is "
                                  "not installed (use the list form)")
            return np.array(self._raw(metric_id), dtype=np.float64).reshape(self.rows,
                                                                            self.cols)
        return [[_number(v, metric_id) for v in line] for line in self._raw(metric_id)]

    def to_pandas(self, metric="users"):
        """The table as a pandas DataFrame of float64 (NaN for suppressed or unavailable
        cells), indexed by the row labels (index named "cohort", "period" or
        "active_periods" as in the CSV export). Retention: a "size" column (the cohort's
        users) then one column per period label; lifecycle: new, returning, resurrecting,
        dormant; stickiness: users. ImportError without pandas."""
        pd = _optional.require_pandas("CohortTable.to_pandas()")
        kind = self.kind
        labels = self.row_labels()
        columns = self.col_labels()
        data = [[math.nan if v is None else float(v) for v in line]
                for line in self._raw(_metric(metric))]
        if kind == "retention":
            columns = ["size"] + columns
            data = [[math.nan if s is None else float(s)] + line
                    for s, line in zip(self.sizes(), data)]
        index = pd.Index(labels, name=INDEX_NAMES.get(kind), dtype=object)
        frame = pd.DataFrame(data, index=index, columns=pd.Index(columns, dtype=object),
                             dtype="float64")
        return frame

    # ------------------------------------------------------------------ export

    def export(self, format="csv", metric="users", file=None):
        """The table as text: "csv" (one metric, wide) or "json" (every built metric;
        ``metric`` ignored). With ``file`` (a binary or text file object) the export is
        streamed to it (persona_cohort_table_export) and None is returned."""
        fmt = _choice(format, EXPORT_FORMATS, "export format")
        metric_id = _metric(metric)
        if file is None:
            return take_owned_string(lib.persona_cohort_table_export_buffer, self._live(),
                                     fmt, metric_id)
        from .store import _byte_sink
        write, finish = _byte_sink(file)

        def write_piece(ctx, data, size):
            write(ctypes.string_at(data, size))
            return 0

        guard = CallbackGuard()
        writer = WRITE_FN(guard.wrap(write_piece))
        with reraising(guard):
            lib.persona_cohort_table_export(self._live(), fmt, metric_id, writer, None)
        finish()
        return None

    # ------------------------------------------------------------------ combining

    def merge(self, other):
        """Add a table built with the same options over other users
        (persona_cohort_table_merge); this table then equals one built over both sets of
        users and can no longer be updated. InvalidArgumentError (a ValueError) naming the
        first option that differs."""
        if not isinstance(other, CohortTable):
            raise TypeError(f"can only merge a CohortTable, not {type(other).__name__}")
        lib.persona_cohort_table_merge(self._live(), other._live())

    def update(self, store):
        """Count the events ingested into ``store`` since the build or the last update
        (persona_cohort_table_update); the table then equals a fresh build. MisuseError
        for another store, or a merged or loaded table."""
        lib.persona_cohort_table_update(self._live(), store._live())

    def __repr__(self):
        if self.closed:
            return "<persona.CohortTable closed>"
        return f"<persona.CohortTable {self.kind} {self.rows}x{self.cols}>"
