"""Sources: CSV, JSONL, columns (lists, numpy, pandas), Python callbacks; Store.load()."""
import datetime as dt
import gc

import pytest

import persona
from conftest import D0, MINUTE, SCENARIO, SCENARIO_CSV

RETAIL_CSV = """InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,2,01/12/2010 08:26,3.5,17850,United Kingdom
536365,71053,4,01/12/2010 08:26,1.25,17850,United Kingdom
536366,22633,3,01/12/2010 08:28,0.5,17850,United Kingdom
536367,84879,1,01/12/2010 08:34,10,13047,France
"""
RETAIL_MAPPING = dict(user="CustomerID", time="InvoiceDate", time_format="%d/%m/%Y %H:%M",
                      event_const="purchase", item="StockCode", basket="InvoiceNo",
                      value="Quantity*UnitPrice", props={"country": "Country"})
RETAIL_EXPORT = (  # 2*3.5 + 4*1.25 + 3*0.5 = 13.5; numeric keys sort numerically
    "user_id,events,purchase,value_sum,first_ts,last_ts\n"
    "13047,1,1,10,2010-12-01 08:34:00,2010-12-01 08:34:00\n"
    "17850,3,3,13.5,2010-12-01 08:26:00,2010-12-01 08:28:00\n")

JSONL = """{"user_id":"a","timestamp":"2021-03-01T00:00:00Z","event":"view","page":"/home"}
{"user_id":"a","timestamp":1614556860,"event":"buy","value":5}
not json
{"user_id":7,"timestamp":1614556920000,"event":"view","page":"/p"}

{"user_id":"b","timestamp":"2021-03-01T00:03:00Z","event":"view","value":"x"}
"""


def load(source, **options):
    with persona.Store(half_life=86_400_000) as s, source:
        stats = s.load(source, **options)
        return stats, s.export_csv(), s.profiles()


# ---------------------------------------------------------------- CSV and JSONL

def test_csv_text_with_mapping():
    stats, csv, profiles = load(persona.Source.csv_text(RETAIL_CSV, **RETAIL_MAPPING))
    assert stats == persona.IngestStats(rows_read=4, bytes_read=len(RETAIL_CSV),
                                        events_accepted=4, users_created=2)
    assert csv == RETAIL_EXPORT
    assert profiles[1]["orders"] == 2  # invoices 536365 and 536366
    assert profiles[1]["last"] == {"country": {"value": "United Kingdom",
                                               "time": "2010-12-01 08:28:00"}}
    assert profiles[0]["first_seen"] == "2010-12-01 08:34:00"


