"""Data sources (source.h): pull streams of events consumed by Store.load()."""
import os
from ctypes import byref

from ._callbacks import CallbackGuard, reraising
from ._capi import SourceHandle, encode, lib, new_struct
from ._columns import EventColumns, records_to_columns
from ._events import AttributeBatch, EventBatch, string_array
from ._handle import Handle
from ._structs import (NEXT_ATTRIBUTES_FN, NEXT_FN, REWIND_FN, persona_csv_options,
                       persona_mapping, persona_source_vtable)

ATTRIBUTE_BATCH = 1024
MAPPING_COLUMNS = ("user", "time", "time_format", "event", "event_const", "item", "basket",
                   "event_id", "value")


def _text_bytes(text):
    """CSV / JSONL text as bytes; lone surrogates become invalid UTF-8 for the library to
    count, NUL bytes stay data."""
    return text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")


def make_mapping(props=None, utc_offset_minutes=0, **columns):
    """A persona_mapping from keyword arguments: ``columns`` are MAPPING_COLUMNS (column
    or JSON member names, or the time format / constant event type; None = the library's
    default), ``props`` maps property names to columns, ``value`` may be ``"A*B"``, the
    product of two numeric columns."""
    unknown = set(columns) - set(MAPPING_COLUMNS)
    if unknown:
        raise TypeError(f"unknown mapping argument(s) {sorted(unknown)}; "
                        f"known: {MAPPING_COLUMNS + ('props', 'utc_offset_minutes')}")
    mapping = new_struct(persona_mapping)
    for field in MAPPING_COLUMNS:
        setattr(mapping, field, encode(columns.get(field), field))
    mapping.time_offset_minutes = utc_offset_minutes
    if props:
        mapping.prop_names = string_array(list(props.keys()), "property name")
        mapping.prop_columns = string_array(list(props.values()), "property column")
        mapping.n_props = len(props)
    return mapping


def make_csv_options(delimiter=",", max_row_bytes=0):
    options = new_struct(persona_csv_options)
    delimiter = delimiter.encode() if isinstance(delimiter, str) else bytes(delimiter)
    if len(delimiter) != 1:
        raise ValueError(f"the delimiter must be one byte, not {delimiter!r}")
    options.delimiter = delimiter[0]
    options.max_row_bytes = max_row_bytes
    return options


class _CallbackFeed:
    """The Python side of a persona_source_new() source: the vtable's trampolines, the
    batch C currently borrows, and the exception a callback raised. Holds no reference
    to the Source, so the Source's finalizer can keep it alive without keeping the Source."""

    def __init__(self, batches, attributes):
        self.guard = CallbackGuard()
        self.batches, self.attributes = batches, attributes
        self.current = None  # the batch C borrows until the next call
        self._start()
        self.vtable = new_struct(persona_source_vtable)
        self.callbacks = [NEXT_FN(self.guard.wrap(self._next))]
        self.vtable.next = self.callbacks[-1]
        if self._rewindable():
            self.callbacks.append(REWIND_FN(self.guard.wrap(self._rewind)))
            self.vtable.rewind = self.callbacks[-1]
        if attributes is not None:
            self.callbacks.append(NEXT_ATTRIBUTES_FN(self.guard.wrap(self._next_attributes)))
            self.vtable.next_attributes = self.callbacks[-1]

    def _rewindable(self):
        """Re-iterable inputs (lists, ...) can rewind; one-shot iterators cannot."""
        return all(x is None or iter(x) is not x for x in (self.batches, self.attributes))

    def _start(self):
        self.batch_iter = iter(self.batches)
        self.attribute_iter = iter(self.attributes) if self.attributes is not None else None

    def _rewind(self, ctx):
        self.current = None
        self._start()
        return 0

    def _deliver(self, batch, items_out, count_out):
        self.current = batch
        items_out[0] = batch.pointer
        count_out[0] = batch.count
        return 0

    def _next(self, ctx, events_out, count_out):
        self.current = None
        for events in self.batch_iter:
            batch = EventBatch(events)
            if batch.count:  # an empty batch would mean "end" to the library
                return self._deliver(batch, events_out, count_out)
        count_out[0] = 0
        return 0

    def _next_attributes(self, ctx, attrs_out, count_out):
        self.current = None
        chunk = [triple for _, triple in zip(range(ATTRIBUTE_BATCH), self.attribute_iter)]
        return self._deliver(AttributeBatch(chunk), attrs_out, count_out)


