"""Cohort, lifecycle and stickiness tables (persona.CohortTable, Store.cohort/lifecycle/
stickiness). Every expected table below is worked out by hand from SHOP."""
import ctypes
import datetime as dt
import gc
import io
import json
import math
import threading
import weakref
from ctypes import byref

import pytest

import persona
from persona import _capi, _structs

UTC = dt.timezone.utc
H = 3_600_000

# Three users over January - March 2024 (months: Jan = p0 of the January cohort).
#   a: signup Jan 5 (src=ads), purchase 10.0 Feb 10, view Mar 10 (the store's last event)
#   b: view Jan 20 (src=seo), purchase 5.5 Mar 1
#   c: view Feb 3, purchase 2.25 Feb 4 (no src)
SHOP = [
    {"user": "a", "time": "2024-01-05T10:00:00Z", "type": "signup", "props": {"src": "ads"}},
    {"user": "a", "time": "2024-02-10T10:00:00Z", "type": "purchase", "value": 10.0},
    {"user": "a", "time": "2024-03-10T10:00:00Z", "type": "view"},
    {"user": "b", "time": "2024-01-20T10:00:00Z", "type": "view", "props": {"src": "seo"}},
    {"user": "b", "time": "2024-03-01T10:00:00Z", "type": "purchase", "value": 5.5},
    {"user": "c", "time": "2024-02-03T10:00:00Z", "type": "view"},
    {"user": "c", "time": "2024-02-04T10:00:00Z", "type": "purchase", "value": 2.25},
]
ALL = ("events", "revenue")
METRIC_NAMES = ("users", "events", "revenue", "rate", "ltv")

# Monthly classic retention of SHOP. Cohorts: 2024-01 = {a, b}, 2024-02 = {c}.
# 2024-02 p2 is April, after the store's last event (Mar 10): unavailable (None).
EXPECTED = {
    "users": [[2, 1, 2], [1, 0, None]],        # Jan: a+b, a, a+b; Feb: c, -, n/a
    "events": [[2, 1, 2], [2, 0, None]],       # Jan: signup+view, purchase, view+purchase
    "revenue": [[0.0, 10.0, 5.5], [2.25, 0.0, None]],
    "rate": [[1.0, 0.5, 1.0], [1.0, 0.0, None]],
    "ltv": [[0.0, 5.0, 7.75], [2.25, 2.25, None]],  # cumulative revenue / cohort size
}
EXPECTED_CSV = "cohort,size,p0,p1,p2\n2024-01,2,2,1,2\n2024-02,1,1,0,\n"
LIFECYCLE_CSV = ("period,new,returning,resurrecting,dormant\n"
                 "2024-01,2,0,0,0\n"      # a, b new
                 "2024-02,1,1,0,1\n"      # c new, a returning, b dormant
                 "2024-03,0,1,1,1\n")     # a returning, b resurrecting, c dormant


@pytest.fixture
def shop():
    with persona.Store() as s:
        s.ingest(SHOP)
        yield s


def table_state(table):
    """Everything readable from a table, for equality checks."""
    state = {"kind": table.kind, "rows": table.row_labels(), "cols": table.col_labels(),
             "sizes": table.sizes(), "starts": [table.row_start(r) for r in range(table.rows)]}
    for metric in METRIC_NAMES:
        try:
            state[metric] = table.matrix(metric)
        except persona.UnsupportedError:
            state[metric] = "not built"
        except persona.InvalidArgumentError:  # lifecycle / stickiness: users only
            state[metric] = "not applicable"
    return state


# ---------------------------------------------------------------- a retention table

