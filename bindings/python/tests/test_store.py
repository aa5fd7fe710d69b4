"""Store: traits of a hand-built scenario, exports, attributes, consent, lifecycle."""
import datetime as dt
import gc
import io
import threading

import pytest

import persona
from conftest import D0, D1, DAY, HOUR, MINUTE, SCENARIO, SCENARIO_CSV

UTC = dt.timezone.utc


# ---------------------------------------------------------------- traits

def test_ingest_stats(store):
    stats = store.ingest(SCENARIO)
    assert stats == persona.IngestStats(rows_read=8, bytes_read=0, events_accepted=8,
                                        events_rejected=0, rejected={}, examples={},
                                        users_created=2)


def test_scalar_traits(scenario_store):
    assert scenario_store.profile_info("u1") == {
        "events": 5,
        "first_seen_ms": 1_614_592_800_000,   # 2021-03-01 10:00
        "last_seen_ms": 1_614_680_700_000,    # 2021-03-02 10:25
        "value_sum": 42.5,                    # 30 + 12.5
        "orders": 2,                          # baskets o1, o2
        "sessions": 2,                        # day 1 and day 2
        "event_types": 2,
        "attributes": 0,
    }


def test_sessions_split_only_after_more_than_the_gap(scenario_store):
    # u2 at 00:00, 00:30 (gap 30 min = not more than the gap), 01:01 (gap 31 min), out of order.
    info = scenario_store.profile_info("u2")
    assert (info["sessions"], info["first_seen_ms"], info["last_seen_ms"]) == (
        2, D0, D0 + 61 * MINUTE)


def test_per_type_counts(scenario_store):
    assert scenario_store.type_count("u1", "purchase") == (2, 42.5)
    assert scenario_store.type_count("u1", "view") == (3, 0.0)
    assert scenario_store.type_count("u1", "click") == (0, 0.0)


def test_last_property(scenario_store):
    assert scenario_store.last("u1", "referrer") == ("newsletter", D0 + 10 * HOUR + 20 * MINUTE)
    with pytest.raises(persona.NotFoundError) as err:
        scenario_store.last("u1", "category")  # category feeds engagement, not "last"
    assert err.value.message == "user 'u1' has no property 'category'"


def test_engagement_with_one_day_half_life(scenario_store):
    # shoes: events at D0 10:00 and D1 10:00; at D2 10:00 their ages are 2 and 1 days.
    assert scenario_store.engagement("u1", "shoes", D1 + DAY + 10 * HOUR) == 0.25 + 0.5
    assert scenario_store.engagement("u1", "shoes", D1 + 10 * HOUR) == 1.5
    at = dt.datetime(2021, 3, 3, 10, 25, tzinfo=UTC)
    assert scenario_store.engagement("u1", "bags", at) == 0.5
    assert scenario_store.engagement("u1", "bags", "2021-03-03T10:25:00Z") == 0.5
    assert scenario_store.engagement("u1", "toys", at) == 0.0


def test_profile_json(scenario_store):
    assert scenario_store.profile("u1") == {
        "user_id": "u1", "events": 5,
        "first_seen": "2021-03-01 10:00:00", "last_seen": "2021-03-02 10:25:00",
        "value_sum": 42.5, "orders": 2, "sessions": 2,
        "types": {"view": {"count": 3, "value": 0, "last": "2021-03-02 10:00:00"},
                  "purchase": {"count": 2, "value": 42.5, "last": "2021-03-02 10:25:00"}},
        "last": {"referrer": {"value": "newsletter", "time": "2021-03-01 10:20:00"}},
        # evaluated at the last event (D1 10:25): shoes 25 min and 1 day 25 min old
        "engagement": {"shoes": pytest.approx(1.5 * 2 ** (-25 / 1440), rel=1e-15), "bags": 1},
        "attributes": {}, "consent": {},
    }


def test_info_users_and_types(scenario_store):
    info = scenario_store.info()
    memory = {k: info.pop(k) for k in ("bytes_events", "bytes_profiles", "bytes_total")}
    assert info == {"users": 2, "events": 8, "event_types": 2, "items": 2, "baskets": 2,
                    "first_time_ms": D0, "last_time_ms": 1_614_680_700_000}
    assert memory["bytes_total"] >= memory["bytes_events"] + memory["bytes_profiles"] > 0
    assert list(scenario_store.users()) == ["u1", "u2"]
    assert scenario_store.event_types() == ["view", "purchase"]


