"""Time helpers (persona_time_*) and the Python time conversions."""
import ctypes
import datetime as dt
import sys

import pytest

import persona
from persona import _columns, times
from conftest import D0


def test_parse_time():
    assert persona.parse_time("2021-03-04T05:06:07.123+01:00") == 1_614_830_767_123
    assert persona.parse_time("2021-03-01") == D0
    assert persona.parse_time("1614556800") == D0             # unix seconds by magnitude
    assert persona.parse_time("1614556800000") == D0          # unix ms
    assert persona.parse_time("01/03/2021 01:00", "%d/%m/%Y %H:%M", 60) == D0
    assert persona.parse_time(b"2021-03-01") == D0


def test_parse_time_errors():
    with pytest.raises(persona.ParseError) as err:
        persona.parse_time("03/04/2021")
    assert isinstance(err.value, ValueError) and err.value.code == -5
    with pytest.raises(persona.InvalidArgumentError):
        persona.parse_time("2021-03-01", utc_offset_minutes=2000)


def test_format_bucket_label():
    t = 1_614_830_767_123  # 2021-03-04 04:06:07.123 UTC, a Thursday
    assert persona.format_time(t) == "2021-03-04 04:06:07.123"
    assert persona.format_time(t, 120) == "2021-03-04 06:06:07.123"
    assert persona.time_bucket(t, "day") == 1_614_816_000_000
    assert persona.time_bucket(t, "week") == 1_614_556_800_000  # Monday 2021-03-01
    assert [persona.time_label(t, p) for p in ("hour", "day", "week", "month", "quarter",
                                               "year")] == [
        "2021-03-04 04h", "2021-03-04", "2021-W09", "2021-03", "2021-Q1", "2021"]
    assert persona.time_label(dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc), "week") == "2020-W53"


def test_to_ms_and_back():
    aware = dt.datetime(2021, 3, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert times.to_ms(aware) == D0
    assert times.to_ms(dt.datetime(2021, 3, 1)) == D0          # naive = UTC
    assert times.to_ms(dt.datetime(1969, 12, 31, 23, 59, 59, 999500)) == -1  # floor
    assert times.to_datetime(D0) == dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(TypeError):
        times.to_ms(1.5)
    with pytest.raises(TypeError):
        times.to_ms(True)
    assert times.duration_ms(dt.timedelta(minutes=30)) == 1_800_000


def test_time_column_with_and_without_numpy(monkeypatch):
    np = pytest.importorskip("numpy")
    pointer, owner = _columns.time_column(np.array([D0, D0 + 1], dtype=np.int64))
    assert isinstance(owner, np.ndarray) and pointer[1] == D0 + 1
    pointer, owner = _columns.time_column(np.array(["2021-03-01"], dtype="datetime64[D]"))
    assert isinstance(owner, np.ndarray) and pointer[0] == D0
    monkeypatch.setitem(sys.modules, "numpy", None)
    pointer, owner = _columns.time_column([D0, "2021-03-01", None])
    assert isinstance(owner, ctypes.Array)
    assert [pointer[i] for i in range(3)] == [D0, D0, -(2 ** 63)]