def test_csv_file_with_delimiter(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(RETAIL_CSV.replace(",", ";"))
    stats, csv, _ = load(persona.Source.csv(path, delimiter=";", **RETAIL_MAPPING))
    assert (stats.events_accepted, stats.bytes_read) == (4, len(RETAIL_CSV))
    assert csv == RETAIL_EXPORT


def test_csv_bad_rows_counted():
    text = 'user_id,timestamp\na,2021-01-01\nb\n,2021-01-01\nc,"x\n'
    stats, csv, _ = load(persona.Source.csv_text(text))
    assert (stats.rows_read, stats.events_accepted, stats.rejected, stats.examples) == (
        4, 1,
        {"missing_user": 1, "field_count": 1, "bad_quote": 1},
        {"field_count": [3], "missing_user": [4], "bad_quote": [5]})  # header = line 1


def test_csv_invalid_utf8_counted():
    text = "user_id,timestamp\na,2021-01-01\n\udcff,2021-01-01\n".encode("utf-8", "surrogatepass")
    stats, _, _ = load(persona.Source.csv_text(text + b"\xff\xfe,2021-01-01\n"))
    assert (stats.events_accepted, stats.rejected, stats.examples) == (
        1, {"bad_utf8": 2}, {"bad_utf8": [3, 4]})


def test_csv_strict_raises_parse_error_with_line():
    text = "user_id,timestamp\na,2021-01-01\nb\nc,2021-01-02\n"
    with persona.Store() as store:
        with pytest.raises(persona.ParseError) as err:
            store.load(persona.Source.csv_text(text), strict=True)
        assert (err.value.line, err.value.message) == (
            3, "line 3: 1 fields where the header has 2 (field_count)")
        assert err.value.stats.events_accepted == 1  # rows before the bad one stay applied
        assert list(store.users()) == ["a"]


def test_csv_mapping_error_lists_the_header():
    with pytest.raises(persona.InvalidArgumentError) as err:
        persona.Source.csv_text(RETAIL_CSV, user="Customer")
    assert err.value.message == (
        "user column 'Customer' is not in the header (columns: InvoiceNo, StockCode, "
        "Quantity, InvoiceDate, UnitPrice, CustomerID, Country)")


def test_jsonl_text():
    stats, csv, profiles = load(persona.Source.jsonl_text(JSONL, props={"page": "page"}))
    assert stats == persona.IngestStats(
        rows_read=5, bytes_read=len(JSONL), events_accepted=3, events_rejected=2,
        rejected={"bad_number": 1, "bad_json": 1}, examples={"bad_number": [6], "bad_json": [3]},
        users_created=2)
    assert csv == ("user_id,events,buy,view,value_sum,first_ts,last_ts\n"
                   "7,1,0,1,0,2021-03-01 00:02:00,2021-03-01 00:02:00\n"
                   "a,2,1,1,5,2021-03-01 00:00:00,2021-03-01 00:01:00\n")
    assert profiles[1]["last"] == {"page": {"value": "/home", "time": "2021-03-01 00:00:00"}}


def test_jsonl_file_strict(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(JSONL)
    with persona.Store() as store:
        with pytest.raises(persona.ParseError) as err:
            store.load(persona.Source.jsonl(path), strict=True)
        assert (err.value.line, err.value.message) == (
            3, "line 3: the line is not one JSON object (bad_json)")
        assert store.info()["events"] == 2


# ---------------------------------------------------------------- columns

@pytest.mark.parametrize("numpy_present", [True, False])
def test_records_match_ingest(numpy_present, request):
    if not numpy_present:
        request.getfixturevalue("hide_numpy")
    stats, csv, profiles = load(persona.Source.records(SCENARIO))
    assert stats == persona.IngestStats(rows_read=8, events_accepted=8, users_created=2)
    assert csv == SCENARIO_CSV
    with persona.Store(half_life=86_400_000) as direct:
        direct.ingest(SCENARIO)
        assert profiles == direct.profiles()


def test_records_bad_events_counted_by_ordinal():
    records = [{"user": "a", "time": D0}, {"user": "", "time": D0},
               {"user": "b", "time": "31/31/2021"}, {"user": "c", "time": D0, "type": ""}]
    stats, _, _ = load(persona.Source.records(records))
    assert (stats.rows_read, stats.events_accepted, stats.examples) == (
        4, 1, {"missing_user": [2], "bad_time": [3], "missing_event": [4]})


COLUMNS = dict(
    user=["a", "b", "a", None],
    time=[D0, D0 + MINUTE, D0 + 40 * MINUTE, D0],
    type=["view", "buy", None, "view"],
    value=[None, 2.5, 4.0, None],
    props={"referrer": ["ads", None, "mail", "x"]},
)
COLUMNS_CSV = ("user_id,events,buy,event,view,value_sum,first_ts,last_ts\n"
               "a,2,0,1,1,4,2021-03-01 00:00:00,2021-03-01 00:40:00\n"
               "b,1,1,0,0,2.5,2021-03-01 00:01:00,2021-03-01 00:01:00\n")


def test_arrays_from_lists_without_numpy(hide_numpy):
    stats, csv, profiles = load(persona.Source.arrays(**COLUMNS))
    assert (stats.events_accepted, stats.rejected) == (3, {"missing_user": 1})
    assert csv == COLUMNS_CSV
    assert profiles[0]["last"] == {"referrer": {"value": "mail", "time": "2021-03-01 00:40:00"}}
    assert profiles[0]["sessions"] == 2  # 40 minutes apart


def test_arrays_from_numpy_match_lists():
    np = pytest.importorskip("numpy")
    columns = dict(COLUMNS, user=np.array(COLUMNS["user"], dtype=object),
                   time=np.array(COLUMNS["time"], dtype=np.int64),
                   value=np.array([np.nan, 2.5, 4.0, np.nan]))
    _, csv, _ = load(persona.Source.arrays(**columns))
    assert csv == COLUMNS_CSV
    as_datetime64 = np.array(COLUMNS["time"], dtype="datetime64[ms]").astype("datetime64[ns]")
    _, csv, _ = load(persona.Source.arrays(**dict(COLUMNS, time=as_datetime64)))
    assert csv == COLUMNS_CSV


def test_arrays_times_as_datetimes_and_text():
    times = [dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc), "2021-03-01T00:01:00Z",
             dt.datetime(2021, 3, 1, 0, 40), "2021-03-01"]
    _, csv, _ = load(persona.Source.arrays(**dict(COLUMNS, time=times)))
    assert csv == COLUMNS_CSV
    local = ["01/03/2021 01:00", "01/03/2021 01:01", "01/03/2021 01:40", "01/03/2021 01:00"]
    _, csv, _ = load(persona.Source.arrays(**dict(COLUMNS, time=local),
                                           time_format="%d/%m/%Y %H:%M", utc_offset_minutes=60))
    assert csv == COLUMNS_CSV


def test_arrays_must_have_equal_lengths():
    with pytest.raises(ValueError, match="columns differ in length"):
        persona.Source.arrays(user=["a", "b"], time=[1])


def test_arrays_stay_alive_while_the_source_lives():
    def make():
        users = [f"user-{i}" for i in range(1000)]
        return persona.Source.arrays(user=users, time=list(range(D0, D0 + 1000)),
                                     props={"referrer": [f"r{i}" for i in range(1000)]})

    source = make()
    gc.collect()
    [f"garbage-{i}" * 3 for i in range(10000)]  # reuse freed memory if anything was freed
    with persona.Store() as store:
        store.load(source)
        assert store.last("user-999", "referrer") == ("r999", D0 + 999)
        assert store.info()["users"] == 1000
    source.close()


def test_frame():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({
        "user_id": ["a", "b", "a", "c"],
        "timestamp": pd.to_datetime(["2021-03-01 00:00", "2021-03-01 00:01",
                                     "2021-03-01 00:40", None]),
        "event": ["view", "buy", "event", "view"],
        "value": [None, 2.5, 4.0, 1.0],
        "ref": ["ads", None, "mail", "x"],
    })
    stats, csv, profiles = load(persona.Source.frame(df, props={"referrer": "ref"}))
    assert (stats.events_accepted, stats.rejected, stats.examples) == (
        3, {"bad_time": 1}, {"bad_time": [4]})  # NaT
    assert csv == COLUMNS_CSV
    assert profiles[0]["last"]["referrer"] == {"value": "mail", "time": "2021-03-01 00:40:00"}
    aware = df.assign(timestamp=df["timestamp"].dt.tz_localize("Europe/Paris"))
    _, csv, _ = load(persona.Source.frame(aware))
    assert csv.splitlines()[1] == "a,2,0,1,1,4,2021-02-28 23:00:00,2021-02-28 23:40:00"


# ---------------------------------------------------------------- Python callbacks

BATCHES = [SCENARIO[:3], [], SCENARIO[3:6], SCENARIO[6:]]


def test_callback_source():
    stats, csv, _ = load(persona.Source.callback(BATCHES))
    assert stats == persona.IngestStats(rows_read=8, events_accepted=8, users_created=2)
    assert csv == SCENARIO_CSV


def test_callback_source_rewinds_lists():
    source = persona.Source.callback(BATCHES)
    with persona.Store() as first, persona.Store() as second:
        first.load(source)
        assert second.load(source).rows_read == 0  # consumed
        source.rewind()
        second.load(source)
        assert second.export_csv() == first.export_csv() == SCENARIO_CSV
    source.close()


def test_generator_cannot_rewind():
    source = persona.Source.callback(iter(BATCHES))
    with pytest.raises(persona.UnsupportedError) as err:
        source.rewind()
    assert err.value.message == "this source cannot rewind"


class Boom(Exception):
    pass


def test_exception_in_generator_is_reraised():
    def batches():
        yield SCENARIO[:2]
        raise Boom("no more events")

    with persona.Store() as store:
        with pytest.raises(Boom, match="no more events") as err:
            store.load(persona.Source.callback(batches()))
        assert isinstance(err.value.__cause__, persona.CallbackError)
        assert err.value.__cause__.message == "the source's next returned -1"
        assert store.info()["events"] == 2  # the batch before stays applied


def test_bad_event_dict_in_a_batch_is_reraised():
    with persona.Store() as store:
        with pytest.raises(ValueError, match=r"^event 0: unknown field\(s\) \['when'\]"):
            store.load(persona.Source.callback([[{"user": "a", "when": 1}]]))


def test_callback_strict_uses_ordinals():
    batches = [SCENARIO[:2], [SCENARIO[2], {"user": "x", "time": D0, "value": "?"}]]
    with persona.Store() as store:
        with pytest.raises(persona.ParseError) as err:
            store.load(persona.Source.callback(batches), strict=True)
        assert (err.value.line, err.value.message) == (
            4, "event 4: value is not finite (bad_number)")
        assert err.value.stats.events_accepted == 2


def test_callback_attributes():
    attributes = [("u1", "age", 42), ("u1", "vip", True), ("u3", "since",
                  dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)), ("u3", "note", None)]
    with persona.Store() as store:
        store.load(persona.Source.callback(BATCHES, attributes=attributes))
        assert store.profile("u1")["attributes"] == {"age": 42, "vip": True}
        assert store.profile("u3")["attributes"] == {"since": "2020-01-01 00:00:00",
                                                     "note": None}