def test_long_keys_grow_the_buffer(store):
    long_user = "é" * 1500  # 3000 bytes, more than the first 256-byte buffer
    store.ingest([{"user": long_user, "time": D0, "props": {"referrer": "r" * 3000}}])
    assert list(store.users()) == [long_user]
    assert store.last(long_user, "referrer") == ("r" * 3000, D0)
    store.set_attr(long_user, "bio", "b" * 4000)
    assert store.attr(long_user, "bio") == "b" * 4000


# ---------------------------------------------------------------- exports

def test_export_csv(scenario_store):
    assert scenario_store.export_csv() == SCENARIO_CSV


def test_profiles_are_the_jsonl_export(scenario_store):
    profiles = scenario_store.profiles()
    assert [p["user_id"] for p in profiles] == ["u1", "u2"]
    assert profiles[0] == scenario_store.profile("u1")
    # u2's events came out of order: "last" is still the latest time, not the last arrival
    assert profiles[1]["types"] == {"view": {"count": 3, "value": 0, "last": "2021-03-01 01:01:00"}}


def test_export_streams_to_files(scenario_store):
    binary, text = io.BytesIO(), io.StringIO()
    scenario_store.export(binary, "csv")
    scenario_store.export(text, "jsonl")
    assert binary.getvalue() == SCENARIO_CSV.encode()
    assert text.getvalue() == scenario_store.export_jsonl()


def test_export_writer_exception_is_reraised(scenario_store):
    class Full(io.RawIOBase):
        def write(self, data):
            raise OSError(28, "disk full")

    with pytest.raises(OSError, match="disk full") as err:
        scenario_store.export(Full(), "csv")
    assert isinstance(err.value.__cause__, persona.CallbackError)
    assert err.value.__cause__.message == "the export writer returned an error"


def test_profiles_frame(scenario_store):
    pd = pytest.importorskip("pandas")
    frame = scenario_store.profiles_frame()
    assert list(frame.columns) == ["user_id", "events", "purchase", "view", "value_sum",
                                   "first_ts", "last_ts"]
    assert frame["user_id"].tolist() == ["u1", "u2"]
    assert frame["events"].tolist() == [5, 3]
    assert frame["value_sum"].tolist() == [42.5, 0.0]
    assert frame["last_ts"].tolist() == [pd.Timestamp("2021-03-02 10:25:00"),
                                         pd.Timestamp("2021-03-01 01:01:00")]


def test_profiles_frame_without_pandas(scenario_store, hide_numpy):
    with pytest.raises(ImportError, match=r"profiles_frame\(\) needs pandas"):
        scenario_store.profiles_frame()


# ---------------------------------------------------------------- attributes

ATTRIBUTES = [
    ("age", 42, 42.0, float),
    ("score", 1.5, 1.5, float),
    ("vip", True, True, bool),
    ("name", "Zoë ✓", "Zoë ✓", str),
    ("since", dt.datetime(2020, 1, 1, 12, tzinfo=UTC), dt.datetime(2020, 1, 1, 12, tzinfo=UTC),
     dt.datetime),
    ("naive", dt.datetime(2020, 1, 1, 12), dt.datetime(2020, 1, 1, 12, tzinfo=UTC), dt.datetime),
    ("paris", dt.datetime(2020, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1))),
     dt.datetime(2020, 1, 1, 12, tzinfo=UTC), dt.datetime),
    ("nothing", None, None, type(None)),
]


@pytest.mark.parametrize("name, value, expected, kind", ATTRIBUTES)
def test_attribute_round_trip(store, name, value, expected, kind):
    store.set_attr("u1", name, value)
    result = store.attr("u1", name)
    assert result == expected and type(result) is kind
    assert store.attr_type("u1", name) is kind


def test_attributes_in_profile(store):
    for name, value, _, _ in ATTRIBUTES:
        store.set_attr("u1", name, value)
    assert store.profile("u1")["attributes"] == {
        "age": 42, "score": 1.5, "vip": True, "name": "Zoë ✓", "since": "2020-01-01 12:00:00",
        "naive": "2020-01-01 12:00:00", "paris": "2020-01-01 12:00:00", "nothing": None}
    info = store.profile_info("u1")
    assert (info["events"], info["attributes"]) == (0, 8)  # setting creates an empty profile