def test_retention_by_month_hand_checked(shop):
    with shop.cohort(metrics=ALL) as table:
        assert table.kind == "retention"
        assert (table.rows, table.cols, table.shape) == (2, 3, (2, 3))
        assert table.row_labels() == ["2024-01", "2024-02"]
        assert table.col_labels() == ["p0", "p1", "p2"]
        assert table.sizes() == [2, 1]
        for metric, expected in EXPECTED.items():
            assert table.matrix(metric) == expected, metric
        assert table.matrix() == EXPECTED["users"]
        assert table.row_start(0) == dt.datetime(2024, 1, 1, tzinfo=UTC)
        assert table.row_start(1) == dt.datetime(2024, 2, 1, tzinfo=UTC)
        assert table.export() == EXPECTED_CSV
        assert table.export("csv", "revenue") == ("cohort,size,p0,p1,p2\n"
                                                  "2024-01,2,0,10,5.5\n2024-02,1,2.25,0,\n")


def test_cells_are_typed(shop):
    table = shop.cohort(metrics=ALL)
    assert table.cell(0, 1) == 1 and type(table.cell(0, 1)) is int
    assert table.cell(1, 0, "events") == 2 and type(table.cell(1, 0, "events")) is int
    assert table.cell(0, 2, "revenue") == 5.5
    assert table.cell(0, 1, "rate") == 0.5
    assert table.cell(0, 2, metric="ltv") == 7.75
    assert table.cell(1, 2) is None  # past the data
    assert table.size(0) == 2 and table.suppressed(0, 1) is False


def test_metrics_not_built_raise_unsupported(shop):
    table = shop.cohort()  # users only (rate needs nothing more)
    assert table.matrix("rate") == EXPECTED["rate"]
    with pytest.raises(persona.UnsupportedError) as err:
        table.cell(0, 0, "revenue")
    assert "built without the revenue metric" in err.value.message
    assert err.value.function == "persona_cohort_table_cell"
    with pytest.raises(persona.UnsupportedError):
        table.matrix("ltv")
    with pytest.raises(persona.UnsupportedError):
        table.export("csv", "events")
    assert shop.cohort(metrics="events").matrix("events") == EXPECTED["events"]


# ---------------------------------------------------------------- lifecycle, stickiness

def test_lifecycle_hand_checked(shop):
    table = shop.lifecycle()
    assert table.kind == "lifecycle"
    assert table.row_labels() == ["2024-01", "2024-02", "2024-03"]
    assert table.col_labels() == ["new", "returning", "resurrecting", "dormant"]
    assert table.sizes() == [2, 2, 2]  # users active in the period
    assert table.matrix() == [[2, 0, 0, 0], [1, 1, 0, 1], [0, 1, 1, 1]]
    assert table.export() == LIFECYCLE_CSV
    assert table.row_start(2) == dt.datetime(2024, 3, 1, tzinfo=UTC)
    assert table_state(shop.cohort(kind="lifecycle")) == table_state(table)


def test_lifecycle_of_purchases_and_range(shop):
    # purchases: a Feb, c Feb, b Mar -> Feb: 2 new; Mar: b new, a and c dormant
    assert shop.lifecycle(active=["purchase"]).matrix() == [[2, 0, 0, 0], [1, 0, 0, 2]]
    # from February: a returns (active in January), c new, b dormant; March as above
    table = shop.lifecycle(start="2024-02-01")
    assert table.row_labels() == ["2024-02", "2024-03"]
    assert table.matrix() == [[1, 1, 0, 1], [0, 1, 1, 1]]


def test_stickiness_hand_checked(shop):
    # months active: a 3 (Jan, Feb, Mar), b 2 (Jan, Mar), c 1 (Feb)
    table = shop.stickiness()
    assert table.kind == "stickiness"
    assert (table.row_labels(), table.col_labels()) == (["1", "2", "3"], ["users"])
    assert table.matrix() == [[1], [1], [1]]
    assert table.row_start(0) is None
    assert table.export() == "active_periods,users\n1,1\n2,1\n3,1\n"
    # February and March only: a 2, b 1, c 1
    assert shop.stickiness(start=dt.datetime(2024, 2, 1)).matrix() == [[2], [1]]
    # weeks W01 ... W10: a 3 (W01, W06, W10), b 2 (W03, W09), c 1 (W05)
    weekly = shop.stickiness("week")
    assert weekly.rows == 10
    assert weekly.matrix() == [[1], [1], [1]] + [[0]] * 7


