"""Times: int64 milliseconds since the Unix epoch, UTC, as in the C API (common.h).

Python values accepted wherever the bindings take a time: an int (ms), a datetime (naive
ones are taken as UTC), a numpy.datetime64, or a str / bytes parsed by
persona_time_parse() (ISO 8601, plain dates, unix seconds or ms by magnitude).
"""
import datetime as _dt
import numbers
from ctypes import byref, c_int64

from ._capi import encode, lib, read_string

UTC = _dt.timezone.utc
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = _dt.timedelta(milliseconds=1)
TIME_MIN = -62135596800000  # PERSONA_TIME_MIN: 0001-01-01 00:00:00 UTC
TIME_MAX = 253402300799999  # PERSONA_TIME_MAX: 9999-12-31 23:59:59.999 UTC
PERIODS = {"hour": 1, "day": 2, "week": 3, "month": 4, "quarter": 5, "year": 6}


def parse_time(text, format=None, utc_offset_minutes=0):
    """persona_time_parse(): ms since the epoch. ``format`` is None/"auto", "iso",
    "unix_s", "unix_ms" or a pattern (%Y %m %d %H %M %S %f). Raises ParseError."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    out = c_int64()
    lib.persona_time_parse(byref(out), data, len(data), encode(format, "time format"),
                           utc_offset_minutes)
    return out.value


def format_time(time, utc_offset_minutes=0):
    """persona_time_format(): ``YYYY-MM-DD HH:MM:SS[.fff]`` at a fixed offset."""
    return read_string(lib.persona_time_format, to_ms(time), utc_offset_minutes, capacity=32)


def _period(period):
    return PERIODS[period] if isinstance(period, str) else period


def time_bucket(time, period, utc_offset_minutes=0):
    """persona_time_bucket(): start (ms) of the hour/day/week/month/quarter/year."""
    out = c_int64()
    lib.persona_time_bucket(byref(out), to_ms(time), _period(period), utc_offset_minutes)
    return out.value


def time_label(time, period, utc_offset_minutes=0):
    """persona_time_label(): ``2021-03-04 05h``, ``2021-03-04``, ``2021-W09``, ``2021-03``,
    ``2021-Q1`` or ``2021``."""
    return read_string(lib.persona_time_label, to_ms(time), _period(period),
                       utc_offset_minutes, capacity=32)


def to_ms(value, format=None, utc_offset_minutes=0):
    """A time as ms since the epoch (see the module doc). TypeError for other types,
    ParseError for text that is not a time."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return (value - EPOCH) // ONE_MS
    if isinstance(value, (str, bytes)):
        return parse_time(value, format, utc_offset_minutes)
    if type(value).__name__ == "datetime64":
        return int(value.astype("datetime64[ms]").astype("int64"))
    raise TypeError(f"a time must be int ms, datetime or str, not {type(value).__name__}")


def to_datetime(ms):
    """An aware datetime in UTC for ms since the epoch."""
    return EPOCH + _dt.timedelta(milliseconds=ms)


def duration_ms(value):
    """A duration as ms: int ms or timedelta."""
    if isinstance(value, _dt.timedelta):
        return value // ONE_MS
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"a duration must be int ms or timedelta, not {type(value).__name__}")