def test_attribute_type_can_change(store):
    store.set_attr("u1", "age", 42)
    store.set_attr("u1", "age", "forty-two")
    assert store.attr("u1", "age") == "forty-two"


def test_wrong_type_read_carries_the_library_message(store):
    store.set_attr("u1", "vip", True)
    with pytest.raises(ValueError) as err:
        store.attr("u1", "vip", expect=float)
    assert isinstance(err.value, persona.InvalidArgumentError)
    assert err.value.message == "attribute 'vip' is BOOL, not NUM"
    assert store.attr("u1", "vip", expect=bool) is True


def test_invalid_attribute_values(store):
    with pytest.raises(ValueError) as err:
        store.set_attr("u1", "score", float("inf"))
    assert err.value.message == "attribute 'score': value is not finite"
    with pytest.raises(TypeError):
        store.set_attr("u1", "tags", ["a", "b"])
    with pytest.raises(persona.InvalidArgumentError):
        store.set_attr("u1", "", 1)


def test_remove_attribute(store):
    store.set_attr("u1", "age", 42)
    store.remove_attr("u1", "age")
    with pytest.raises(persona.NotFoundError) as err:
        store.attr("u1", "age")
    assert err.value.message == "user 'u1' has no attribute 'age'"
    with pytest.raises(KeyError):
        store.remove_attr("u1", "age")


# ---------------------------------------------------------------- consent

def test_consent(store):
    store.set_consent("u1", "marketing", True, D0)
    assert store.consent("u1", "marketing") == (True, D0)
    store.set_consent("u1", "marketing", False, "2021-03-02T00:00:00Z")
    assert store.consent("u1", "marketing") == (False, D1)
    with pytest.raises(persona.NotFoundError) as err:
        store.consent("u1", "analytics")
    assert err.value.message == "no consent for 'analytics' recorded for 'u1'"
    assert store.profile("u1")["consent"] == {
        "marketing": {"granted": False, "time": "2021-03-02 00:00:00"}}


# ---------------------------------------------------------------- lifecycle

def test_close_is_idempotent_and_later_calls_raise():
    s = persona.Store()
    users = s.users()
    s.close()
    s.close()
    assert s.closed
    for call in (lambda: s.ingest([]), s.info, lambda: s.profile("u1"), lambda: next(users),
                 lambda: s.set_attr("u", "a", 1)):
        with pytest.raises(ValueError, match="^operation on a closed store$"):
            call()


def test_context_manager_closes():
    with persona.Store() as s:
        s.ingest([{"user": "a", "time": 1}])
        assert not s.closed
    assert s.closed
    with pytest.raises(ValueError):
        with s:
            pass


def test_garbage_collection_frees_the_store():
    s = persona.Store()
    finalizer = s._finalizer
    del s
    gc.collect()
    assert not finalizer.alive


def test_options_validated_by_the_library():
    with pytest.raises(persona.InvalidArgumentError) as err:
        persona.Store(session_gap=-1)
    assert err.value.message == ("persona_store_options: session gap and half-life must not "
                                 "be negative")
    with persona.Store(session_gap=dt.timedelta(minutes=5)) as s:
        s.ingest([{"user": "a", "time": 0}, {"user": "a", "time": 6 * MINUTE}])
        assert s.profile_info("a")["sessions"] == 2


def test_concurrent_ingest_from_threads(store):
    def work(thread):
        for batch in range(25):
            store.ingest([{"user": f"t{thread}", "time": D0 + (batch * 10 + i) * MINUTE,
                           "type": "tick"} for i in range(10)])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.info()["events"] == 1000
    assert [store.type_count(f"t{t}", "tick") for t in range(4)] == [(250, 0.0)] * 4


def test_save_and_open_give_the_same_store(scenario_store, tmp_path):
    scenario_store.set_attr("u1", "tier", "gold")
    path = tmp_path / "store.snap"
    scenario_store.save(path)
    with persona.Store.open(path) as reopened:
        assert reopened.export_csv() == scenario_store.export_csv()
        assert reopened.export_jsonl() == scenario_store.export_jsonl()
        assert reopened.info()["events"] == scenario_store.info()["events"]
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_open_refuses_damaged_and_missing_files(scenario_store, tmp_path):
    path = tmp_path / "store.snap"
    scenario_store.save(str(path))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(persona.CorruptError, match="store.snap"):
        persona.Store.open(path)
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(persona.CorruptError):
        persona.Store.open(path)
    with pytest.raises(persona.PersonaIOError, match="missing.snap"):
        persona.Store.open(tmp_path / "missing.snap")
    with pytest.raises(persona.PersonaIOError):
        scenario_store.save(tmp_path / "no-such-dir" / "x.snap")