def test_users_only_for_lifecycle_and_stickiness(shop):
    with pytest.raises(persona.PersonaError):
        shop.lifecycle().cell(0, 0, "revenue")


# ---------------------------------------------------------------- every keyword

@pytest.mark.parametrize("period, labels, first_row", [
    ("year", ["2024"], [3]),
    ("quarter", ["2024-Q1"], [3]),
    ("month", ["2024-01", "2024-02"], [2, 1, 2]),
    # ISO weeks: Jan 5 is in W01, Feb 10 in W06 (p5), Mar 10 (a Sunday) in W10 (p9)
    ("week", ["2024-W01", "2024-W03", "2024-W05"], [1, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
])
def test_calendar_periods(shop, period, labels, first_row):
    table = shop.cohort(period)
    assert table.row_labels() == labels
    assert table.matrix()[0] == first_row


def test_day_and_hour_periods(shop):
    day = shop.cohort(period="day")
    assert day.row_labels() == ["2024-01-05", "2024-01-20", "2024-02-03"]
    assert day.matrix()[2][:3] == [1, 1, 0]  # c: Feb 3, Feb 4
    assert day.cols == 66                      # Jan 5 ... Mar 10
    hour = shop.cohort("hour")
    assert hour.row_labels() == ["2024-01-05 10h", "2024-01-20 10h", "2024-02-03 10h"]
    assert hour.matrix()[2][24] == 1           # c's purchase a day later


def test_retention_unbounded(shop):
    # Jan: p1 counts a (Feb) and b (active later, Mar)
    assert shop.cohort(retention="unbounded").matrix() == [[2, 2, 2], [1, 0, None]]
    assert shop.cohort(retention="classic").matrix() == EXPECTED["users"]


@pytest.mark.parametrize("cohort_by", ["first:purchase", ("first_of_type", "purchase")])
def test_cohort_by_first_of_type(shop, cohort_by):
    # first purchases: a Feb 10, c Feb 4, b Mar 1
    table = shop.cohort(cohort_by=cohort_by)
    assert table.row_labels() == ["2024-02", "2024-03"]
    assert table.sizes() == [2, 1]
    assert table.matrix() == [[2, 1], [1, None]]  # a's view in March is p1


def test_cohort_by_first_of_type_skips_events_before_it(shop):
    table = shop.cohort(cohort_by="first:purchase", metrics="events")
    assert table.matrix("events") == [[2, 1], [1, None]]


@pytest.mark.parametrize("cohort_by", ["prop:src", ("property", "src")])
def test_cohort_by_property(shop, cohort_by):
    table = shop.cohort(cohort_by=cohort_by)
    assert table.row_labels() == ["ads", "seo", "(none)"]
    assert table.sizes() == [1, 1, 1]
    # a: Jan, Feb, Mar; b: Jan, Mar; c: Feb (its p0), not in March
    assert table.matrix() == [[1, 1, 1], [1, 0, 1], [1, 0, 0]]
    assert table.row_start(0) is None


def test_cohort_by_first_event_is_the_default(shop):
    assert table_state(shop.cohort(cohort_by="first_event")) == table_state(shop.cohort())
    assert table_state(shop.cohort(cohort_by=None)) == table_state(shop.cohort())


def test_active_types(shop):
    # Jan cohort {a, b}: no purchase in Jan, a in Feb, b in Mar; Feb cohort: c in Feb
    expected = [[0, 1, 1], [1, 0, None]]
    table = shop.cohort(active=["purchase"], metrics=ALL)
    assert table.matrix() == expected
    assert table.matrix("events") == expected
    assert table.matrix("revenue") == [[0.0, 10.0, 5.5], [2.25, 0.0, None]]
    assert shop.cohort(active="purchase").matrix() == expected
    assert shop.cohort(active=["purchase", "view"]).matrix() == [[1, 1, 2], [1, 0, None]]
    assert shop.cohort(active=["nothing"]).matrix() == [[0, 0, 0], [0, 0, None]]
    assert shop.cohort(active=[]).matrix() == EXPECTED["users"]


def test_brackets_and_periods(shop):
    table = shop.cohort(brackets=[0, 1])
    assert table.col_labels() == ["p0", "p1+"]
    assert table.matrix() == [[2, 2], [1, 0]]  # a or b in Feb-Mar; c not in Mar
    assert shop.cohort(brackets=(0, 2)).matrix() == [[2, 2], [1, None]]
    kept = shop.cohort(periods=2)
    assert kept.col_labels() == ["p0", "p1"]
    assert kept.matrix() == [[2, 1], [1, 0]]


def test_min_users_suppresses(shop):
    table = shop.cohort(min_users=2)
    assert table.sizes() == [2, None]
    assert table.matrix() == [[2, None, 2], [None, None, None]]
    assert [[table.suppressed(r, c) for c in range(3)] for r in range(2)] == [
        [False, True, False], [True, True, False]]  # Feb p2: unavailable, not suppressed
    assert table.export() == "cohort,size,p0,p1,p2\n2024-01,2,2,,2\n2024-02,,,,\n"


MIDNIGHT_EDGE = [{"user": "d", "time": "2024-01-31T22:00:00Z"},   # Feb 1 03:30 at +05:30
                 {"user": "d", "time": "2024-02-15T12:00:00Z"}]


@pytest.mark.parametrize("offset", ["+05:30", "+0530", 330, dt.timedelta(hours=5, minutes=30)])
def test_utc_offset_moves_an_event_across_the_month_edge(store, offset):
    store.ingest(MIDNIGHT_EDGE)
    utc = store.cohort()
    assert (utc.row_labels(), utc.matrix()) == (["2024-01"], [[1, 1]])
    local = store.cohort(utc_offset=offset)
    assert (local.row_labels(), local.matrix()) == (["2024-02"], [[1]])
    assert local.row_start(0) == dt.datetime(2024, 1, 31, 18, 30, tzinfo=UTC)


def test_negative_utc_offset(store):
    store.ingest(MIDNIGHT_EDGE)
    table = store.cohort(utc_offset="-01:00")
    assert table.row_labels() == ["2024-01"]
    assert table.row_start(0) == dt.datetime(2024, 1, 1, 1, tzinfo=UTC)
    assert table_state(store.cohort(utc_offset="Z")) == table_state(store.cohort())


ROLLING = [{"user": "e", "time": dt.datetime(2024, 1, 1, 10) + dt.timedelta(hours=h)}
           for h in (0, 23, 25, 50)]


def test_rolling_windows(store):
    store.ingest(ROLLING)
    # 24 h windows from Jan 1 10:00: [0, 24) has 0 h and 23 h, [24, 48) 25 h, [48, 72) 50 h
    day = store.cohort("rolling")
    assert (day.row_labels(), day.matrix()) == (["2024-01"], [[1, 1, 1]])
    assert table_state(store.cohort("rolling", window="24h")) == table_state(day)
    # 12 h windows: 0 h in p0, 23 h in p1, 25 h in p2, nothing in p3, 50 h in p4
    for window in ("12h", "720m", dt.timedelta(hours=12), 12 * H):
        table = store.cohort("rolling", window=window, row_period="day")
        assert table.row_labels() == ["2024-01-01"]
        assert table.matrix()[0][:5] == [1, 1, 1, 0, 1], window
    assert store.cohort("rolling", window="1d").matrix() == [[1, 1, 1]]
    assert store.cohort("rolling", window="2d").matrix() == [[1, 1]]
    assert store.cohort("rolling", row_period="year").row_labels() == ["2024"]


def test_consent(shop):
    shop.set_consent("a", "marketing", True, "2024-01-01")
    shop.set_consent("b", "marketing", False, "2024-01-01")
    table = shop.cohort(consent="marketing")
    assert (table.row_labels(), table.sizes(), table.matrix()) == (["2024-01"], [1],
                                                                    [[1, 1, 1]])
    assert shop.cohort(consent="nobody-asked").rows == 0


@pytest.mark.parametrize("start, end", [
    ("2024-02-01", "2024-03-01"),
    (dt.datetime(2024, 2, 1), dt.datetime(2024, 3, 1, tzinfo=UTC)),
    (1_706_745_600_000, 1_709_251_200_000),
])
def test_start_end(shop, start, end):
    table = shop.cohort(start=start, end=end)
    assert (table.row_labels(), table.matrix()) == (["2024-02"], [[1, 0]])
    assert shop.cohort(end=end).row_labels() == ["2024-01", "2024-02"]
    assert shop.cohort(start=end).rows == 0  # nobody's first event is in March


def test_threads_do_not_change_the_result(shop):
    one = shop.cohort(metrics=ALL, threads=1)
    assert table_state(one) == table_state(shop.cohort(metrics=ALL, threads=4))
    assert table_state(one) == table_state(shop.cohort(metrics=ALL, threads=0))


# ---------------------------------------------------------------- numpy / pandas

@pytest.mark.parametrize("optional", ["present", "hidden"])
def test_lists_with_and_without_numpy(shop, optional, request):
    if optional == "hidden":
        request.getfixturevalue("hide_numpy")
    table = shop.cohort(metrics=ALL)
    assert table.matrix("revenue") == EXPECTED["revenue"]
    assert table.sizes() == [2, 1]
    if optional == "hidden":
        with pytest.raises(ImportError, match=r"needs numpy"):
            table.matrix(as_array=True)
        with pytest.raises(ImportError, match=r"to_pandas\(\) needs pandas"):
            table.to_pandas()


def test_matrix_as_numpy_array(shop):
    np = pytest.importorskip("numpy")
    table = shop.cohort(metrics=ALL)
    for metric, expected in EXPECTED.items():
        array = table.matrix(metric, as_array=True)
        assert array.dtype == np.float64 and array.shape == (2, 3)
        as_nan = np.array([[np.nan if v is None else v for v in row] for row in expected])
        np.testing.assert_array_equal(array, as_nan)
    assert shop.cohort(start="2030-01-01").matrix(as_array=True).shape[0] == 0


def test_to_pandas_retention(shop):
    pd = pytest.importorskip("pandas")
    frame = shop.cohort(metrics=ALL).to_pandas()
    assert frame.shape == (2, 4)
    assert frame.index.name == "cohort"
    assert list(frame.index) == ["2024-01", "2024-02"]
    assert list(frame.columns) == ["size", "p0", "p1", "p2"]
    assert (frame.dtypes == "float64").all()
    assert frame.loc["2024-01"].tolist() == [2.0, 2.0, 1.0, 2.0]
    assert frame.loc["2024-02", "p1"] == 0.0 and math.isnan(frame.loc["2024-02", "p2"])
    from_csv = pd.read_csv(io.StringIO(EXPECTED_CSV), index_col="cohort",
                           dtype={"cohort": str, "size": float, "p0": float, "p1": float,
                                  "p2": float})
    pd.testing.assert_frame_equal(frame, from_csv, check_index_type=False)
    ltv = shop.cohort(metrics=ALL).to_pandas("ltv")
    assert ltv["p2"].tolist()[0] == 7.75 and ltv["size"].tolist() == [2.0, 1.0]
    suppressed = shop.cohort(min_users=2).to_pandas()
    assert math.isnan(suppressed.loc["2024-02", "size"])


def test_to_pandas_lifecycle_and_stickiness(shop):
    pytest.importorskip("pandas")
    lifecycle = shop.lifecycle().to_pandas()
    assert lifecycle.index.name == "period"
    assert list(lifecycle.columns) == ["new", "returning", "resurrecting", "dormant"]
    assert lifecycle.to_numpy().tolist() == [[2, 0, 0, 0], [1, 1, 0, 1], [0, 1, 1, 1]]
    sticky = shop.stickiness().to_pandas()
    assert sticky.index.name == "active_periods"
    assert (list(sticky.index), list(sticky.columns)) == (["1", "2", "3"], ["users"])
    assert sticky["users"].tolist() == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- export

def test_export_to_files(shop):
    table = shop.cohort(metrics=ALL)
    binary = io.BytesIO()
    assert table.export(file=binary) is None
    assert binary.getvalue().decode() == EXPECTED_CSV
    text = io.StringIO()
    table.export("json", file=text)
    assert text.getvalue() == table.export("json")


def test_export_json_content(shop):
    text = shop.cohort(metrics=ALL).export("json")
    assert '"label":"2024-01"' in text
    assert '"users":[2,1,2]' in text and '"users":[1,0,null]' in text
    assert '"ltv":[0,5,7.75]' in text


def test_export_json_parses(shop):
    doc = json.loads(shop.cohort(metrics=ALL).export("json"))
    assert [row["label"] for row in doc["rows"]] == ["2024-01", "2024-02"]
    assert doc["rows"][1]["revenue"] == [2.25, 0, None]


def test_export_writer_exception_is_reraised(shop):
    class Broken(io.RawIOBase):
        def write(self, data):
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        shop.cohort().export(file=Broken())


# ---------------------------------------------------------------- save, merge, update

def test_save_load_round_trip(shop, tmp_path):
    path = tmp_path / "shop.cohort"
    for table in (shop.cohort(metrics=ALL, min_users=2), shop.lifecycle(),
                  shop.stickiness(), shop.cohort(cohort_by="prop:src")):
        table.save(path)
        with persona.CohortTable.load(path) as loaded:
            assert table_state(loaded) == table_state(table)
            for fmt in ("csv", "json"):
                assert loaded.export(fmt) == table.export(fmt)
        table.save(str(path))  # str or PathLike
        assert persona.CohortTable.load(str(path)).export() == table.export()


def test_load_errors(shop, tmp_path):
    with pytest.raises(persona.PersonaIOError) as err:
        persona.CohortTable.load(tmp_path / "missing")
    assert str(tmp_path / "missing") in err.value.message
    (tmp_path / "junk").write_bytes(b"not a snapshot" * 4)
    with pytest.raises(persona.CorruptError):
        persona.CohortTable.load(tmp_path / "junk")
    shop.save(tmp_path / "store")
    with pytest.raises(persona.CorruptError, match="holds a store, not a cohort table"):
        persona.CohortTable.load(tmp_path / "store")


@pytest.mark.parametrize("options", [
    {"metrics": ALL},
    {"kind": "lifecycle"},
    {"kind": "stickiness"},
    {"period": "week", "retention": "unbounded"},
    {"cohort_by": "prop:src", "metrics": ALL},
])
def test_merge_of_disjoint_users_equals_whole(shop, options):
    # c alone has only the February cohort and data up to Feb 4; a and b only January
    with persona.Store() as part1, persona.Store() as part2:
        part1.ingest([e for e in SHOP if e["user"] == "c"])
        part2.ingest([e for e in SHOP if e["user"] != "c"])
        merged = part1.cohort(**options)
        merged.merge(part2.cohort(**options))
    whole = shop.cohort(**options)
    assert table_state(merged) == table_state(whole)
    assert merged.export() == whole.export()


def test_merge_refuses_other_options_and_itself(shop):
    table = shop.cohort()
    with pytest.raises(persona.InvalidArgumentError, match=r"different options \(period\)"):
        table.merge(shop.cohort(period="week"))
    with pytest.raises(persona.InvalidArgumentError, match="into itself"):
        table.merge(table)
    with pytest.raises(TypeError):
        table.merge(shop)
    assert table.matrix() == EXPECTED["users"]  # unchanged


@pytest.mark.parametrize("options", [
    {"metrics": ALL}, {"kind": "lifecycle"}, {"kind": "stickiness"},
    {"period": "rolling", "window": "36h"}, {"cohort_by": "first:purchase"},
])
def test_update_after_more_ingest_equals_fresh_build(options):
    with persona.Store() as store:
        store.ingest(SHOP[:4])
        table = store.cohort(**options)
        store.ingest(SHOP[4:])
        table.update(store)
        fresh = store.cohort(**options)
        assert table_state(table) == table_state(fresh)
        assert table.export("json") == fresh.export("json")
        table.update(store)  # nothing new
        assert table_state(table) == table_state(fresh)


def test_update_misuse(shop, tmp_path):
    table = shop.cohort()
    with persona.Store() as other:
        with pytest.raises(persona.MisuseError, match="another store"):
            table.update(other)
    table.save(tmp_path / "t")
    with pytest.raises(persona.MisuseError, match="merged or loaded"):
        persona.CohortTable.load(tmp_path / "t").update(shop)


# ---------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kwargs, message", [
    ({"period": "fortnight"}, "unknown period 'fortnight'"),
    ({"period": 4}, "unknown period 4"),
    ({"kind": "funnel"}, "unknown kind 'funnel'"),
    ({"retention": "bounded"}, "unknown retention 'bounded'"),
    ({"cohort_by": "first_purchase"}, "unknown cohort_by 'first_purchase'"),
    ({"cohort_by": ("event", "x")}, "unknown cohort_by"),
    ({"cohort_by": "first:"}, "needs a non-empty event type"),
    ({"cohort_by": ("property", "")}, "needs a non-empty property name"),
    ({"metrics": ["profit"]}, "unknown metric to build 'profit'"),
    ({"metrics": ["ltv"]}, "unknown metric to build 'ltv'"),
    ({"utc_offset": "5:30"}, "not an offset like"),
    ({"utc_offset": "+05:75"}, "minutes must be below 60"),
    ({"utc_offset": dt.timedelta(seconds=30)}, "not a whole number of minutes"),
    ({"window": "a day"}, "not a duration"),
    ({"window": "1.5ms"}, "not a whole number of milliseconds"),
    ({"row_period": "rolling"}, "unknown row_period 'rolling'"),
    ({"brackets": [0, -1]}, r"bracket -1 is out of range"),
    ({"min_users": -1}, r"min_users -1 is out of range"),
])
def test_unknown_values_raise_value_error_before_c(shop, kwargs, message):
    with pytest.raises(ValueError, match=message) as err:
        shop.cohort(**kwargs)
    assert not isinstance(err.value, persona.PersonaError)


