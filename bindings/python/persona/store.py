"""The profile store (store.h)."""
import codecs
import ctypes
import dataclasses
import datetime
import io
import json
import numbers
import os
import threading
import time as _time
from ctypes import byref, c_double, c_int32, c_int64, c_size_t, c_uint32, c_uint64

from . import _optional
from ._callbacks import CallbackGuard, reraising
from ._capi import (EMISUSE, MisuseError, NotFoundError, PersonaError, StoreHandle, encode,
                    lib, new_struct, read_string, reject_reason_name, take_owned_string)
from .cohort import build as _build_cohort
from .funnel import build as _build_funnel
from ._events import BOOL, NULL, NUM, STR, TIME, EventBatch, attribute_kind
from ._handle import Handle
from ._structs import (PROGRESS_FN, REJECT_SLOTS, SEGMENT_FN, WRITE_FN, persona_alias_result,
                       persona_erase_receipt, persona_ingest_options, persona_ingest_stats,
                       persona_profile_info, persona_store_info, persona_store_options)
from .identity import AliasResult, id_type, identifier_array
from .times import TIME_MAX, TIME_MIN, duration_ms, to_datetime, to_ms

EXPORT_FORMATS = {"csv": 1, "jsonl": 2}  # PERSONA_EXPORT_PROFILES_CSV / _JSONL
INGEST_STRICT = 1                        # PERSONA_INGEST_STRICT
ATTRIBUTE_SETTERS = {NUM: lib.persona_store_attr_set_num, STR: lib.persona_store_attr_set_str,
                     BOOL: lib.persona_store_attr_set_bool,
                     TIME: lib.persona_store_attr_set_time}
EXPECTED_KINDS = {float: NUM, int: NUM, str: STR, bool: BOOL, datetime.datetime: TIME}
KIND_TYPES = {NULL: type(None), NUM: float, STR: str, BOOL: bool, TIME: datetime.datetime}
LIVE_SEGMENT_MAX = 64                    # PERSONA_LIVE_SEGMENT_MAX


def _reason_name(reason):
    name = reject_reason_name(reason)
    return name if name != "unknown" else f"reason_{reason}"


@dataclasses.dataclass
class IngestStats:
    """What one ingest or load did (persona_ingest_stats). ``rejected`` maps reason names
    ("missing_user", "bad_time", ...) to counts, for reasons that occurred; ``examples``
    maps the same names to the first line numbers (1-based event index for ingest, file
    line for CSV with the header as line 1, line for JSONL, event ordinal otherwise)."""

    rows_read: int = 0
    bytes_read: int = 0
    events_accepted: int = 0
    events_rejected: int = 0
    rejected: dict = dataclasses.field(default_factory=dict)
    examples: dict = dataclasses.field(default_factory=dict)
    users_created: int = 0

    @classmethod
    def from_struct(cls, stats):
        reasons = [r for r in range(REJECT_SLOTS) if stats.rejected[r]]
        return cls(
            rows_read=stats.rows_read, bytes_read=stats.bytes_read,
            events_accepted=stats.events_accepted, events_rejected=stats.events_rejected,
            rejected={_reason_name(r): stats.rejected[r] for r in reasons},
            examples={_reason_name(r): [line for line in stats.example_lines[r] if line]
                      for r in reasons},
            users_created=stats.users_created)


def _struct_dict(value):
    return {name: getattr(value, name) for name, _ in value._fields_
            if name not in ("struct_size", "reserved")}


def _ingest_options(strict, progress=None, progress_every=0):
    opts = new_struct(persona_ingest_options)
    opts.flags = INGEST_STRICT if strict else 0
    opts.progress_every = progress_every
    if progress is not None:
        opts.progress = progress
    return opts


def _byte_sink(file):
    """(write(bytes), finish()) for a binary or text file object."""
    if isinstance(file, io.TextIOBase):
        decoder = codecs.getincrementaldecoder("utf-8")()
        return (lambda data: file.write(decoder.decode(data)),
                lambda: file.write(decoder.decode(b"", final=True)))
    return file.write, lambda: None


class _ThreadGuard(CallbackGuard):
    """A CallbackGuard whose pending exception is per thread. Live-segment callbacks run on
    the thread whose call (ingest, load, tick) produced the changes, and a store is shared
    between threads: each call must re-raise its own callbacks' exception, not another
    thread's."""

    def __init__(self):
        self._local = threading.local()
        super().__init__()

    @property
    def pending(self):
        return getattr(self._local, "pending", None)

    @pending.setter
    def pending(self, value):
        self._local.pending = value

    @property
    def delivering(self):
        """How many live-segment callbacks of the store are running on this thread."""
        return getattr(self._local, "delivering", 0)

    def wrap_delivery(self, func):
        """``func`` counted in ``delivering`` while it runs, then wrapped."""
        local = self._local

        def counted(*args):
            local.delivering = getattr(local, "delivering", 0) + 1
            try:
                return func(*args)
            finally:
                local.delivering -= 1
        return self.wrap(counted)