class Source(Handle):
    """A pull stream of events, consumed by Store.load() from its current position.

    Thread-safety (source.h): single-thread. Use a source from one thread at a time (it
    may move between threads); its Python callbacks run on the thread that called
    Store.load(). ctypes releases the GIL during C calls. No locks in Python.

    Constructors: csv(), csv_text(), jsonl(), jsonl_text(), arrays(), records(), frame(),
    callback(). Mapping keyword arguments (csv*, jsonl*): user, time, time_format,
    utc_offset_minutes, event, event_const, item, basket, event_id, value, props
    ({property name: column}); see make_mapping().
    """

    _kind = "source"
    _guard = None  # CallbackGuard of Python callbacks, for Store.load()

    def __init__(self, *args, **kwargs):
        raise TypeError("use Source.csv(), .csv_text(), .jsonl(), .jsonl_text(), .arrays(), "
                        ".records(), .frame() or .callback()")

    @classmethod
    def _open(cls, opener, *args, keepalive=(), guard=None):
        handle = SourceHandle()
        opener(byref(handle), *args)
        self = object.__new__(cls)
        self._adopt(handle, lib.persona_source_free, keepalive)
        self._guard = guard
        return self

    # ------------------------------------------------------------------ files and text

    @classmethod
    def csv(cls, path, delimiter=",", max_row_bytes=0, **mapping):
        """A CSV file (RFC 4180, header row)."""
        return cls._open(lib.persona_source_open_csv, os.fsencode(path),
                         byref(make_csv_options(delimiter, max_row_bytes)),
                         byref(make_mapping(**mapping)))

    @classmethod
    def csv_text(cls, text, delimiter=",", max_row_bytes=0, **mapping):
        """CSV text (str or bytes) held in memory; the library copies it."""
        data = _text_bytes(text)
        return cls._open(lib.persona_source_open_csv_memory, data, len(data),
                         byref(make_csv_options(delimiter, max_row_bytes)),
                         byref(make_mapping(**mapping)))

    @classmethod
    def jsonl(cls, path, **mapping):
        """A JSON Lines file: one object per line."""
        return cls._open(lib.persona_source_open_jsonl, os.fsencode(path),
                         byref(make_mapping(**mapping)))

    @classmethod
    def jsonl_text(cls, text, **mapping):
        """JSON Lines text (str or bytes) held in memory; the library copies it."""
        data = _text_bytes(text)
        return cls._open(lib.persona_source_open_jsonl_memory, data, len(data),
                         byref(make_mapping(**mapping)))

    # ------------------------------------------------------------------ columns

    @classmethod
    def arrays(cls, user, time, type=None, item=None, value=None, event_id=None, basket=None,
               props=None, time_format=None, utc_offset_minutes=0):
        """Columns of events (lists, array.array, numpy arrays, pandas Series), all the
        same length; ``props`` maps property names to columns. Times as for events
        (ms, datetime, datetime64 or str parsed with ``time_format``). The library borrows
        the converted columns; the Source keeps them alive until it is closed."""
        columns = EventColumns(user, time, type=type, item=item, value=value,
                               event_id=event_id, basket=basket, props=props,
                               time_format=time_format, utc_offset_minutes=utc_offset_minutes)
        return cls._open(lib.persona_source_from_arrays, byref(columns.struct),
                         keepalive=(columns.struct, columns.keepalive))

    @classmethod
    def records(cls, records, time_format=None, utc_offset_minutes=0):
        """A list of event dicts (the keys of Store.ingest), as columns."""
        return cls.arrays(**records_to_columns(records), time_format=time_format,
                          utc_offset_minutes=utc_offset_minutes)

    @classmethod
    def frame(cls, df, user="user_id", time="timestamp", event=None, item=None, value=None,
              event_id=None, basket=None, props=None, time_format=None,
              utc_offset_minutes=0):
        """A pandas DataFrame, with the same column mapping and defaults as csv():
        ``event`` defaults to column "event" and ``value`` to "value" when present;
        ``props`` maps property names to columns."""
        event = event if event is not None else ("event" if "event" in df.columns else None)
        value = value if value is not None else ("value" if "value" in df.columns else None)
        def column(name):
            return df[name] if name is not None else None

        return cls.arrays(column(user), column(time), type=column(event), item=column(item),
                          value=column(value), event_id=column(event_id),
                          basket=column(basket),
                          props={name: df[col] for name, col in (props or {}).items()},
                          time_format=time_format, utc_offset_minutes=utc_offset_minutes)

    # ------------------------------------------------------------------ Python callbacks

    @classmethod
    def callback(cls, batches, attributes=None):
        """A source pulling from Python: ``batches`` is an iterable of batches, each an
        iterable of event dicts; ``attributes`` an optional iterable of (user, name, value)
        profile attributes applied after the events. An exception raised while iterating is
        re-raised by Store.load(). Lists (re-iterable) can rewind(); generators cannot."""
        feed = _CallbackFeed(batches, attributes)
        return cls._open(lib.persona_source_new, byref(feed.vtable), None,
                         keepalive=feed, guard=feed.guard)

    def rewind(self):
        """Restart from the first event (UnsupportedError when the source cannot)."""
        with reraising(self._guard):
            lib.persona_source_rewind(self._live())
