"""Bad events are counted per reason and skipped; a mixed batch applies its good events."""
import ctypes
import math
from ctypes import byref

import pytest

import persona
from persona import _capi, _structs
from conftest import D0, MINUTE

GOOD = [
    {"user": "a", "time": D0, "type": "view", "event_id": "id-1"},
    {"user": "b", "time": D0 + MINUTE, "type": "buy", "value": 4.0, "basket": "o1"},
    {"user": "a", "time": D0 + 2 * MINUTE, "type": "buy", "value": 2.5,
     "props": {"referrer": "ads"}},
]
BAD = [
    {"user": "", "time": D0},                                     # missing_user
    {"time": D0},                                                 # missing_user
    {"user": "c", "time": D0, "type": ""},                        # missing_event
    {"user": "c", "time": D0, "value": math.inf},                 # bad_number
    {"user": "c", "time": D0, "value": "twelve"},                 # bad_number
    {"user": "c\udcff", "time": D0},                              # bad_utf8 (lone surrogate)
    {"user": b"\xc3\x28", "time": D0},                            # bad_utf8 (raw bytes)
    {"user": "c", "time": D0, "event_id": "id-1"},                # duplicate_id
    {"user": "c", "time": "not a time"},                          # bad_time
    {"user": "c", "time": None},                                  # bad_time
    {"user": "c", "time": D0, "props": {"referrer": "\udc80"}},   # bad_utf8
]


def mixed_batch():
    batch = []
    for i in range(max(len(GOOD), len(BAD))):  # interleave: good, bad, good, bad, ...
        batch += GOOD[i:i + 1] + BAD[i:i + 1]
    return batch


def test_bad_events_counted_per_reason(store):
    stats = store.ingest(mixed_batch())
    # 1-based positions: 1 g, 2 no user, 3 g, 4 no user, 5 g, 6 empty type, 7 inf, 8 "twelve",
    # 9 surrogate, 10 bytes, 11 duplicate id, 12 bad time text, 13 no time, 14 bad prop
    assert stats == persona.IngestStats(
        rows_read=14, bytes_read=0, events_accepted=3, events_rejected=11,
        rejected={"missing_user": 2, "bad_time": 2, "bad_number": 2, "bad_utf8": 3,
                  "duplicate_id": 1, "missing_event": 1},
        examples={"missing_user": [2, 4], "bad_time": [12, 13], "bad_number": [7, 8],
                  "bad_utf8": [9, 10, 14], "duplicate_id": [11], "missing_event": [6]},
        users_created=2)


def test_mixed_batch_equals_the_good_events_alone():
    with persona.Store(seed=1) as mixed, persona.Store(seed=2) as good:
        mixed.ingest(mixed_batch())
        good.ingest(GOOD)
        assert mixed.export_csv() == good.export_csv() == (
            "user_id,events,buy,view,value_sum,first_ts,last_ts\n"
            "a,2,1,1,2.5,2021-03-01 00:00:00,2021-03-01 00:02:00\n"
            "b,1,1,0,4,2021-03-01 00:01:00,2021-03-01 00:01:00\n")
        assert mixed.export_jsonl() == good.export_jsonl()


def test_duplicate_across_batches(store):
    store.ingest(GOOD)
    stats = store.ingest([{"user": "a", "time": D0, "event_id": "id-1"},
                          {"user": "a", "time": D0, "event_id": "id-2"}])
    assert (stats.events_accepted, stats.rejected, stats.examples) == (
        1, {"duplicate_id": 1}, {"duplicate_id": [1]})


def test_strict_mode_raises_parse_error_and_applies_nothing(store):
    with pytest.raises(persona.ParseError) as err:
        store.ingest(GOOD + [{"user": "", "time": D0}] + GOOD, strict=True)
    assert (err.value.line, err.value.column) == (4, 0)
    assert err.value.message == "event 4: user is missing (missing_user)"
    assert isinstance(err.value, ValueError)
    assert store.info()["events"] == 0


def test_unknown_fields_and_nul_bytes_are_python_errors(store):
    with pytest.raises(ValueError, match=r"^event 1: unknown field\(s\) \['usr'\]"):
        store.ingest([GOOD[0], {"usr": "a", "time": 1}])
    with pytest.raises(ValueError, match="^event 0: user contains a NUL byte"):
        store.ingest([{"user": "a\0b", "time": 1}])
    with pytest.raises(TypeError, match="^event 0: an event is a dict"):
        store.ingest([("a", 1)])
    assert store.info()["events"] == 0


def test_raw_ctypes_call_with_invalid_utf8(store):
    """The bytes reach the library untouched: it, not Python, rejects them."""
    events = (_structs.persona_event * 2)()
    for event, user in zip(events, (b"ok", b"\xff\xfe")):
        _capi.lib.persona_event_init(byref(event), ctypes.sizeof(event))
        event.user, event.time_ms = user, D0
    stats = _capi.new_struct(_structs.persona_ingest_stats)
    _capi.lib.persona_store_ingest(byref(stats), store._handle, events, 2, None)
    assert (stats.events_accepted, stats.rejected[3], stats.example_lines[3][0]) == (1, 1, 2)


def test_empty_ingest(store):
    assert store.ingest([]) == persona.IngestStats()
