"""Conversion funnels (funnel.h).

Funnels are built through persona.Store (``store.funnel(...)``) or read back with
``Funnel.load(path)``. The keyword arguments of Store.funnel() map one to one to the
fields of persona_funnel_options, persona_funnel_step and persona_funnel_exclusion; this
module turns the Python values into the C ones and refuses unknown names with ValueError
before anything reaches the library.

Numbering, as in the C API: the accessors take a 0-based step *index* (the position in
``Funnel.steps``, ``counts()``, ...); step *numbers* are 1-based — the ``between`` pair of
an exclusion, a user's stage (stage 2 = reached the second step) and the ``step`` column of
the exports and of to_pandas().
"""
import ctypes
import json
import math
import numbers
import os
from collections.abc import Mapping
from ctypes import (POINTER, byref, c_double, c_int32, c_int64, c_size_t, c_uint64)

from . import _optional
from ._callbacks import CallbackGuard, reraising
from ._capi import FunnelHandle, encode, lib, new_struct, read_string, take_owned_string
from ._handle import Handle
from ._structs import (WRITE_FN, persona_funnel_exclusion, persona_funnel_options,
                       persona_funnel_step)
from .cohort import _choice, _index, time_ms, utc_offset_minutes, window_ms
from .times import PERIODS as CALENDAR_PERIODS, to_datetime

#: Step orders (PERSONA_FUNNEL_LOOSE, _STRICT, _ANY_ORDER); "any_order" as in the JSON export.
ORDERS = {"loose": 0, "strict": 1, "any": 2, "any_order": 2}

#: What is counted (PERSONA_FUNNEL_USERS, _TOTALS, _SESSIONS).
COUNTS = {"users": 0, "totals": 1, "sessions": 2}

#: Predicate operators (PERSONA_WHERE_EQ / _NE).
WHERE_OPS = {"==": 0, "eq": 0, "!=": 1, "ne": 1}

#: Export formats (PERSONA_FUNNEL_EXPORT_CSV, _JSON, _STAGES_CSV).
EXPORT_FORMATS = {"csv": 1, "json": 2, "stages": 3}

#: Most steps of a funnel (PERSONA_FUNNEL_MAX_STEPS).
MAX_STEPS = 32

STEP_KEYS = ("event", "where", "min_gap", "max_gap")
EXCLUSION_KEYS = ("event", "where", "between")
ROW_COLUMNS = ("step", "event", "users", "conversion_from_prev", "conversion_from_first",
               "median_seconds_from_prev")


# --------------------------------------------------------------------------- options

def _event_type(value, where):
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"{where}: the event type must be a str, not {type(value).__name__}")
    return encode(value, f"{where}: event type")


