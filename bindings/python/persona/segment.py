"""Rule segments (segment.h): a rule set compiled once and evaluated on the profiles of a
store.

    rules = persona.Rules('''
        vip:      value > 1000 and orders >= 5
        lapsing:  stopped("purchase", 60d) and consent("marketing")
        night:    ctx.hour between 0 and 5
    ''', mode="all")
    rules.assign(store, "u1")                  # ["vip"]
    rules.assign(store, "u1", now="2024-03-01", hour=3)
    print(rules.explain(store, "u1"))          # which clause admitted or rejected u1
    rules.scan(store)                          # every (user, segment) membership
    rules.counts(store)                        # {"vip": 12, "lapsing": 40, ..., None: 948}

The rule language is documented in docs/rules.md. Every evaluation takes the same three
optional keywords, the fields of persona_eval_context:

* ``now``: the time the rules are evaluated as of (int ms since the epoch, a datetime --
  naive = UTC -- or a str such as "2024-03-01T12:00:00Z"); events after it are ignored
  everywhere. None (the default) = the store's clock, the time of its latest event.
* ``context``: the request context read by ``ctx.NAME``: a mapping of field names to str
  values (None = absent), e.g. ``{"country": "DE", "referrer": "newsletter"}``.
* ``hour``: ``ctx.hour``, an int 0..23, or None (absent; ``ctx.hour`` comparisons are
  then false). It is not derived from ``now``: it is the request's local hour, which only
  the host knows. A context key "hour" is refused (``ctx.hour`` never reads it).
"""
import ctypes
import numbers
import os
from collections.abc import Mapping
from ctypes import byref, c_char_p, c_int32, c_size_t, c_uint32, c_uint64

from . import _optional
from ._callbacks import CallbackGuard, reraising
from ._capi import SegmentModelHandle, encode, lib, new_struct, read_string
from ._handle import Handle
from ._structs import MEMBER_FN, persona_eval_context, persona_segment_options
from .cohort import _choice, time_ms

#: Assignment modes (PERSONA_SEGMENT_FIRST_MATCH, _ALL_MATCHES).
MODES = {"first": 0, "all": 1}
MODE_NAMES = {value: name for name, value in MODES.items()}

#: ``persona_eval_context.now_ms`` meaning "the store's clock" (PERSONA_NOW_STORE).
NOW_STORE = -2 ** 63

#: Most worker threads persona_segment_model_scan() accepts.
MAX_THREADS = 1024


# --------------------------------------------------------------------------- arguments

def _text(value, what):
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return encode(value, what)


def _hour(value):
    if value is None:
        return -1
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"hour must be an int 0..23 or None, not {type(value).__name__}")
    if not 0 <= value <= 23:
        raise ValueError(f"hour {value} is out of range: ctx.hour is 0..23 (None = absent)")
    return int(value)


def _threads(value):
    if value is None:
        return 0
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"threads must be an int, not {type(value).__name__}")
    if not 0 <= value <= MAX_THREADS:
        raise ValueError(f"threads {value} is out of range [0, {MAX_THREADS}] "
                         "(0 = one per core)")
    return int(value)


def eval_context(now=None, context=None, hour=None):
    """(persona_eval_context, what it points to). The second item must be kept alive until
    the C call has returned."""
    ctx = new_struct(persona_eval_context)  # no fields, no hour, the store's clock
    keep = []
    ctx.hour = _hour(hour)
    ctx.now_ms = NOW_STORE if now is None else time_ms(now, "now")
    if context is not None:
        if not isinstance(context, Mapping):
            raise TypeError("context must be a mapping of field names to str values, not "
                            f"{type(context).__name__}")
        names, values = [], []
        for name, value in context.items():
            if not isinstance(name, (str, bytes)):
                raise TypeError(f"context field names must be str, not {type(name).__name__}")
            if name in ("hour", b"hour"):
                raise ValueError("context key 'hour': ctx.hour is the hour= argument (an int "
                                 "0..23), not a context field")
            if value is not None and not isinstance(value, (str, bytes)):
                raise TypeError(f"context field {name!r}: values must be str or None, not "
                                f"{type(value).__name__}")
            names.append(encode(name, "context field name"))
            values.append(encode(value, f"context field {name!r}"))
        if names:
            name_array = (c_char_p * len(names))(*names)
            value_array = (c_char_p * len(values))(*values)
            keep += [names, values, name_array, value_array]
            ctx.names = ctypes.cast(name_array, ctypes.POINTER(c_char_p))
            ctx.values = ctypes.cast(value_array, ctypes.POINTER(c_char_p))
            ctx.count = len(names)
    return ctx, keep