def _segment_callback(guard, on_enter, on_exit):
    """A SEGMENT_FN for a live segment's pair of Python callbacks."""
    def on_change(_ctx, user, size, segment, entered, at_ms):
        func = on_enter if entered else on_exit
        if func is not None:
            func(ctypes.string_at(user, size).decode("utf-8"), segment.decode("utf-8"), at_ms)
        return 0
    return SEGMENT_FN(guard.wrap_delivery(on_change))


def _optional_callable(func, what):
    if func is not None and not callable(func):
        raise TypeError(f"{what} must be callable or None, not {type(func).__name__}")
    return func


class Store(Handle):
    """A profile store: profiles with incrementally maintained traits, typed attributes,
    consent and an event log.

    Thread-safety (store.h): concurrent. Any methods may be called on one store from any
    threads at once; ctypes releases the GIL during each C call, so threads really run in
    parallel. close() must not race with other calls. There are no locks in Python.

    Times are int ms since the epoch (UTC), datetime (naive = UTC) or str; durations are
    int ms or timedelta.

    Live segments (docs/segments.md): add_segment() registers a named rule whose members
    the store keeps exact as events arrive, calling ``on_enter`` / ``on_exit`` from the
    ingest(), load() or tick() that changed them; ``clock``, tick(), live_segments and
    segments_of(key) read them. A callback may read the store but not write to it
    (MisuseError); an exception it raises is re-raised by the call that caused it.
    """

    _kind = "store"
    _segment_guard = None      # _ThreadGuard of the live-segment callbacks
    _segment_callbacks = ()    # their SEGMENT_FN objects, referenced while C may call them
    _segment_names = ()        # cached live segment names (only ever appended to)

    def _adopt(self, handle, free, keepalive=()):
        super()._adopt(handle, free, keepalive)
        self._segment_guard = _ThreadGuard()
        self._segment_callbacks = []

    def close(self):
        """Free the store (with its live segments). Idempotent; any other method
        afterwards raises ValueError. Must not race with other calls on the same store."""
        super().close()
        self._segment_callbacks = []

    def __init__(self, session_gap=None, half_life=None, seed=0):
        """``session_gap``: inactivity that starts a new session (default 30 min);
        ``half_life``: half-life of category engagement (default 30 days); ``seed``: seed
        of the keyed hash (0 = random per store)."""
        opts = new_struct(persona_store_options)
        opts.session_gap_ms = duration_ms(session_gap) if session_gap is not None else 0
        opts.decay_half_life_ms = duration_ms(half_life) if half_life is not None else 0
        opts.hash_seed = seed
        handle = StoreHandle()
        lib.persona_store_new(byref(handle), byref(opts))
        self._adopt(handle, lib.persona_store_free)

    @classmethod
    def open(cls, path):
        """A store saved with save() (persona_store_open). Raises CorruptError for a
        damaged or truncated file, VersionError for one written by a newer libpersona,
        PersonaIOError (an OSError) when it cannot be read. Live segments are not part of
        the snapshot: register them again with add_segment()."""
        handle = StoreHandle()
        lib.persona_store_open(byref(handle), os.fsencode(path))
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_store_free)
        return self

    def save(self, path):
        """Save the store to a snapshot file (persona_store_save): written under a
        temporary name, flushed and renamed over ``path``, so ``path`` always holds either
        the previous snapshot or the new one. Queries from other threads go on meanwhile;
        ingest waits."""
        lib.persona_store_save(self._live(), os.fsencode(path))

    # ------------------------------------------------------------------ events

    def ingest(self, events, strict=False):
        """Validate, deduplicate and apply event dicts (keys: user, time, type, item,
        value, event_id, basket, props). Bad events are counted by reason and skipped;
        with ``strict`` the first bad one raises ParseError (``.line`` = its index + 1)
        and nothing is applied. Returns IngestStats.

        Live segments (add_segment()) are evaluated again for the users of the batch, and
        their callbacks run before this returns. If one raises, the remaining callbacks of
        the batch are skipped and its exception is raised here (with the library's
        CallbackError as ``__cause__``); the events stay applied."""
        batch = EventBatch(events)
        stats = new_struct(persona_ingest_stats)
        opts = _ingest_options(strict)
        handle = self._live()
        with reraising(self._segment_guard):
            lib.persona_store_ingest(byref(stats), handle, batch.pointer, batch.count,
                                     byref(opts))
        return IngestStats.from_struct(stats)

    def load(self, source, strict=False, progress=None, progress_every=0):
        """Drain a Source into the store (persona_store_load). ``progress(rows, bytes)``
        is called about every ``progress_every`` rows (0 = 1,048,576); returning False
        stops the load with CallbackError. An exception raised by the source's, the
        progress or a live segment's callback is re-raised here (live-segment callbacks
        run after each batch the source delivers). On a PersonaError the batches before
        the failing one stay applied; the error's ``stats`` attribute says what was done."""
        self._check_writable("persona_store_load")
        guard = CallbackGuard()
        callback = None
        if progress is not None:
            callback = PROGRESS_FN(guard.wrap(
                lambda ctx, rows, nbytes: -1 if progress(rows, nbytes) is False else 0))
        opts = _ingest_options(strict, callback, progress_every)
        stats = new_struct(persona_ingest_stats)
        with reraising(source._guard, guard, self._segment_guard):
            try:
                lib.persona_store_load(byref(stats), self._live(), source._live(), byref(opts))
            except PersonaError as err:
                err.stats = IngestStats.from_struct(stats)
                raise
        return IngestStats.from_struct(stats)

    def _check_writable(self, what):
        """MisuseError when called from a live-segment callback of this store. The library
        returns PERSONA_EMISUSE itself for ingest, tick and add_segment; its other writers
        would wait forever for the write lock the callback's thread holds for reading."""
        guard = self._segment_guard
        if guard is not None and guard.delivering:
            raise MisuseError(EMISUSE, f"{what}: a live-segment callback must not write to "
                              "the store it came from", what)

    def _write(self, func, *args):
        """A C call that changes the store. Live memberships are re-evaluated without
        callbacks (segment.h), so nothing is expected to be pending; should a live-segment
        callback run during the call and raise, its exception is raised here, as from
        ingest(). Refused from a live-segment callback (MisuseError)."""
        self._check_writable(func.__name__)
        with reraising(self._segment_guard):
            return func(*args)

    # ------------------------------------------------------------------ queries

    def info(self):
        """Sizes and memory accounting (persona_store_info) as a dict."""
        info = new_struct(persona_store_info)
        lib.persona_store_info_get(byref(info), self._live())
        return _struct_dict(info)

    def users(self):
        """Iterate over user keys in order of first appearance."""
        index = 0
        while True:
            try:
                yield read_string(lib.persona_store_user_at, self._live(), index)
            except NotFoundError:
                return
            index += 1

    def event_types(self):
        """Event type names in order of first appearance."""
        count = self.info()["event_types"]
        return [read_string(lib.persona_store_event_type_at, self._live(), i)
                for i in range(count)]

    def profile(self, user):
        """Everything held about a user (persona_store_profile_json, parsed): user_id,
        events, first_seen, last_seen, value_sum, orders, sessions, types, last,
        engagement (at the user's last event), attributes, consent. KeyError-like
        NotFoundError for an unknown user."""
        return json.loads(take_owned_string(lib.persona_store_profile_json, self._live(),
                                            encode(user, "user")))

    def erase(self, user):
        """Erase a person (persona_store_erase): profile, events, their event ids,
        attributes, consent and every string only they held; afterwards the store equals
        one that never saw them. Returns the receipt as a dict (events, identifiers,
        attributes, consents, stale_models). NotFoundError for an unknown user."""
        receipt = new_struct(persona_erase_receipt)
        self._write(lib.persona_store_erase, byref(receipt), self._live(), encode(user, "user"))
        return _struct_dict(receipt)

    def anonymize(self, user):
        """Keep a person's behaviour under a new random key and drop what identifies
        them: the old key, their events' ids and their string attributes
        (persona_store_anonymize). Returns the new key ("anon-" and 16 hex digits)."""
        self._check_writable("persona_store_anonymize")
        with reraising(self._segment_guard):
            return read_string(lib.persona_store_anonymize, None, self._live(),
                               encode(user, "user"), capacity=32)

    def export_profile(self, user):
        """Everything held about one person, for an access or portability request
        (persona_store_export_profile, parsed): ``{"format": "persona-person-1",
        "profile": <as profile()>, "events": [{"time", "type", "item", "basket", "value",
        "props"}, ...]}`` with the user's events in arrival order. NotFoundError for an
        unknown user."""
        return json.loads(take_owned_string(lib.persona_store_export_profile, self._live(),
                                            encode(user, "user")))

    def profile_info(self, user):
        """The scalar traits (persona_profile_info) as a dict: events, first_seen_ms,
        last_seen_ms, value_sum, orders, sessions, event_types, attributes."""
        info = new_struct(persona_profile_info)
        lib.persona_store_profile_get(byref(info), self._live(), encode(user, "user"))
        return _struct_dict(info)

    def type_count(self, user, type):
        """(number of events, summed value) of one event type for a user."""
        count, value = c_uint64(), c_double()
        lib.persona_store_profile_type(byref(count), byref(value), self._live(),
                                       encode(user, "user"), encode(type, "type"))
        return count.value, value.value

    def last(self, user, name):
        """(last value, its time in ms) of a named property of a user."""
        time = c_int64()
        value = read_string(lib.persona_store_profile_last, byref(time), self._live(),
                            encode(user, "user"), encode(name, "property name"))
        return value, time.value

    def engagement(self, user, category, at):
        """Engagement with a category at a time: sum of 2^(-age / half-life) over the
        user's events with that ``category`` property."""
        out = c_double()
        lib.persona_store_profile_engagement(byref(out), self._live(), encode(user, "user"),
                                             encode(category, "category"), to_ms(at))
        return out.value

    # ------------------------------------------------------------------ export

    def export_csv(self):
        """The profiles table as CSV text (one row per user, sorted by key)."""
        return take_owned_string(lib.persona_store_export_buffer, self._live(),
                                 EXPORT_FORMATS["csv"])

    def export_jsonl(self):
        """Every profile as JSON Lines text."""
        return take_owned_string(lib.persona_store_export_buffer, self._live(),
                                 EXPORT_FORMATS["jsonl"])

    def export(self, file, format="csv"):
        """Stream the export ("csv" or "jsonl") to a binary or text file object."""
        write, finish = _byte_sink(file)

        def write_piece(ctx, data, size):
            write(ctypes.string_at(data, size))
            return 0

        guard = CallbackGuard()
        writer = WRITE_FN(guard.wrap(write_piece))
        with reraising(guard):
            lib.persona_store_export(self._live(), EXPORT_FORMATS[format], writer, None)
        finish()

    def profiles(self):
        """Every profile as a list of dicts (the JSON Lines export, parsed)."""
        return [json.loads(line) for line in self.export_jsonl().splitlines() if line]

    def profiles_frame(self):
        """The CSV export as a pandas DataFrame (user_id as str, first_ts/last_ts as
        datetimes in UTC). ImportError without pandas."""
        pd = _optional.require_pandas("Store.profiles_frame()")
        return pd.read_csv(io.StringIO(self.export_csv()), dtype={"user_id": str},
                           keep_default_na=False, na_values={"first_ts": [""], "last_ts": [""]},
                           parse_dates=["first_ts", "last_ts"])

    # ------------------------------------------------------------------ attributes

    def set_attr(self, user, name, value):
        """Set a typed attribute: bool, int/float (numeric), str, datetime, or None (the
        explicit null). Creates the profile if needed."""
        kind, payload = attribute_kind(value)
        args = (self._live(), encode(user, "user"), encode(name, "attribute name"))
        if kind == NULL:
            self._write(lib.persona_store_attr_set_null, *args)
        else:
            self._write(ATTRIBUTE_SETTERS[kind], *args, payload)

    def attr_type(self, user, name):
        """The attribute's type: one of bool, float, str, datetime, type(None)."""
        return KIND_TYPES[self._attr_kind(user, name)]

    def attr(self, user, name, expect=None):
        """An attribute as float, str, bool, datetime (UTC) or None. With ``expect`` (float,
        str, bool or datetime) the typed C getter is called directly, so an attribute of
        another type raises InvalidArgumentError (a ValueError) with the library's message."""
        kind = self._attr_kind(user, name) if expect is None else _expected_kind(expect)
        args = (self._live(), encode(user, "user"), encode(name, "attribute name"))
        if kind == STR:
            return read_string(lib.persona_store_attr_get_str, *args)
        if kind == NULL:
            return None
        out = {NUM: c_double, BOOL: c_int32, TIME: c_int64}[kind]()
        getter = {NUM: lib.persona_store_attr_get_num, BOOL: lib.persona_store_attr_get_bool,
                  TIME: lib.persona_store_attr_get_time}[kind]
        getter(byref(out), *args)
        return {NUM: float, BOOL: bool, TIME: to_datetime}[kind](out.value)

    def remove_attr(self, user, name):
        """Remove an attribute (NotFoundError when absent)."""
        self._write(lib.persona_store_attr_remove, self._live(), encode(user, "user"),
                    encode(name, "attribute name"))

    def _attr_kind(self, user, name):
        out = c_int32()
        lib.persona_store_attr_type(byref(out), self._live(), encode(user, "user"),
                                    encode(name, "attribute name"))
        return out.value

    # ------------------------------------------------------------------ consent

    def set_consent(self, user, purpose, granted, time):
        """Record consent (granted=True) or its withdrawal for a purpose at a time."""
        self._write(lib.persona_store_consent_set, self._live(), encode(user, "user"),
                    encode(purpose, "purpose"), 1 if granted else 0, to_ms(time))

    def set_tracking(self, user, tracking):
        """Stop (False) or resume (True) collecting a person's events (do-not-track,
        persona_store_set_tracking). While off, their events are counted as rejected with
        reason "suppressed" and not stored; that is never an error, even with strict."""
        self._write(lib.persona_store_set_tracking, self._live(), encode(user, "user"),
                    1 if tracking else 0)

    def tracking(self, user):
        """Whether a person's events are collected (persona_store_get_tracking)."""
        value = c_int32()
        lib.persona_store_get_tracking(byref(value), self._live(), encode(user, "user"))
        return bool(value.value)

    def consent(self, user, purpose):
        """(granted, time in ms) of the latest consent record for a purpose."""
        granted, time = c_int32(), c_int64()
        lib.persona_store_consent_get(byref(granted), byref(time), self._live(),
                                      encode(user, "user"), encode(purpose, "purpose"))
        return bool(granted.value), time.value

    # ------------------------------------------------------------------ identity graph

    def alias(self, *ids, at=None, source=None):
        """Link identifiers of one person (persona_store_alias). Each id is a
        ``(type, value)`` pair, type a name ("key", "cookie", "email", "phone",
        "customer") or an int (host types from persona.ID_HOST up); a plain str is a user
        key. They are normalized, then linked in decreasing priority of their types; linking
        two profiles merges them and recomputes the merged traits from the event log. ``at``
        is when the link was observed (a time as elsewhere; default: now), ``source`` who
        made it ("login", "crm-import"), both written to the merge log. A guard blocking a
        link is not an error: see the result's ``outcome`` and ``blocked``. Returns an
        AliasResult. InvalidArgumentError (a ValueError) for fewer than 2 ids, an
        identifier that does not normalize or is known under another type; nothing changes
        on an error."""
        array = identifier_array(ids)
        at_ms = _time.time_ns() // 1_000_000 if at is None else to_ms(at)
        result = new_struct(persona_alias_result)
        self._write(lib.persona_store_alias, byref(result), self._live(), array, len(array),
                    at_ms, encode(source, "source"))
        return AliasResult.from_struct(result)

    def unmerge(self, id):
        """Split a wrongly merged profile (persona_store_unmerge): every link involving
        ``id`` (a ``(type, value)`` pair or a str user key) is undone and each resulting
        part gets back exactly the traits it would have had without those links. Returns
        the number of profiles the profile became (1 when ``id`` had no links).
        NotFoundError for an unknown identifier."""
        parts = c_uint32()
        self._write(lib.persona_store_unmerge, byref(parts), self._live(),
                    identifier_array([id]))
        return parts.value

    def resolve(self, user):
        """The key naming the profile of an identifier (persona_store_resolve): its
        highest-priority identifier. ``user`` as stored (normalized). NotFoundError for an
        unknown identifier."""
        return read_string(lib.persona_store_resolve, self._live(), encode(user, "user"))

    def merge_log(self, user=None):
        """The links made or blocked, oldest first (persona_store_merge_log, parsed): dicts
        with seq, time, source, a and b (``{"type": "email", "id": ...}``), outcome
        ("merged", "added", "same", "blocked-value", "blocked-limit"), limit_type (for
        blocked-limit) and ``"undone": True`` after unmerge(). With ``user``, only the
        links of that user's profile (NotFoundError for an unknown user)."""
        return json.loads(take_owned_string(lib.persona_store_merge_log, self._live(),
                                            encode(user, "user")))

    def identity_limit(self, type, max):
        """Let one profile hold at most ``max`` identifiers of a type (0 or None =
        unlimited; defaults: one email, one customer id, others unlimited)."""
        max = 0 if max is None else _uint32(max, "max")
        self._write(lib.persona_store_identity_limit, self._live(), id_type(type), max)

    def identity_priority(self, type, priority):
        """Set the priority of an identifier type: higher links first and names the
        profile (defaults: customer 50, email 40, phone 30, key 20, cookie 10, host 0)."""
        self._write(lib.persona_store_identity_priority, self._live(), id_type(type),
                    _int32(priority, "priority"))

    def identity_block(self, value):
        """Never link an identifier whose normalized value is ``value`` (ASCII case
        ignored), e.g. a placeholder email a form fills in."""
        self._write(lib.persona_store_identity_block, self._live(), encode(value, "value"))

    def identity_country(self, code):
        """Default country calling code ("49") for national phone numbers in alias();
        None or "" for none (national numbers are then refused)."""
        self._write(lib.persona_store_identity_country, self._live(),
                    encode(code, "country code"))

    def identify_rule(self, event_type, prop, type):
        """Make events of ``event_type`` link their user with the identifier of ``type``
        in property ``prop`` (e.g. identify_rule("identify", "email", "email")). Links of
        a batch are made before its events; an event with an identifier that cannot be
        linked is rejected as "bad_identifier"."""
        self._write(lib.persona_store_identify_rule, self._live(),
                    encode(event_type, "event type"), encode(prop, "property"), id_type(type))

    def consent_rule(self, event_type, purpose_prop, granted_prop):
        """Make events of ``event_type`` set consent: purpose from property
        ``purpose_prop``, yes/no from ``granted_prop``, at the event's time; events
        without them are rejected as "bad_consent"."""
        self._write(lib.persona_store_consent_rule, self._live(),
                    encode(event_type, "event type"), encode(purpose_prop, "property"),
                    encode(granted_prop, "property"))

    # ------------------------------------------------------------------ cohorts

    def affinity(self, by="basket", *, events=None, session_gap=None, consent=None,
                 category="category", category_from_item=False):
        """Build an item affinity matrix from the store's events (persona_affinity_build);
        returns an Affinity (similar(), recommend(), overindex(), pair(), user_categories(),
        save(), merge()). ``by``: "basket", "session" or "user"; ``events``: event types
        that count (default every event with an item); see Affinity.build."""
        from .affinity import Affinity
        return Affinity.build(self, by, events=events, session_gap=session_gap, consent=consent,
                              category=category, category_from_item=category_from_item)

    def paths(self, order=1, *, session_gap=None, session_prop=None, state_prop=None,
              rules=None, consent=None):
        """Build a path model from the store's events (persona_path_build); returns a
        PathModel (next(), next_user(), transitions(), top_paths(), goal_paths(),
        dropoffs(), save(), merge()). ``order``: the Markov order, 1 to 4; see
        PathModel.build."""
        from .paths import PathModel
        return PathModel.build(self, order, session_gap=session_gap, session_prop=session_prop,
                               state_prop=state_prop, rules=rules, consent=consent)

    def attribution(self, channel, conversion, model="markov", order=1, *, weights=None,
                    touch_events=None, lookback=None, half_life=None, consent=None):
        """Multi-touch attribution of the store's conversions (persona_attribution_build,
        then persona_attribution_compute): a table channel, conversions, value, share,
        removal_effect, removal_effect_value. ``channel``: the property naming the
        channel (e.g. "campaign"); ``conversion``: the conversion event type(s);
        ``model``: "markov", "first", "last", "linear", "position" or "decay"; ``order``:
        Markov order 1 ... 4; ``weights``: position-based (first, middle, last). The other
        keywords are those of Attribution.build (which keeps the journeys for several
        models)."""
        from .attribution import Attribution
        with Attribution.build(self, channel, conversion, touch_events=touch_events,
                               lookback=lookback, half_life=half_life,
                               consent=consent) as journeys:
            return journeys.compute(model, order, weights=weights)

    def cohort(self, period="month", kind="retention", *, retention="classic",
               cohort_by=None, metrics=(), active=None, brackets=None, periods=None,
               min_users=None, utc_offset=0, window=None, row_period=None, consent=None,
               start=None, end=None, threads=None):
        """Build a cohort table from the store's events (persona_cohort_build); returns a
        CohortTable that does not depend on the store afterwards.

        Each keyword is one field of persona_cohort_options:

        * ``period``: columns per "hour", "day", "week" (ISO, from Monday), "month",
          "quarter", "year", or "rolling" windows of ``window`` from each user's cohort
          event (retention only; rows are then calendar ``row_period``, default month).
        * ``kind``: "retention", "lifecycle" or "stickiness" (see lifecycle(),
          stickiness()).
        * ``retention``: "classic" (active in period p) or "unbounded" (in p or later).
        * ``cohort_by``: None / "first_event" (the default), ``("first_of_type", EVENT)``
          or "first:EVENT", ``("property", NAME)`` or "prop:NAME" (first-touch value).
        * ``metrics``: extra metrics to build besides users: "events", "revenue" (needed
          for the "revenue" and "ltv" cells).
        * ``active``: event types that make a user active (default: every type).
        * ``brackets``: first periods of the columns, e.g. [0, 1, 2, 4].
        * ``periods``: keep p0 ... p(periods-1) only; ``min_users``: suppress cells of
          fewer users.
        * ``utc_offset``: local time of the periods: "+05:30", "-08:00", int minutes or a
          timedelta.
        * ``window``: the rolling window: "24h", "7d", a timedelta or int ms.
        * ``consent``: count only users who granted this purpose.
        * ``start``, ``end``: the range [start, end) of cohort events (retention) or of
          periods (lifecycle, stickiness): datetime, str or int ms.
        * ``threads``: threads of the scan (0 / None = the machine's, at most 8).

        ValueError for an unknown name before the library is called;
        InvalidArgumentError (also a ValueError) with the library's message for options
        it refuses (brackets not increasing from 0, offset out of range, ...)."""
        return _build_cohort(self, kind, period, retention=retention, cohort_by=cohort_by,
                             metrics=metrics, active=active, brackets=brackets,
                             periods=periods, min_users=min_users, utc_offset=utc_offset,
                             window=window, row_period=row_period, consent=consent,
                             start=start, end=end, threads=threads)

    def funnel(self, steps, window="24h", order="loose", count="users", *, exclude=None,
               hold=None, trend_period="month", utc_offset=0, consent=None, start=None,
               end=None):
        """Build a conversion funnel from the store's events (persona_funnel_build);
        returns a Funnel that does not depend on the store afterwards.

        * ``steps``: a list of 1 ... 32 steps, each an event type (``"view"``) or a dict
          with the keys

          - ``"event"`` (required): the event type;
          - ``"where"``: a predicate ``(property, op, value)`` with op ``"=="`` (the
            property equals value) or ``"!="`` (it is absent or differs), e.g.
            ``("category", "==", "shoes")``; the property ``"item"`` is the event's item;
          - ``"min_gap"`` / ``"max_gap"``: least / most time since the previous step
            ("1m", "2h", a timedelta or int ms; ignored on the first step).

          ``[{"event": "view"}, {"event": "addtocart", "where": ("category", "==",
          "shoes"), "max_gap": "2h"}, "purchase"]``.
        * ``window``: most time from the first step's event to the last step's ("24h",
          "7d", a timedelta or int ms; None = the library's default, 14 days).
        * ``order``: "loose" (in order, other events between), "strict" (no other event
          of the unit between two steps) or "any" (distinct steps in any order within the
          window; min/max gaps and exclusions are then ignored).
        * ``count``: "users" (each user once, at their furthest step), "totals" (every
          first-step event is an entry of its own) or "sessions" (each session of a user,
          under the store's session gap, is a unit).
        * ``exclude``: events that break a conversion when they happen between two steps:
          a list of event types or dicts ``{"event": "refund", "between": (1, 3),
          "where": ("reason", "==", "fraud")}``; ``between`` is a pair of 1-based step
          numbers (the exclusion covers steps 1 -> 2 and 2 -> 3 here; default: from the
          first step to the last), ``where`` as for steps.
        * ``hold``: a property (or "item") every step's event must share with the first
          step's; events without it match no step.
        * ``trend_period``: period of trend(): "hour", "day", "week", "month", "quarter",
          "year"; ``utc_offset``: its local time ("+05:30", int minutes, a timedelta).
        * ``consent``: count only users whose current consent for this purpose is granted.
        * ``start``, ``end``: only entries (first-step events) in [start, end): datetime,
          str or int ms.

        ValueError for an unknown name or a malformed step before the library is called;
        InvalidArgumentError (also a ValueError) with the library's message for options it
        refuses (no steps, min_gap above max_gap, an exclusion's steps out of range, ...).
        A type the store has never seen is not an error: nobody reaches that step."""
        return _build_funnel(self, steps, window=window, order=order, count=count,
                             exclude=exclude, hold=hold, trend_period=trend_period,
                             utc_offset=utc_offset, consent=consent, start=start, end=end)

    def lifecycle(self, period="month", **options):
        """A lifecycle table: one row per calendar period from the first to the last
        active one, columns new, returning, resurrecting, dormant (users). Keywords as
        cohort(): active, utc_offset, consent, start, end, min_users, threads, ..."""
        return self.cohort(period, "lifecycle", **options)

    def stickiness(self, period="month", **options):
        """A stickiness table: row k = the users active in exactly k of the periods of the
        range (from ``start`` to ``end``, or of the store's events). Keywords as
        cohort()."""
        return self.cohort(period, "stickiness", **options)

    def rfm(self, bins=5, purchase="purchase", returns=None, as_of=None, start=None,
            consent=None):
        """RFM of the store's customers (persona_rfm_build); returns a persona.RFM that
        does not depend on the store afterwards (docs/rfm.md).

        * ``bins``: score bins 2 ... 10 (quantiles of the ranks, as pandas.qcut of
          ``rank(method="first")`` in the store's user order).
        * ``purchase``: the event type of purchases; one with a negative value is a return
          (counted in monetary, not an order, not a purchase).
        * ``returns``: an event type of returns whose |value| is subtracted from monetary.
        * ``as_of``: the reference time (datetime, str or int ms): recency counts to it and
          later events are ignored; None = the store's latest event + 1 day.
        * ``start``: ignore events before this time.
        * ``consent``: score only customers who granted this purpose.

        ValueError for a bad value before the library is called; InvalidArgumentError (also
        a ValueError) with the library's message for options it refuses."""
        from .rfm import build
        return build(self, bins=bins, purchase=purchase, returns=returns, as_of=as_of,
                     start=start, consent=consent)

    def features(self, spec, as_of=None, standardize=True, max_levels=None):
        """A feature matrix of every profile (persona_features_build, docs/features.md);
        returns a persona.Features that does not depend on the store afterwards.

        * ``spec``: views of terms, e.g. ``"behaviour: log1p(events), sessions; money:
          log1p(value(purchase)), recency_days; who: onehot(attr(country)), attr(age)"``.
        * ``as_of``: the time recency, tenure, time attributes and engagement are measured
          at (datetime, str or int ms); None = the store's latest event.
        * ``standardize``: z-scores of every column (raw() terms excepted); False keeps
          the values after log1p and the missing-value fill.
        * ``max_levels``: named levels of a one-hot term without its own (default 10).

        ParseError (a ValueError) with the line and column for a bad spec;
        InvalidArgumentError for values the spec cannot take (a negative value under
        log1p, a string attribute under attr())."""
        from .features import build
        return build(self, spec, as_of=as_of, standardize=standardize, max_levels=max_levels)

    def segment_kmeans(self, k=8, features=None, random_state=None, n_init=1, as_of=None,
                       max_levels=None, **kmeans_options):
        """k-means clusters of the store's users: features(spec) (default: recency_days,
        log1p(orders), slog1p(value("purchase")), standardized), then persona.KMeans(k,
        random_state=..., n_init=..., other KMeans keywords). Returns a
        persona.features.KMeansSegments with ``labels``, ``kmeans``, ``features``,
        ``summary()`` and ``predict(user)``."""
        from .features import segment_kmeans
        return segment_kmeans(self, k=k, features=features, random_state=random_state,
                              n_init=n_init, as_of=as_of, max_levels=max_levels,
                              **kmeans_options)

    # ------------------------------------------------------------------ segments

    def add_segment(self, name, rule, on_enter=None, on_exit=None):
        """Register a live segment (persona_store_add_segment): a named rule (docs/rules.md)
        whose membership the store keeps exact as events arrive, as of its clock (see
        ``clock``). Membership is computed for every profile at once, without callbacks.

        ``on_enter(user, segment, at)`` / ``on_exit(user, segment, at)`` are called when a
        user enters / leaves the segment: ``user`` the profile's key (str), ``segment`` the
        name, ``at`` the store's clock when the change was seen (int ms since the epoch;
        persona.times.to_datetime() converts). They run on the thread of the ingest(),
        load() or tick() that caused the change, after its changes are applied, in the
        order of the users' indexes, then of the segments; their return value is ignored.
        They may read the store (profile(), segments_of(), ...) but not write to it: any
        writing method (ingest(), tick(), set_attr(), alias(), ...) called from a callback
        raises MisuseError. An exception raised by a
        callback skips the remaining callbacks of that call, which then raises it (with
        the library's CallbackError as ``__cause__``); KeyboardInterrupt too.

        ``rule`` may use in_segment() with live segments registered before; it sees no
        request context (``ctx.*`` is missing). Attribute, consent and identity changes
        (set_attr(), set_consent(), alias(), erase(), ...) re-evaluate memberships without
        callbacks. At most 64 live segments per store; they are not saved by save().

        ParseError (a ValueError) with ``line`` and ``column`` within ``rule``;
        InvalidArgumentError (a ValueError) for an empty, too long or duplicate name, or a
        65th segment. Nothing is registered on error."""
        name = encode(_text_arg(name, "segment name"), "segment name")
        data = encode(_text_arg(rule, "rule"), "rule")
        _optional_callable(on_enter, "on_enter")
        _optional_callable(on_exit, "on_exit")
        handle = self._live()
        if on_enter is None and on_exit is None:
            callback = SEGMENT_FN()  # NULL: no calls at all
        else:
            callback = _segment_callback(self._segment_guard, on_enter, on_exit)
        with reraising(self._segment_guard):
            lib.persona_store_add_segment(handle, name, data, len(data), callback, None)
        if callback:
            self._segment_callbacks.append(callback)  # C calls it until the store is freed

    def tick(self, now):
        """Advance the store's clock to ``now`` (int ms, datetime -- naive = UTC -- or an
        ISO str) and apply the live-segment changes due by then (users leaving a window,
        entering ``stopped(...)``, ...), calling back for each (persona_store_tick). A time
        before the clock changes nothing: the clock never goes back. A callback's
        exception is raised here as in ingest(); the clock has moved and the memberships
        are updated all the same."""
        now = _integer(to_ms(now), "now", TIME_MIN, TIME_MAX)
        handle = self._live()
        with reraising(self._segment_guard):
            lib.persona_store_tick(handle, now)

    @property
    def clock(self):
        """The store's clock (persona_store_clock), int ms since the epoch: the later of
        its latest event time and its latest tick(); 0 for a store with neither. Live
        segments, and Rules evaluated with ``now=None``, are evaluated as of it."""
        out = c_int64()
        lib.persona_store_clock(byref(out), self._live())
        return out.value

    def _live_segment_names(self):
        handle = self._live()
        count = c_size_t()
        lib.persona_store_segment_count(byref(count), handle)
        names = self._segment_names
        if len(names) != count.value:
            names = tuple(read_string(lib.persona_store_segment_name, handle, i, capacity=64)
                          for i in range(count.value))
            self._segment_names = names
        return names

    @property
    def live_segments(self):
        """Names of the live segments, in order of registration (a new list)."""
        return list(self._live_segment_names())

    def segments_of(self, key, rules=None, now=None, context=None, hour=None):
        """The segments user ``key`` is in, as a list of names.

        Without ``rules``: the live segments (add_segment()) the user is in now, in order
        of registration (persona_store_segments_of); a key the store does not know is in
        none. ``now``, ``context`` and ``hour`` are refused then (TypeError): live segments
        are as of the store's clock, without request context.

        With ``rules`` (a persona.Rules): the same as ``rules.assign(store, key, now=now,
        context=context, hour=hour)`` (``now`` None = the store's clock), evaluated on
        demand; nothing is kept on the store."""
        if rules is None:
            if now is not None or context is not None or hour is not None:
                raise TypeError("now, context and hour need rules: live segments are "
                                "evaluated as of the store's clock, without context")
            return self._live_segments_of(key)
        from .segment import Rules
        if not isinstance(rules, Rules):
            raise TypeError(f"rules must be a persona.Rules or None, not "
                            f"{type(rules).__name__}")
        return rules.assign(self, key, now=now, context=context, hour=hour)

    def _live_segments_of(self, key):
        handle = self._live()
        out, count = (c_uint32 * LIVE_SEGMENT_MAX)(), c_size_t()
        lib.persona_store_segments_of(out, LIVE_SEGMENT_MAX, byref(count), handle,
                                      encode(key, "user"))
        indexes = out[:count.value]
        names = self._segment_names
        if indexes and max(indexes) >= len(names):
            names = self._live_segment_names()
        return [names[i] for i in indexes]


def _text_arg(value, what):
    if not isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _integer(value, what, low, high):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise OverflowError(f"{what} {value} is out of range [{low}, {high}]")
    return int(value)


def _uint32(value, what):
    return _integer(value, what, 0, 2 ** 32 - 1)


def _int32(value, what):
    return _integer(value, what, -2 ** 31, 2 ** 31 - 1)


def _expected_kind(expect):
    try:
        return EXPECTED_KINDS[expect]
    except KeyError:
        raise TypeError(f"expect must be float, str, bool or datetime, not {expect!r}") from None