def _where(value, where):
    """(property, op, value) as (bytes, PERSONA_WHERE_*, bytes)."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise ValueError(f"{where}: 'where' must be a (property, op, value) triple such as "
                         f"('category', '==', 'shoes'), not {value!r}")
    prop, op, target = value
    if not isinstance(prop, (str, bytes)):
        raise TypeError(f"{where}: the where property must be a str, not "
                        f"{type(prop).__name__}")
    if not isinstance(op, str) or op.lower() not in WHERE_OPS:
        raise ValueError(f"{where}: unknown where operator {op!r}; expected one of "
                         f"{', '.join(WHERE_OPS)}")
    if target is None or isinstance(target, bool):
        raise ValueError(f"{where}: the where value must be a str or a number, not "
                         f"{target!r}")
    return (encode(prop, f"{where}: where property"), WHERE_OPS[op.lower()],
            encode(target, f"{where}: where value"))


def _match(spec, where, allowed):
    """A persona_funnel_step from an event type or a dict with the keys ``allowed``."""
    step = new_struct(persona_funnel_step)
    if isinstance(spec, Mapping):
        unknown = [k for k in spec if k not in allowed]
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                             f"expected {', '.join(allowed)}")
        if "event" not in spec:
            raise ValueError(f"{where}: the dict needs an 'event' key")
        step.event_type = _event_type(spec["event"], where)
        if spec.get("where") is not None:
            step.where_property, step.where_op, step.where_value = _where(spec["where"],
                                                                          where)
        if spec.get("min_gap") is not None:
            step.min_ms = window_ms(spec["min_gap"], f"{where}: min_gap")
        if spec.get("max_gap") is not None:
            step.max_ms = window_ms(spec["max_gap"], f"{where}: max_gap")
    else:
        step.event_type = _event_type(spec, where)
    return step


def _between(value, where):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{where}: 'between' must be a pair of 1-based step numbers such as "
                         f"(1, 3), not {value!r}")
    pair = []
    for number in value:
        if not isinstance(number, numbers.Integral) or isinstance(number, bool):
            raise TypeError(f"{where}: step numbers must be ints, not "
                            f"{type(number).__name__}")
        if not 1 <= number <= 2 ** 32 - 1:
            raise ValueError(f"{where}: step number {number} is out of range (steps are "
                             "numbered from 1)")
        pair.append(int(number))
    return pair


def _sequence(value, what):
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{what} must be a list, not {type(value).__name__}")
    return list(value)


def _pointer_array(structs):
    """A ``const T *const *`` over the structs (NULL for an empty list)."""
    if not structs:
        return None
    kind = POINTER(type(structs[0]))
    array = (kind * len(structs))(*[ctypes.pointer(s) for s in structs])
    return array, ctypes.cast(array, POINTER(kind))


def funnel_options(steps, window="24h", order="loose", count="users", exclude=None,
                   hold=None, trend_period="month", utc_offset=0, consent=None, start=None,
                   end=None):
    """(persona_funnel_options, everything it points to). The second item must be kept
    alive until the C call has returned."""
    opts = new_struct(persona_funnel_options)
    keep = []
    step_structs = [_match(s, f"step {i}", STEP_KEYS)
                    for i, s in enumerate(_sequence(steps, "steps"), 1)]
    exclusions = []
    if exclude is not None:
        for i, x in enumerate(_sequence(exclude, "exclude"), 1):
            where = f"exclusion {i}"
            exclusion = new_struct(persona_funnel_exclusion)
            event = _match(x, where, EXCLUSION_KEYS)
            if isinstance(x, Mapping) and x.get("between") is not None:
                exclusion.from_step, exclusion.to_step = _between(x["between"], where)
            exclusion.event = ctypes.pointer(event)
            keep.append(event)
            exclusions.append(exclusion)
    opts.order = _choice(order, ORDERS, "order")
    opts.count = _choice(count, COUNTS, "count")
    if trend_period is not None:
        opts.trend_period = _choice(trend_period, CALENDAR_PERIODS, "trend_period")
    if window is not None:
        opts.window_ms = window_ms(window)
    opts.utc_offset_minutes = utc_offset_minutes(utc_offset)
    if hold is not None:
        if not isinstance(hold, (str, bytes)):
            raise TypeError(f"hold must be a property name (str), not {type(hold).__name__}")
        opts.hold_property = name = encode(hold, "hold property")
        keep.append(name)
    if consent is not None:
        opts.consent_purpose = purpose = encode(consent, "consent purpose")
        keep.append(purpose)
    if start is not None:
        opts.from_ms = time_ms(start, "start")
    if end is not None:
        opts.to_ms = time_ms(end, "end")
    keep += [step_structs, exclusions]
    for structs, field, count_field in ((step_structs, "steps", "n_steps"),
                                        (exclusions, "exclusions", "n_exclusions")):
        made = _pointer_array(structs)
        if made is not None:
            keep.append(made)
            setattr(opts, field, made[1])
            setattr(opts, count_field, len(structs))
    return opts, keep


def build(store, steps, **options):
    """persona_funnel_build() on a Store; the keyword arguments of funnel_options()."""
    opts, keep = funnel_options(steps, **options)
    handle = FunnelHandle()
    lib.persona_funnel_build(byref(handle), store._live(), byref(opts))
    del keep  # borrowed only for the call
    return Funnel._wrap(handle)


# --------------------------------------------------------------------------- the funnel

def _seconds(ms):
    """ms (a double, NaN = none) as seconds, or None."""
    return None if math.isnan(ms) else ms / 1000.0


def _ratio(value):
    return None if math.isnan(value) else value


def _nan(value):
    return math.nan if value is None else float(value)


class Funnel(Handle):
    """A built conversion funnel (persona_funnel): per step the units (users, sessions or
    entries) that reached it, the conversion, the time from the previous step, a trend per
    calendar period and every user's furthest step.

    Step *indices* taken by the methods are 0-based (as ``steps`` and ``counts()``); step
    *numbers* (stages, the ``step`` column) are 1-based. See funnel.h for the exact
    definitions (paths, ties, windows, exclusions, hold property, any order).

    Thread-safety (funnel.h): immutable except for merge(). Any number of threads may read
    one funnel at once (the GIL is released during each C call); merge() needs exclusive
    access, and close() must not race with other calls. There are no locks in Python.
    """

    _kind = "funnel"

    #: Labels of the time_histogram() buckets.
    HISTOGRAM_LABELS = ("<1m", "1m-5m", "5m-15m", "15m-1h", "1h-6h", "6h-1d", "1d-7d", ">=7d")
    #: Exclusive upper bound of each bucket in seconds (None: the last is open).
    HISTOGRAM_BOUNDS = (60, 300, 900, 3600, 21600, 86400, 604800, None)

    def __init__(self):
        raise TypeError("Funnel objects come from Store.funnel() or Funnel.load()")

    @classmethod
    def _wrap(cls, handle):
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_funnel_free)
        return self

    @classmethod
    def load(cls, path):
        """A funnel saved with save() (persona_funnel_load). CorruptError for a damaged
        file or one that is not a funnel, VersionError for a newer format,
        PersonaIOError (an OSError) when it cannot be read."""
        handle = FunnelHandle()
        lib.persona_funnel_load(byref(handle), os.fsencode(path))
        return cls._wrap(handle)

    def save(self, path):
        """Save the funnel (persona_funnel_save): written under a temporary name and
        renamed, so ``path`` holds the old file or the new one."""
        lib.persona_funnel_save(self._live(), os.fsencode(path))

    # ------------------------------------------------------------------ shape

    def __len__(self):
        """Number of steps."""
        out = c_size_t()
        lib.persona_funnel_step_count(byref(out), self._live())
        return out.value

    @property
    def steps(self):
        """The event type of every step, in order."""
        handle = self._live()
        return [read_string(lib.persona_funnel_step_event, handle, j, capacity=64)
                for j in range(len(self))]

    @property
    def options(self):
        """The options the funnel was built with, as a dict (the ``options`` object of the
        JSON export: steps, exclusions, window_ms, order, count, hold_property,
        trend_period, utc_offset_minutes, consent_purpose, from_ms, to_ms,
        session_gap_ms)."""
        return json.loads(self.export("json"))["options"]

    # ------------------------------------------------------------------ per step

    def units(self, step):
        """Units (users, sessions or entries, per ``count``) that reached a step (0-based
        index)."""
        out = c_uint64()
        lib.persona_funnel_units(byref(out), self._live(), _index(step, "step"))
        return out.value

    def counts(self):
        """units() of every step, as a list."""
        return [self.units(j) for j in range(len(self))]

    def conversion(self, step):
        """(from_prev, from_first) of a step (0-based): its units over the previous
        step's (1.0 for the first step) and over the first step's; None where the divisor
        is 0."""
        prev, first = c_double(), c_double()
        lib.persona_funnel_conversion(byref(prev), byref(first), self._live(),
                                      _index(step, "step"))
        return _ratio(prev.value), _ratio(first.value)

    def conversions(self):
        """conversion() of every step, as a list of pairs."""
        return [self.conversion(j) for j in range(len(self))]

    def time_quantile(self, step, q):
        """A quantile (0 <= q <= 1, linear interpolation as numpy's default) of the time
        from the previous step to this one (0-based), in seconds as a float, over the
        units that reached it; None for the first step or when no unit reached it."""
        if not isinstance(q, numbers.Real) or isinstance(q, bool):
            raise TypeError(f"q must be a number, not {type(q).__name__}")
        out = c_double()
        lib.persona_funnel_time_quantile(byref(out), self._live(), _index(step, "step"),
                                         float(q))
        return _seconds(out.value)

    def median_seconds(self, step):
        """time_quantile(step, 0.5)."""
        return self.time_quantile(step, 0.5)

    def time_histogram(self, step):
        """How many units took how long from the previous step to this one (0-based): a
        list of 8 counts, one per bucket of HISTOGRAM_LABELS / HISTOGRAM_BOUNDS (all zero
        for the first step)."""
        n = len(self.HISTOGRAM_LABELS)
        counts, out_len = (c_uint64 * n)(), c_size_t()
        lib.persona_funnel_time_histogram(counts, n, byref(out_len), self._live(),
                                          _index(step, "step"))
        return list(counts[:out_len.value])

    def rows(self):
        """One dict per step with the columns of the CSV export: step (1-based), event,
        users, conversion_from_prev, conversion_from_first, median_seconds_from_prev (None
        where the CSV is empty)."""
        rows = []
        for j, event in enumerate(self.steps):
            prev, first = self.conversion(j)
            rows.append(dict(zip(ROW_COLUMNS, (j + 1, event, self.units(j), prev, first,
                                               self.median_seconds(j)))))
        return rows

    # ------------------------------------------------------------------ trend

    def trend(self):
        """[(period start as an aware datetime in UTC, units that entered, units of those
        that reached the last step)], from the first to the last period with an entry
        (empty periods included). A unit counts in the period of its path's first step."""
        handle = self._live()
        size = c_size_t()
        lib.persona_funnel_trend_count(byref(size), handle)
        start, entered, converted = c_int64(), c_uint64(), c_uint64()
        out = []
        for i in range(size.value):
            lib.persona_funnel_trend_at(byref(start), byref(entered), byref(converted),
                                        handle, i)
            out.append((to_datetime(start.value), entered.value, converted.value))
        return out

    # ------------------------------------------------------------------ users

    def stage_of(self, user):
        """A user's furthest step number: 0 when they never entered (or are unknown), k
        when they reached step k (1-based). In sessions or totals mode, the furthest over
        their units."""
        out = c_int32()
        lib.persona_funnel_stage_of(byref(out), self._live(), encode(user, "user"))
        return out.value

    @property
    def user_count(self):
        """Number of users who entered (stage >= 1)."""
        out = c_size_t()
        lib.persona_funnel_user_count(byref(out), self._live())
        return out.value

    def users(self):
        """[(user key, stage)] of every user who entered, in bytewise key order."""
        handle = self._live()
        stage = c_int32()
        out = []
        for i in range(self.user_count):
            key = read_string(lib.persona_funnel_user_at, byref(stage), handle, i)
            out.append((key, stage.value))
        return out

    # ------------------------------------------------------------------ pandas

    def to_pandas(self):
        """The step table as a pandas DataFrame indexed by ``step`` (1-based), columns
        event, users (int64), conversion_from_prev, conversion_from_first,
        median_seconds_from_prev (float64, NaN where the CSV export is empty): the CSV
        export, typed. ImportError without pandas (rows() gives the same as dicts)."""
        pd = _optional.require_pandas("Funnel.to_pandas()")
        rows = self.rows()
        frame = pd.DataFrame({
            "event": pd.Series([r["event"] for r in rows], dtype=object),
            "users": pd.Series([r["users"] for r in rows], dtype="int64"),
            **{name: pd.Series([_nan(r[name]) for r in rows], dtype="float64")
               for name in ROW_COLUMNS[3:]},
        })
        frame.index = pd.Index([r["step"] for r in rows], name="step", dtype="int64")
        return frame

    def trend_pandas(self):
        """trend() as a DataFrame indexed by ``period_start`` (datetime64, UTC), columns
        entered, converted (int64) and conversion (converted / entered, NaN for an empty
        period). ImportError without pandas."""
        pd = _optional.require_pandas("Funnel.trend_pandas()")
        trend = self.trend()
        index = pd.DatetimeIndex([t for t, _, _ in trend], name="period_start")
        if not trend:
            index = pd.DatetimeIndex([], tz="UTC", name="period_start")
        return pd.DataFrame({
            "entered": pd.Series([e for _, e, _ in trend], dtype="int64", index=index),
            "converted": pd.Series([c for _, _, c in trend], dtype="int64", index=index),
            "conversion": pd.Series([c / e if e else math.nan for _, e, c in trend],
                                    dtype="float64", index=index),
        }, index=index)

    def stages_pandas(self):
        """users() as a DataFrame indexed by ``user`` (str), one int64 column ``stage``: the
        stages CSV export, typed. ImportError without pandas."""
        pd = _optional.require_pandas("Funnel.stages_pandas()")
        users = self.users()
        index = pd.Index([u for u, _ in users], name="user", dtype=object)
        return pd.DataFrame({"stage": pd.Series([s for _, s in users], dtype="int64",
                                                index=index)}, index=index)

    # ------------------------------------------------------------------ export

    def export(self, format="csv", file=None):
        """The funnel as text: "csv" (the step table), "json" (options, steps with time
        quantiles and histograms, trend and number of users; one line) or "stages" (CSV
        ``user,stage`` of every user who entered). With ``file`` (a binary or text file
        object) the export is streamed to it (persona_funnel_export) and None is
        returned."""
        fmt = _choice(format, EXPORT_FORMATS, "export format")
        if file is None:
            return take_owned_string(lib.persona_funnel_export_buffer, self._live(), fmt)
        from .store import _byte_sink
        write, finish = _byte_sink(file)

        def write_piece(ctx, data, size):
            write(ctypes.string_at(data, size))
            return 0

        guard = CallbackGuard()
        writer = WRITE_FN(guard.wrap(write_piece))
        with reraising(guard):
            lib.persona_funnel_export(self._live(), fmt, writer, None)
        finish()
        return None

    # ------------------------------------------------------------------ combining

    def merge(self, other):
        """Add a funnel built with the same options over other users
        (persona_funnel_merge); this funnel then equals one built over both sets of users.
        InvalidArgumentError (a ValueError) naming the first option that differs, or a
        user present in both; this funnel is unchanged on failure."""
        if not isinstance(other, Funnel):
            raise TypeError(f"can only merge a Funnel, not {type(other).__name__}")
        lib.persona_funnel_merge(self._live(), other._live())

    def __repr__(self):
        if self.closed:
            return "<persona.Funnel closed>"
        return f"<persona.Funnel {' > '.join(self.steps)}>"
