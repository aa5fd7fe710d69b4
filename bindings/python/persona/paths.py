"""Paths (path.h): each user's events cut into sessions and mapped to states, Markov models
of order 1 to 4 with the likely next state of a history or of a user's current session
(with back-off), and a path explorer.

    model = store.paths(order=2, state_prop="page", rules=[("product/*", "product")])
    model.next(["home", "product"], top=3)      # DataFrame event, probability
    model.next_user("u1")                       # the user's current session as the history
    model.transitions()                         # DataFrame from, to, count, probability
    model.top_paths(start="home", top=10)       # DataFrame path, count
    model.goal_paths("checkout")                # DataFrame path, count, conversions, rate
    model.dropoffs()                            # DataFrame step, path, sessions, dropoffs, rate

Every session is the path ("(start)", s1, ..., sn, "(end)"); paths are tuples of state
names. Tables are pandas DataFrames when pandas is installed, else lists of dicts. A
PathModel is immutable: any number of threads may query it (the GIL is released during
calls). docs/paths.md has the definitions.
"""
import weakref
from ctypes import byref, sizeof, c_char_p, c_double, c_int32, c_size_t, c_uint32, c_uint64

from . import _optional
from ._capi import (BufferTooSmallError, PathHandle, PathListHandle, encode, lib, new_struct,
                    read_string)
from ._handle import Handle
from ._structs import persona_path_info, persona_path_options, persona_path_query, persona_path_rule

START, END, NONE = "(start)", "(end)", "(none)"
MAX_ORDER = 4
NO_STATE = 0xFFFFFFFF
_TOP, _GOAL, _DROPOFF = 0, 1, 2


def _table(columns, rows):
    pd = _optional.pandas()
    if pd is not None:
        return pd.DataFrame(rows, columns=list(columns))
    return [dict(zip(columns, r)) for r in rows]


def _int(value, what, low=0, high=None):
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (
            high is not None and value > high):
        bounds = f"from {low}" + (f" to {high}" if high is not None else "")
        raise ValueError(f"{what} must be an int {bounds}, not {value!r}")
    return value


def _duration_ms(value):
    if value is None:
        return 0
    if hasattr(value, "total_seconds"):
        return int(value.total_seconds() * 1000)
    return _int(value, "session_gap", 1)


class _List:
    """The rows of a persona_path_list: (states, count, extra)."""

    def __init__(self, handle):
        self.handle = handle

    def rows(self):
        n = c_size_t()
        lib.persona_path_list_size(byref(n), self.handle)
        cap = 16
        buf = (c_uint32 * cap)()
        count, extra, length = c_uint64(), c_uint64(), c_size_t()
        for r in range(n.value):
            while True:
                try:
                    lib.persona_path_list_row(buf, cap, byref(length), byref(count),
                                              byref(extra), self.handle, r)
                    break
                except BufferTooSmallError:
                    cap = length.value
                    buf = (c_uint32 * cap)()
            yield list(buf[:length.value]), count.value, extra.value

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        lib.persona_path_list_free(self.handle)
        return False