def _store_handle(store):
    from .store import Store
    if not isinstance(store, Store):
        raise TypeError(f"expected a persona.Store, not {type(store).__name__}")
    return store._live()


def _member_row(names, user, size, segment):
    """One membership of a scan as (user key, segment name)."""
    return ctypes.string_at(user, size).decode("utf-8"), names[segment]


# --------------------------------------------------------------------------- the rule set

class Rules(Handle):
    """A segment model: an ordered set of named rule and list segments
    (persona_segment_model).

    ``Rules(text, mode="first")`` compiles a rule-set text of ``NAME: expression`` segments
    (docs/rules.md; persona_segment_model_compile); ``Rules()`` (no text) is an empty set
    to fill with add() and add_list(). ``mode`` is "first" (a user belongs to the first
    segment, in order, whose rule is true) or "all" (to every segment whose rule is true).
    ParseError (a ValueError) with ``line`` and ``column`` (1-based) for text that does
    not compile; ValueError for an unknown mode.

    Thread-safety (segment.h): immutable once built. add() and add_list() are building
    steps and must not race with other calls on the same object; after that any number of
    threads may evaluate one rule set at once, also while the store is being written (the
    GIL is released during each C call). close() must not race with other calls. There are
    no locks in Python.
    """

    _kind = "rule set"
    _names = None  # cached segment names; reset by add() and add_list()
    _paths = None  # the PathModel next_event() reads (use_paths), kept open while attached

    def __init__(self, text=None, mode="first"):
        opts = new_struct(persona_segment_options)
        opts.mode = _choice(mode, MODES, "mode")
        handle = SegmentModelHandle()
        if text is None:
            lib.persona_segment_model_new(byref(handle), byref(opts))
        else:
            data = _text(text, "rule text")
            lib.persona_segment_model_compile(byref(handle), data, len(data), byref(opts))
        self._adopt(handle, lib.persona_segment_model_free)

    @classmethod
    def load(cls, path):
        """A rule set saved with save() (persona_segment_model_load); the rules are
        compiled again. CorruptError for a damaged file, one that is not a rule set, or a
        rule that no longer compiles; VersionError for a newer format; PersonaIOError (an
        OSError) when it cannot be read."""
        handle = SegmentModelHandle()
        lib.persona_segment_model_load(byref(handle), os.fsencode(path))
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_segment_model_free)
        return self

    def use_paths(self, paths):
        """Give ``next_event()`` in the rules a path model to predict from
        (persona_segment_model_use_paths): the most likely next state of the user's latest
        session in ``paths`` (a PathModel, e.g. from Store.paths()); missing for a user
        without a session in it, and for everyone while none is attached. None detaches.
        While attached the path model cannot be closed (ValueError). save() does not keep
        it: attach it again after load()."""
        from .paths import PathModel
        if paths is not None and not isinstance(paths, PathModel):
            raise TypeError(f"paths must be a PathModel or None, not {type(paths).__name__}")
        lib.persona_segment_model_use_paths(self._live(), None if paths is None else paths._live())
        if paths is not None:
            paths._attach(self)
        self._paths = paths

    def save(self, path):
        """Save the rule set -- rule texts, lists and mode -- (persona_segment_model_save):
        written under a temporary name and renamed, so ``path`` holds the old file or the
        new one."""
        lib.persona_segment_model_save(self._live(), os.fsencode(path))

    # ------------------------------------------------------------------ building

    def add(self, name, expr):
        """Append a rule segment ``name`` with the expression ``expr``
        (persona_segment_model_add_rule); in_segment() may name segments already in the
        set. ParseError with ``line`` / ``column`` within ``expr``; InvalidArgumentError (a
        ValueError) for an empty, too long or duplicate name. The set is unchanged on
        error."""
        data = _text(expr, "rule expression")
        handle, name = self._live(), _text(name, "segment name")
        self._names = None
        lib.persona_segment_model_add_rule(handle, name, data, len(data))

    def add_list(self, name, keys):
        """Append a static list segment (persona_segment_model_add_list): a user is a
        member when any identifier of their profile is one of ``keys`` (an iterable of
        str, compared byte for byte; duplicates are fine). InvalidArgumentError for a bad
        name or key (the message gives its index)."""
        if isinstance(keys, (str, bytes)):
            raise TypeError("keys must be an iterable of user keys, not a single str")
        encoded = [_text(k, "list key") for k in keys]
        array = (c_char_p * max(len(encoded), 1))(*encoded)
        handle, name = self._live(), _text(name, "segment name")
        self._names = None
        lib.persona_segment_model_add_list(handle, name, array, len(encoded))

    # ------------------------------------------------------------------ shape

    def __len__(self):
        """Number of segments."""
        out = c_size_t()
        lib.persona_segment_model_count(byref(out), self._live())
        return out.value

    @property
    def mode(self):
        """"first" or "all"."""
        out = c_int32()
        lib.persona_segment_model_mode(byref(out), self._live())
        return MODE_NAMES.get(out.value, out.value)

    def _name_list(self):
        """The segment names, read once and kept until add() or add_list()."""
        handle = self._live()
        names = self._names
        if names is None:
            count = c_size_t()
            lib.persona_segment_model_count(byref(count), handle)
            names = [read_string(lib.persona_segment_model_name, handle, i, capacity=64)
                     for i in range(count.value)]
            self._names = names
        return names

    @property
    def names(self):
        """The segment names, in order (a new list)."""
        return list(self._name_list())

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name):
        return isinstance(name, (str, bytes)) and self._find(name) is not None

    def index(self, name):
        """0-based position of a segment; NotFoundError (a KeyError) for an unknown name."""
        out = c_size_t()
        lib.persona_segment_model_find(byref(out), self._live(), _text(name, "segment name"))
        return out.value

    def _find(self, name):
        try:
            return self.index(name)
        except KeyError:
            return None

    def rule(self, name):
        """The source text of a segment's rule as written ("" for a list segment).
        NotFoundError (a KeyError) for an unknown name."""
        return read_string(lib.persona_segment_model_rule, self._live(), self.index(name))

    # ------------------------------------------------------------------ evaluation

    def assign(self, store, key, now=None, context=None, hour=None):
        """The segments of one user, in set order: at most one in "first" mode, every
        match in "all" mode (persona_segment_model_assign). A key the store does not know is
        evaluated as an empty profile, so context-only rules still apply to new visitors.
        ``now``, ``context``, ``hour`` as in the module doc."""
        names = self._name_list()
        ctx, keep = eval_context(now, context, hour)
        capacity = len(names)
        out, count = (c_uint32 * max(capacity, 1))(), c_size_t()
        lib.persona_segment_model_assign(out, capacity, byref(count), self._live(),
                                         _store_handle(store), encode(key, "user"), byref(ctx))
        del keep
        return [names[out[i]] for i in range(count.value)]

    def test(self, store, key, name, now=None, context=None, hour=None):
        """Whether one segment's rule holds for a user, whatever the mode (as in_segment()
        sees it; persona_segment_model_test). NotFoundError (a KeyError) for an unknown
        segment name."""
        index = self.index(name)
        ctx, keep = eval_context(now, context, hour)
        out = c_int32()
        lib.persona_segment_model_test(byref(out), self._live(), index, _store_handle(store),
                                       encode(key, "user"), byref(ctx))
        del keep
        return bool(out.value)

    def explain(self, store, key, now=None, context=None, hour=None):
        """Why a user is or is not in each segment, as text (persona_segment_model_describe):
        one line ``NAME: yes|no`` per segment, then the clauses that decided it with their
        values and the values of their operands, e.g. ``  value > 1000 is false (value =
        532.5)``. In "first" mode the segments after the match read ``not reached``."""
        ctx, keep = eval_context(now, context, hour)
        text = read_string(lib.persona_segment_model_describe, self._live(),
                           _store_handle(store), encode(key, "user"), byref(ctx),
                           capacity=1024)
        del keep
        return text

    def _scan(self, store, now, context, hour, threads, rows):
        names = self._name_list()
        handle = self._live()
        ctx, keep = eval_context(now, context, hour)
        threads = _threads(threads)
        store_handle = _store_handle(store)
        counts, none = (c_uint64 * max(len(names), 1))(), c_uint64()
        guard, member = None, MEMBER_FN()  # a NULL function pointer: counts only
        if rows is not None:
            guard = CallbackGuard()

            def on_member(_ctx, user, size, segment):
                rows.append(_member_row(names, user, size, segment))
                return 0

            member = MEMBER_FN(guard.wrap(on_member))
        with reraising(guard):
            lib.persona_segment_model_scan(counts, len(names), byref(none), handle,
                                           store_handle, byref(ctx), member, None, threads)
        del keep
        return names, list(counts[:len(names)]), none.value

    def scan(self, store, now=None, context=None, hour=None, threads=0, frame=None):
        """Every (user, segment) membership of the store's profiles
        (persona_segment_model_scan), in the store's user order, then set order; users in
        no segment do not appear. One row per profile, equal to assign() for its key: when
        identifiers were linked into one profile (Store.alias()), it appears once, under the
        key Store.resolve() names it by, though Store.users() lists every identifier and
        assign() gives the profile's segments for any of them.

        Returns a pandas DataFrame with the str columns ``user`` and ``segment`` when pandas
        is installed, else a list of ``(user, segment)`` tuples; ``frame=True`` / ``False``
        asks for one or the other (ImportError for True without pandas). ``threads``: worker
        threads, 0 = one per core; the result does not depend on it. ``context`` applies
        to every user. The store's read lock is held during the scan."""
        if frame:
            pd = _optional.require_pandas("Rules.scan(frame=True)")
        elif frame is None:
            pd = _optional.pandas()
        else:
            pd = None
        rows = []
        self._scan(store, now, context, hour, threads, rows)
        if pd is None:
            return rows
        return pd.DataFrame({
            "user": pd.Series([u for u, _ in rows], dtype=object),
            "segment": pd.Series([s for _, s in rows], dtype=object),
        })

    def counts(self, store, now=None, context=None, hour=None, threads=0):
        """Members per segment over the store's profiles (persona_segment_model_scan without
        the memberships): a dict from segment name to users (profiles, as in scan()), in
        set order, and last the key ``None`` with the users in no segment. In "first" mode the values add up to the
        number of profiles; in "all" mode a user counts in every segment they are in."""
        names, counts, none = self._scan(store, now, context, hour, threads, None)
        result = dict(zip(names, counts))
        result[None] = none  # users in no segment
        return result

    def migration(self, store, start, end, frame=None):
        """Users by (segment as of ``start``, segment as of ``end``): a first-match rule
        set's migration matrix (persona_segment_model_migration; see
        persona.stability.migration). Rows and columns are the segment names and last
        "(none)"; a pandas DataFrame (index "from", columns "to") when pandas is installed,
        else ``(labels, matrix)``. Each profile counts once, as assign() evaluates its key
        with ``now`` = each time (None = the store's clock)."""
        from .stability import migration
        return migration(self, store, start, end, frame=frame)

    def __repr__(self):
        if self.closed:
            return "<persona.Rules closed>"
        names = self.names
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return f"<persona.Rules {self.mode}: {shown}>" if names else \
            f"<persona.Rules {self.mode}: empty>"
