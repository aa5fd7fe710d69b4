"""Python event dicts and attribute values as the C records persona_event and
persona_attribute.

An event is a dict with the keys of EVENT_FIELDS:

    {"user": "u1", "time": 1614834367000 | datetime | "2021-03-04T05:06:07Z",
     "type": "purchase", "item": "sku-1", "value": 9.5, "event_id": "e-1",
     "basket": "o-1", "props": {"referrer": "google", "category": "shoes"}}

Only ``user`` and ``time`` are required. Values the library would reject are handed to it
in a form it rejects for the same reason, so that bad events are counted per reason by the
library (mixed batches keep their good events): a time that is missing or cannot be
converted becomes an out-of-range time (``bad_time``), a value that is not a number becomes
infinity (``bad_number``), str with lone surrogates become invalid UTF-8 (``bad_utf8``).
"""
import datetime as _dt
import math
import numbers
from collections.abc import Mapping
from ctypes import POINTER, byref, c_char_p, cast, sizeof

from ._capi import encode, lib, new_struct
from ._structs import persona_attribute, persona_event
from .times import to_ms

EVENT_FIELDS = ("user", "time", "type", "item", "value", "event_id", "basket", "props")
KEY_FIELDS = ("user", "type", "item", "event_id", "basket")  # strings of persona_event
BAD_TIME = -(2 ** 63)  # outside [PERSONA_TIME_MIN, PERSONA_TIME_MAX]: counted as bad_time
INT64 = range(-(2 ** 63), 2 ** 63)

# Value types of attributes (common.h).
NULL, NUM, STR, BOOL, TIME = 0, 1, 2, 3, 4


def is_missing(value):
    """None, a float NaN, pandas.NA or NaT."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def event_time(value, time_format=None, utc_offset_minutes=0):
    """ms since the epoch, or BAD_TIME when the value is not a usable time."""
    if is_missing(value):
        return BAD_TIME
    try:
        ms = to_ms(value, time_format, utc_offset_minutes)
    except (TypeError, ValueError, OverflowError):  # ParseError is a ValueError
        return BAD_TIME
    return ms if ms in INT64 else BAD_TIME


def event_value(value):
    """A float; NaN when absent, infinity (bad_number) when not a number."""
    if is_missing(value):
        return math.nan
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.inf


def key_bytes(value, what):
    """A key or property value as UTF-8 bytes; None when absent."""
    return None if is_missing(value) else encode(value, what)


def string_array(values, what):
    """A ``const char *[]`` of the values (None entries are NULL)."""
    return (c_char_p * len(values))(*[key_bytes(v, what) for v in values])


class EventBatch:
    """A persona_event array built from event dicts. Every buffer the C records point to
    is referenced by this object: keep it alive while C may read the events."""

    def __init__(self, events, time_format=None, utc_offset_minutes=0):
        events = list(events)
        self.count = len(events)
        self.array = (persona_event * max(self.count, 1))()
        for index, (record, event) in enumerate(zip(events, self.array)):
            lib.persona_event_init(byref(event), sizeof(event))
            try:
                self._fill(event, record, time_format, utc_offset_minutes)
            except (TypeError, ValueError) as err:
                raise type(err)(f"event {index}: {err}") from None

    @property
    def pointer(self):
        return cast(self.array, POINTER(persona_event))

    @staticmethod
    def _fill(event, record, time_format, utc_offset_minutes):
        if not isinstance(record, Mapping):
            raise TypeError(f"an event is a dict, not {type(record).__name__}")
        unknown = set(record) - set(EVENT_FIELDS)
        if unknown:
            raise ValueError(f"unknown field(s) {sorted(unknown)}; known: {EVENT_FIELDS}")
        for field in KEY_FIELDS:
            setattr(event, field, key_bytes(record.get(field), field))
        event.time_ms = event_time(record.get("time"), time_format, utc_offset_minutes)
        event.value = event_value(record.get("value"))
        props = record.get("props") or {}
        if props:
            event.prop_names = string_array(list(props.keys()), "property name")
            event.prop_values = string_array(list(props.values()), "property value")
            event.n_props = len(props)


def attribute_kind(value):
    """(PERSONA type, payload for C) of a Python attribute value: bool, int/float, str,
    datetime or None."""
    if value is None:
        return NULL, None
    if isinstance(value, bool):
        return BOOL, int(value)
    if isinstance(value, numbers.Real):
        return NUM, float(value)
    if isinstance(value, str):
        return STR, encode(value, "attribute value")
    if isinstance(value, _dt.datetime):
        return TIME, to_ms(value)
    raise TypeError("an attribute value is bool, int, float, str, datetime or None, "
                    f"not {type(value).__name__}")


ATTRIBUTE_FIELD = {NUM: "num", STR: "str", BOOL: "boolean", TIME: "time_ms"}


class AttributeBatch:
    """A persona_attribute array built from (user, name, value) triples."""

    def __init__(self, triples):
        triples = list(triples)
        self.count = len(triples)
        self.array = (persona_attribute * max(self.count, 1))()
        template = new_struct(persona_attribute)
        for (user, name, value), attribute in zip(triples, self.array):
            attribute.struct_size = template.struct_size
            kind, payload = attribute_kind(value)
            attribute.type = kind
            attribute.user = encode(user, "user")
            attribute.name = encode(name, "attribute name")
            if kind != NULL:
                setattr(attribute, ATTRIBUTE_FIELD[kind], payload)

    @property
    def pointer(self):
        return cast(self.array, POINTER(persona_attribute))