class PathModel(Handle):
    """A path model (persona_path_model). Made by Store.paths(), PathModel.load() or
    merge(); does not depend on the store it was built from."""

    _kind = "path model"

    _rule_sets = None  # the Rules that use it (Rules.use_paths), weakly

    def __init__(self, handle):
        self._adopt(handle, lib.persona_path_free)
        self._names = None

    def _attach(self, rules):
        if self._rule_sets is None:
            self._rule_sets = weakref.WeakSet()
        self._rule_sets.add(rules)

    def close(self):
        """Free the model. ValueError while an open rule set uses it (Rules.use_paths):
        detach it with use_paths(None) or close the rule set first."""
        if any(r._paths is self and not r.closed for r in (self._rule_sets or ())):
            raise ValueError("the path model is used by a rule set's next_event(): detach it "
                             "(Rules.use_paths(None)) or close the rule set first")
        super().close()

    @classmethod
    def build(cls, store, order=1, *, session_gap=None, session_prop=None, state_prop=None,
              rules=None, consent=None):
        """persona_path_build: ``order`` 1 to 4; ``session_gap``: ms or a timedelta (default
        the store's); ``session_prop``: sessions by a session-id property instead;
        ``state_prop``: states from a property instead of the event type (events without it
        are "(none)"); ``rules``: (glob pattern, state) pairs tried in order, state None drops
        the event; ``consent``: only users who granted this purpose."""
        _int(order, "order", 1, MAX_ORDER)
        o = new_struct(persona_path_options)
        o.order = order
        o.session_gap_ms = _duration_ms(session_gap)
        keep = []

        def text(value, what):
            keep.append(encode(value, what))
            return keep[-1]

        if session_prop is not None:
            o.session_prop = text(session_prop, "session property")
        if state_prop is not None:
            o.state_prop = text(state_prop, "state property")
        if consent is not None:
            o.consent_purpose = text(consent, "consent purpose")
        if rules:
            rules = list(rules)
            arr = (persona_path_rule * len(rules))()
            for r, (pattern, state) in zip(arr, rules):
                lib.persona_path_rule_init(byref(r), sizeof(r))
                r.pattern = text(pattern, "rule pattern")
                r.state = text(state, "rule state") if state is not None else None
            keep.append(arr)
            o.rules = arr
            o.n_rules = len(rules)
        handle = PathHandle()
        lib.persona_path_build(byref(handle), store._live(), byref(o))
        del keep
        return cls(handle)

    @classmethod
    def load(cls, path):
        """A model saved with save() (persona_path_load)."""
        handle = PathHandle()
        lib.persona_path_load(byref(handle), encode(str(path), "path"))
        return cls(handle)

    def save(self, path):
        """Save as a snapshot file (persona_path_save; replaced atomically)."""
        lib.persona_path_save(self._live(), encode(str(path), "path"))

    def merge(self, other):
        """A new model of both partitions (persona_path_merge): equal to one built on all
        their users (users must be disjoint, options equal)."""
        handle = PathHandle()
        lib.persona_path_merge(byref(handle), self._live(), other._live())
        return PathModel(handle)

    @property
    def info(self):
        """dict: order, states, sessions, users, events, skipped, contexts, transitions."""
        i = new_struct(persona_path_info)
        lib.persona_path_info_get(byref(i), self._live())
        return {k: getattr(i, k) for k in ("order", "states", "sessions", "users", "events",
                                           "skipped", "contexts", "transitions")}

    @property
    def states(self):
        """Every state name, in bytewise order (index = position)."""
        if self._names is None:
            n = self.info["states"]
            self._names = [read_string(lib.persona_path_state_name, self._live(), i)
                           for i in range(n)]
        return list(self._names)

    def _name(self, index):
        if self._names is None:
            self.states
        return self._names[index]

    def _index(self, name):
        out = c_uint32()
        try:
            lib.persona_path_state_find(byref(out), self._live(), encode(name, "state"))
        except LookupError:
            return NO_STATE
        return out.value

    def _order(self, order):
        top = self.info["order"]
        if order is None:
            return top
        return _int(order, "order", 1, top)

    def _answer(self, call, top):
        _int(top, "top", 1)
        states, probs = (c_uint32 * top)(), (c_double * top)()
        n, used = c_size_t(), c_int32()
        call(states, probs, top, byref(n), byref(used))
        self.last_order = used.value
        return _table(("event", "probability"),
                      [(self._name(states[i]), probs[i]) for i in range(n.value)])

    def next(self, history, top=5, order=None):
        """The likely next states after ``history`` (state names, oldest first; start with
        "(start)" for the beginning of a session): DataFrame event, probability, by
        probability descending (persona_path_next). Unseen histories back off to shorter
        ones, then to every transition's target; the order that answered is then in
        ``self.last_order`` (of the latest call on this object: with several threads
        querying one model, read it from the thread's own call only if calls do not
        overlap)."""
        if isinstance(history, str):
            history = [history]
        ids = [self._index(h) for h in history]
        arr = (c_uint32 * max(1, len(ids)))(*ids)
        order = self._order(order)
        return self._answer(lambda s, p, t, n, u: lib.persona_path_next(
            s, p, t, n, u, self._live(), arr, len(ids), order), top)

    def next_user(self, user, top=5, order=None):
        """next() for a user's current session ("(start)" and their latest session in the
        model; persona_path_next_user). LookupError for a user without a session."""
        order = self._order(order)
        key = encode(user, "user")
        return self._answer(lambda s, p, t, n, u: lib.persona_path_next_user(
            s, p, t, n, u, self._live(), key, order), top)

    def transitions(self, order=None):
        """The transition table of ``order`` (default the model's; 0 = every target):
        DataFrame from, to, count, probability; ``from`` is the context's states joined by
        " > " (rows by context, then count descending)."""
        order = self.info["order"] if order is None else _int(order, "order", 0, self.info["order"])
        h = PathListHandle()
        lib.persona_path_transitions(byref(h), self._live(), order)
        rows = []
        with _List(h) as lst:
            for st, count, total in lst.rows():
                rows.append((" > ".join(self._name(s) for s in st[:-1]), self._name(st[-1]),
                             count, count / total))
        return _table(("from", "to", "count", "probability"), rows)

    def _explore(self, kind, start, end, goal, exclude, max_steps, top):
        q = new_struct(persona_path_query)
        q.kind = kind
        keep = [encode(x, "state") for x in (start, end, goal)]
        q.start_state, q.end_state, q.goal_state = keep
        if exclude:
            if isinstance(exclude, str):
                exclude = [exclude]
            arr = (c_char_p * len(exclude))(*[encode(e, "state") for e in exclude])
            keep.append(arr)
            q.exclude = arr
            q.n_exclude = len(exclude)
        q.max_steps = _int(max_steps, "max_steps", 1)
        q.top = 0 if top is None else _int(top, "top", 1)
        h = PathListHandle()
        lib.persona_path_explore(byref(h), self._live(), byref(q))
        with _List(h) as lst:
            return [(tuple(self._name(s) for s in st), c, x) for st, c, x in lst.rows()]

    def top_paths(self, *, start=None, end=None, exclude=None, max_steps=10, top=None):
        """Most frequent session paths: from the first ``start`` (default "(start)") to the
        next ``end`` (default "(end)"), ``exclude``d states removed, at most ``max_steps``
        states: DataFrame path (tuple), count."""
        rows = self._explore(_TOP, start, end, None, exclude, max_steps, top)
        return _table(("path", "count"), [(p, c) for p, c, _ in rows])

    def goal_paths(self, goal, *, exclude=None, max_steps=10, top=None):
        """Paths to a goal: each session's states before the first ``goal`` (or its whole
        path when it never gets there), the last ``max_steps``: DataFrame path, count,
        conversions, conversion_rate."""
        rows = self._explore(_GOAL, None, None, goal, exclude, max_steps, top)
        return _table(("path", "count", "conversions", "conversion_rate"),
                      [(p, c, x, x / c) for p, c, x in rows])

    def dropoffs(self, *, start=None, end=None, exclude=None, max_steps=10, top=None):
        """Drop-offs after each step: every prefix of the top_paths() paths: DataFrame step
        (its length), path, sessions (reaching it), dropoffs (ending right after it),
        dropoff_rate."""
        rows = self._explore(_DROPOFF, start, end, None, exclude, max_steps, top)
        return _table(("step", "path", "sessions", "dropoffs", "dropoff_rate"),
                      [(len(p), p, c, x, x / c) for p, c, x in rows])