def test_wrong_types_raise_type_error(shop):
    with pytest.raises(TypeError):
        shop.cohort(periods="3")
    with pytest.raises(TypeError):
        shop.cohort(threads=1.5)
    with pytest.raises(TypeError):
        shop.cohort(window=[1])
    with pytest.raises(TypeError):
        shop.cohort(unknown_keyword=1)
    with pytest.raises(TypeError):
        shop.cohort().cell("0", 0)


@pytest.mark.parametrize("kwargs, message", [
    ({"brackets": [1, 2]}, "brackets must start at period 0"),
    ({"brackets": [0, 2, 2]}, "brackets"),
    ({"utc_offset": 3000}, "utc_offset_minutes 3000 is outside -1440..1440"),
    ({"utc_offset": "-25:00"}, "utc_offset_minutes -1500 is outside"),
    ({"period": "rolling", "kind": "lifecycle"}, "rolling windows apply to retention"),
])
def test_library_errors_carry_its_message(shop, kwargs, message):
    with pytest.raises(persona.InvalidArgumentError, match=message) as err:
        shop.cohort(**kwargs)
    assert isinstance(err.value, ValueError)
    assert err.value.function == "persona_cohort_build"
    assert err.value.message.startswith("cohort options:")


def test_out_of_range_cells_and_bad_metrics(shop):
    table = shop.cohort()
    with pytest.raises(persona.InvalidArgumentError, match=r"row 5 is out of range \(2 rows\)"):
        table.cell(5, 0)
    with pytest.raises(persona.InvalidArgumentError):
        table.row_label(2)
    with pytest.raises(persona.InvalidArgumentError):
        table.col_label(3)
    with pytest.raises(persona.InvalidArgumentError):
        table.size(9)
    with pytest.raises(ValueError, match="row -1 is out of range"):
        table.cell(-1, 0)
    with pytest.raises(ValueError, match="unknown metric 'profit'"):
        table.cell(0, 0, "profit")
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        table.export("xml")