def test_export_profile_has_the_profile_and_the_events_in_arrival_order(store):
    store.ingest([{"user": "u1", "time": 2000, "type": "buy", "value": 3, "item": "i9"},
                  {"user": "u2", "time": 1500, "type": "view"},
                  {"user": "u1", "time": 1000, "type": "view", "props": {"category": "hats"}}])
    person = store.export_profile("u1")
    assert person["format"] == "persona-person-1"
    assert person["profile"] == store.profile("u1")
    assert person["events"] == [
        {"time": "1970-01-01 00:00:02", "type": "buy", "item": "i9", "value": 3},
        {"time": "1970-01-01 00:00:01", "type": "view", "props": {"category": "hats"}}]
    with pytest.raises(persona.NotFoundError):
        store.export_profile("nobody")


def test_erase_leaves_a_store_that_never_saw_the_person(tmp_path):
    events = [{"user": "keep", "time": 1000, "type": "view", "item": "shared"},
              {"user": "gone", "time": 1500, "type": "buy", "item": "secret-item", "value": 9,
               "event_id": "secret-id"},
              {"user": "keep", "time": 2000, "type": "buy", "item": "shared", "value": 2}]
    with persona.Store(seed=3) as a, persona.Store(seed=3) as b:
        a.ingest(events)
        a.set_attr("gone", "email", "gone@example.com")
        b.ingest([e for e in events if e["user"] != "gone"])
        receipt = a.erase("gone")
        assert receipt == {"events": 1, "identifiers": 1, "attributes": 1, "consents": 0,
                           "stale_models": 0}
        assert a.export_jsonl() == b.export_jsonl()
        assert a.export_profile("keep") == b.export_profile("keep")
        with pytest.raises(persona.NotFoundError):
            a.erase("gone")
        path = tmp_path / "a.snap"
        a.save(path)
        data = path.read_bytes()
        assert b"secret" not in data and b"gone" not in data


def test_anonymize_keeps_behaviour_under_a_new_key(store):
    store.ingest([{"user": "ann@example.com", "time": 1000, "type": "buy", "value": 4,
                   "event_id": "order-1"},
                  {"user": "ann@example.com", "time": 2000, "type": "view"}])
    store.set_attr("ann@example.com", "name", "Ann")
    store.set_attr("ann@example.com", "score", 3)
    before = store.profile("ann@example.com")
    key = store.anonymize("ann@example.com")
    assert key.startswith("anon-") and len(key) == 21
    with pytest.raises(persona.NotFoundError):
        store.profile("ann@example.com")
    after = store.profile(key)
    assert after["attributes"] == {"score": 3}
    for trait in ("events", "value_sum", "sessions", "types", "first_seen", "last_seen"):
        assert after[trait] == before[trait]
    assert all("id" not in e for e in store.export_profile(key)["events"])
    assert store.ingest([{"user": "x", "time": 5, "type": "view",
                          "event_id": "order-1"}]).events_accepted == 1


def test_do_not_track_suppresses_events_and_survives_a_snapshot(store, tmp_path):
    store.ingest([{"user": "u1", "time": 1000, "type": "view"}])
    store.set_tracking("u1", False)
    store.set_tracking("new", False)            # opting out before any event
    stats = store.ingest([{"user": "u1", "time": 2000, "type": "buy"},
                          {"user": "new", "time": 2000, "type": "view"},
                          {"user": "u2", "time": 2000, "type": "view"}], strict=True)
    assert stats.events_accepted == 1 and stats.rejected == {"suppressed": 2}
    assert store.profile("u1")["events"] == 1 and not store.tracking("u1")
    store.save(tmp_path / "s.snap")
    with persona.Store.open(tmp_path / "s.snap") as again:
        assert not again.tracking("u1") and again.tracking("u2")
        again.set_tracking("u1", True)
        assert again.ingest([{"user": "u1", "time": 3000, "type": "buy"}]).events_accepted == 1