def test_progress_callback():
    calls = []
    batches = [SCENARIO[i:i + 3] for i in (0, 3)] + [[{"user": "z", "time": D0}] * 3]
    with persona.Store() as store:
        store.load(persona.Source.callback(batches),
                   progress=lambda rows, nbytes: calls.append((rows, nbytes)), progress_every=4)
    assert calls == [(6, 0)]  # after rows 3, 6, 9: first at >= 4, next due at >= 10


def test_progress_can_stop_and_raise():
    with persona.Store() as store:
        with pytest.raises(persona.CallbackError) as err:
            store.load(persona.Source.records(SCENARIO), progress=lambda r, b: False,
                       progress_every=1)
        assert err.value.message == "the progress callback asked to stop"

        def fail(rows, nbytes):
            raise Boom(rows)

        with pytest.raises(Boom) as err:
            store.load(persona.Source.records(SCENARIO), progress=fail, progress_every=1)
        assert err.value.args == (8,)


# ---------------------------------------------------------------- lifecycle

def test_source_lifecycle():
    with pytest.raises(TypeError):
        persona.Source()
    source = persona.Source.csv_text(RETAIL_CSV, **RETAIL_MAPPING)
    source.close()
    source.close()
    with persona.Store() as store:
        with pytest.raises(ValueError, match="^operation on a closed source$"):
            store.load(source)
    with pytest.raises(ValueError):
        source.rewind()
    with persona.Source.records(SCENARIO) as source:
        pass
    assert source.closed


def test_store_and_source_free_in_any_order():
    store, source = persona.Store(), persona.Source.records(SCENARIO)
    store.load(source)
    store.close()
    source.close()
    store, source = persona.Store(), persona.Source.callback(BATCHES)
    store.load(source)
    del source
    gc.collect()
    assert store.info()["events"] == 8
    store.close()


def test_unknown_mapping_argument():
    with pytest.raises(TypeError, match=r"^unknown mapping argument\(s\) \['users'\]"):
        persona.Source.csv_text(RETAIL_CSV, users="CustomerID")