# ---------------------------------------------------------------- lifecycle of the object

def test_close_is_idempotent_and_use_after_close_raises(shop):
    table = shop.cohort()
    assert repr(table) == "<persona.CohortTable retention 2x3>"
    table.close()
    table.close()
    assert table.closed and repr(table) == "<persona.CohortTable closed>"
    for call in (lambda: table.kind, lambda: table.rows, lambda: table.cols,
                 table.row_labels, table.col_labels, table.sizes, lambda: table.cell(0, 0),
                 table.matrix, table.export, lambda: table.row_start(0),
                 lambda: table.save("/nonexistent/x"), lambda: table.update(shop),
                 lambda: table.merge(shop.cohort()), lambda: shop.cohort().merge(table)):
        with pytest.raises(ValueError, match="closed cohort table"):
            call()
    with pytest.raises(ValueError):
        with table:
            pass


def test_with_block_closes(shop):
    with shop.cohort() as table:
        assert table.rows == 2
    assert table.closed


def test_table_outlives_its_store():
    store = persona.Store()
    store.ingest(SHOP)
    table = store.cohort()
    store.close()
    assert table.matrix() == EXPECTED["users"]
    with pytest.raises(ValueError, match="closed store"):
        table.update(store)


def test_freed_when_collected(shop):
    table = shop.cohort()
    finalizer = table._finalizer
    assert finalizer.alive
    ref = weakref.ref(table)
    del table
    gc.collect()
    assert ref() is None and not finalizer.alive


def test_not_constructible_directly():
    with pytest.raises(TypeError, match="come from Store.cohort"):
        persona.CohortTable()


def test_concurrent_readers(shop):
    table = shop.cohort(metrics=ALL)
    results, errors = [], []

    def read():
        try:
            for _ in range(50):
                results.append(table.matrix("ltv"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(r == EXPECTED["ltv"] for r in results) and len(results) == 200


def test_wrong_handle_type_is_an_argument_error(shop):
    out = ctypes.c_size_t()
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.persona_cohort_table_rows(byref(out), shop._handle)
    with pytest.raises(persona.InvalidArgumentError):
        _capi.lib.persona_cohort_table_rows(byref(out), None)
    opts = _capi.new_struct(_structs.persona_cohort_options)
    assert (opts.kind, opts.period, opts.metrics, bool(opts.active_types)) == (0, 0, 0, False)


def test_ints_beyond_int64_are_refused_not_wrapped(shop):
    """ctypes would store 2**64 + 1 as 1: the bindings refuse it instead."""
    with pytest.raises(ValueError, match="out of range"):
        shop.cohort(period="rolling", window=2 ** 64 + 1)
    with pytest.raises(ValueError, match="out of range"):
        shop.cohort(start=2 ** 64)
    with pytest.raises(ValueError, match="out of range"):
        shop.lifecycle(end=-2 ** 64)
