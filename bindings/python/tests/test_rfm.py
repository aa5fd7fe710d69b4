"""RFM (persona.RFM, Store.rfm), the adjusted Rand index and migration matrices.

* The bundled Online Retail sample and the full file (when ../shared is there) against the
  independent pandas computation in tests/data (tests/data/make_rfm_reference.py);
* random stores against pandas' rank(method="first") + qcut, computed here;
* the adjusted Rand index against scikit-learn and hand-worked tables;
* migration matrices against Rules.assign() at both times."""
import csv
import datetime
import gzip
import json
import os
import random

import pytest

import persona
from persona import rfm as rfm_module

from conftest import DAY

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(REPO, "tests", "data")
SAMPLE = os.path.join(REPO, "examples", "data", "online_retail_sample.csv")
SHARED = os.environ.get("PERSONA_SHARED", os.path.join(os.path.dirname(REPO), "shared"))
UCI = dict(user="CustomerID", time="InvoiceDate", basket="InvoiceNo",
           value="Quantity*UnitPrice", event_const="purchase")
T0 = 1_704_067_200_000  # 2024-01-01 00:00:00 UTC


def reference(name):
    with open(os.path.join(DATA, name), newline="") as f:
        rows = list(csv.reader(f))
    return [(r[0], int(r[1]), int(r[2]), float(r[3]), int(r[4]), int(r[5]), int(r[6]), r[7])
            for r in rows[1:]]


def summary_reference(name):
    with open(os.path.join(DATA, name), newline="") as f:
        return [(r[0], int(r[1]), float(r[2])) for r in list(csv.reader(f))[1:]]


def retail_store(path):
    store = persona.Store(seed=3)
    store.load(persona.Source.csv(path, **UCI))
    return store


# ---- independent references -----------------------------------------------------------

def test_bundled_sample_equals_pandas():
    with retail_store(SAMPLE) as store:
        rfm = store.rfm()
    assert rfm.rows() == reference("rfm_retail_sample.csv")  # the store may go first
    assert rfm.summary(frame=False) == summary_reference("rfm_retail_sample_summary.csv")
    assert len(rfm) == 220 and rfm.bins == 5


def test_full_online_retail_equals_pandas(tmp_path):
    src = os.path.join(SHARED, "data", "online_retail.csv.gz")
    if not os.path.exists(src):
        pytest.skip("shared/data/online_retail.csv.gz not found")
    path = tmp_path / "online_retail.csv"
    with gzip.open(src, "rb") as f:
        path.write_bytes(f.read())
    with retail_store(str(path)) as store:
        rfm = store.rfm()
    assert rfm.rows() == reference("rfm_online_retail.csv")
    assert rfm.summary(frame=False) == summary_reference("rfm_online_retail_summary.csv")
    assert rfm.reference == datetime.datetime(2011, 12, 10, 12, 50, tzinfo=datetime.timezone.utc)


def pandas_rfm(events, bins, reference_ms):
    """The rules of docs/rfm.md written with pandas (rank(method="first") + qcut), for
    events of type purchase only, users in first-appearance order, n >= 2."""
    pd = pytest.importorskip("pandas")
    order = list(dict.fromkeys(e["user"] for e in events))
    per = {}
    for e in events:
        u = per.setdefault(e["user"], {"last": None, "orders": set(), "loose": 0, "vals": []})
        v = e.get("value")
        if v is not None:
            u["vals"].append(v)
        if v is None or v >= 0:
            u["last"] = e["time"] if u["last"] is None else max(u["last"], e["time"])
            if e.get("basket") is None:
                u["loose"] += 1
            else:
                u["orders"].add(e["basket"])
    users = [u for u in order if per[u]["last"] is not None]
    df = pd.DataFrame({
        "recency": [(reference_ms - per[u]["last"]) // DAY for u in users],
        "frequency": [len(per[u]["orders"]) + per[u]["loose"] for u in users],
        "monetary": [sum(per[u]["vals"]) for u in users],  # multiples of 1/8: exact
    }, index=users)
    labels = list(range(1, bins + 1))
    df["r"] = pd.qcut(df["recency"].rank(method="first"), bins, labels=labels[::-1]).astype(int)
    df["f"] = pd.qcut(df["frequency"].rank(method="first"), bins, labels=labels).astype(int)
    df["m"] = pd.qcut(df["monetary"].rank(method="first"), bins, labels=labels).astype(int)
    return [(u, int(row.recency), int(row.frequency), float(row.monetary), int(row.r),
             int(row.f), int(row.m)) for u, row in df.iterrows()]


@pytest.mark.parametrize("seed", range(12))
def test_random_stores_equal_pandas(seed):
    rng = random.Random(seed)
    events = []
    for _ in range(rng.randrange(20, 300)):
        value = rng.choice([None, -rng.randrange(1, 40) / 8] + [rng.randrange(1, 400) / 8] * 4)
        events.append({"user": f"u{rng.randrange(60)}", "type": "purchase",
                       "time": T0 + rng.randrange(90) * DAY // 3 + rng.randrange(1000),
                       "value": value,
                       "basket": rng.choice([None, f"b{rng.randrange(15)}"])})
    bins = rng.randrange(2, 11)
    with persona.Store(seed=seed) as store:
        store.ingest(events)
        rfm = store.rfm(bins=bins)
        reference_ms = max(e["time"] for e in events) + DAY
        assert rfm.reference_ms == reference_ms
        want = pandas_rfm(events, bins, reference_ms)
        if len(want) < 2:
            pytest.skip("pandas cannot bin fewer than two users")
        assert [row[:7] for row in rfm.rows()] == want


# ---- hand-worked ----------------------------------------------------------------------

HAND = [
    {"user": "a", "time": T0, "type": "purchase", "value": 10, "basket": "o1"},
    {"user": "a", "time": T0 + 1000, "type": "purchase", "value": 5, "basket": "o1"},
    {"user": "b", "time": T0 + DAY, "type": "view"},
    {"user": "c", "time": T0 + 2 * DAY, "type": "purchase", "value": 3},
    {"user": "c", "time": T0 + 2 * DAY, "type": "purchase"},
    {"user": "a", "time": T0 + 5 * DAY, "type": "purchase", "value": 20, "basket": "o2"},
    {"user": "a", "time": T0 + 6 * DAY, "type": "purchase", "value": -7, "basket": "C1"},
    {"user": "d", "time": T0 + 3 * DAY, "type": "purchase", "value": -4, "basket": "C9"},
    {"user": "e", "time": T0 + 8 * DAY, "type": "purchase", "value": 1.5, "basket": "o3"},
    {"user": "a", "time": T0 + 9 * DAY, "type": "view"},
    {"user": "e", "time": T0 + 10 * DAY + DAY // 2, "type": "view"},
]


@pytest.fixture
def hand():
    with persona.Store(seed=1) as store:
        store.ingest(HAND)
        yield store


def test_hand_worked(hand):
    # as in tests/unit/segment/test_rfm.c: reference 2024-01-12 12:00; a 6 days, 2 orders,
    # 10 + 5 + 20 - 7 = 28; c 9 days, 2 orders, 3; e 3 days, 1 order, 1.5; b and d left out
    rfm = hand.rfm()
    assert rfm.rows() == [("a", 6, 2, 28.0, 3, 3, 5, "Loyal"),
                          ("c", 9, 2, 3.0, 1, 5, 3, "At risk"),
                          ("e", 3, 1, 1.5, 5, 1, 1, "New")]
    assert rfm.users() == list(rfm) == ["a", "c", "e"]
    assert rfm.reference == datetime.datetime(2024, 1, 12, 12, tzinfo=datetime.timezone.utc)
    assert rfm["a"] == {"recency_days": 6, "frequency": 2, "monetary": 28.0, "r": 3, "f": 3,
                        "m": 5, "segment": "Loyal",
                        "last_purchase": datetime.datetime(2024, 1, 6,
                                                           tzinfo=datetime.timezone.utc)}
    assert rfm.entry(2)["segment"] == "New"
    assert "a" in rfm and "b" not in rfm and "d" not in rfm and 3 not in rfm
    with pytest.raises(KeyError):
        rfm["b"]
    with pytest.raises(persona.NotFoundError):
        rfm.entry(3)
    sizes = rfm.segment_sizes()
    assert list(sizes) == list(rfm_module.SEGMENTS)
    assert sizes["Loyal"] == sizes["At risk"] == sizes["New"] == 1 and sum(sizes.values()) == 3
    assert rfm.export("csv") == ("user,recency_days,frequency,monetary,r,f,m,segment\n"
                                 "a,6,2,28,3,3,5,Loyal\nc,9,2,3,1,5,3,At risk\n"
                                 "e,3,1,1.5,5,1,1,New\n")
    doc = json.loads(rfm.export("json"))
    assert doc["users"] == 3 and doc["rows"][2]["segment"] == "New"
    assert rfm.export("summary").splitlines()[2] == f"Loyal,1,{1 / 3!r}"
    assert repr(rfm) == "<persona.RFM 3 customers, 5 bins>"


def test_frames(hand):
    pd = pytest.importorskip("pandas")
    rfm = hand.rfm()
    df = rfm.to_pandas()
    assert list(df.index) == ["a", "c", "e"] and df.index.name == "user"
    assert list(df.columns) == list(rfm_module.COLUMNS)
    assert df.loc["c", "segment"] == "At risk" and df.loc["a", "monetary"] == 28.0
    assert str(df["r"].dtype) == "int64"
    summary = rfm.summary()
    assert isinstance(summary, pd.DataFrame) and summary.index.name == "segment"
    assert summary.loc["Loyal", "users"] == 1 and summary.loc["Loyal", "share"] == 1 / 3


def test_without_pandas(hand, hide_numpy):
    rfm = hand.rfm()
    assert rfm.summary()[1] == ("Loyal", 1, 1 / 3)
    with pytest.raises(ImportError):
        rfm.to_pandas()
    assert persona.adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]) == -0.5


def test_options(hand):
    rfm = hand.rfm(as_of="2024-01-05", bins=5)
    # later events ignored: a 3 days, 1 order, 15; c 2 days, 2 orders, 3 (docs/rfm.md)
    assert rfm.rows() == [("a", 3, 1, 15.0, 1, 1, 5, "At risk"),
                          ("c", 2, 2, 3.0, 5, 5, 1, "Potential loyalist")]
    rfm = hand.rfm(start=datetime.datetime(2024, 1, 5))
    assert [r[:4] for r in rfm.rows()] == [("a", 6, 1, 13.0), ("e", 3, 1, 1.5)]
    assert hand.rfm(purchase="view").users() == ["a", "b", "e"]  # user order
    assert len(hand.rfm(consent="ads")) == 0
    hand.set_consent("e", "ads", True, T0)
    assert hand.rfm(consent="ads").users() == ["e"]
    hand.ingest([{"user": "a", "time": T0 + 7 * DAY, "type": "refund", "value": 2}])
    assert hand.rfm(returns="refund")["a"]["monetary"] == 26.0
    assert hand.rfm(bins=10).bins == 10
    with pytest.raises(ValueError, match=r"bins 11 is out of range \[2, 10\]"):
        hand.rfm(bins=11)
    with pytest.raises(TypeError):
        hand.rfm(bins="5")
    with pytest.raises(persona.InvalidArgumentError, match="is the purchase type"):
        hand.rfm(returns="purchase")
    with pytest.raises(persona.InvalidArgumentError, match="from_ms is after reference_ms"):
        hand.rfm(as_of=T0, start=T0 + 1)
    with pytest.raises(ValueError, match="1970"):
        hand.rfm(as_of=0)
    with pytest.raises(TypeError):
        persona.RFM()


def test_save_load_close(hand, tmp_path):
    rfm = hand.rfm(bins=3)
    path = tmp_path / "r.snap"
    rfm.save(path)
    back = persona.RFM.load(path)
    assert back.rows() == rfm.rows() and back.bins == 3
    assert back.reference_ms == rfm.reference_ms
    with pytest.raises(persona.CorruptError):
        hand.save(tmp_path / "store.snap")
        persona.RFM.load(tmp_path / "store.snap")
    with pytest.raises(OSError):
        persona.RFM.load(tmp_path / "missing.snap")
    rfm.close()
    rfm.close()
    assert rfm.closed and repr(rfm) == "<persona.RFM closed>"
    with pytest.raises(ValueError, match="closed"):
        len(rfm)
    with back:
        pass
    assert back.closed


def test_export_to_file(hand, tmp_path):
    import io
    rfm = hand.rfm()
    buf = io.BytesIO()
    assert rfm.export("summary", file=buf) is None
    assert buf.getvalue().decode() == rfm.export("summary")
    text = io.StringIO()
    rfm.export("csv", file=text)
    assert text.getvalue() == rfm.export("csv")
    with pytest.raises(ValueError, match="unknown export format"):
        rfm.export("xml")


# ---- adjusted Rand index --------------------------------------------------------------

def test_ari_hand_worked():
    ari = persona.adjusted_rand_index
    # S = 1, A = 1, B = 2, N = 6: 2 (6 - 2) / (1·4 + 2·5) = 8/14
    assert ari([0, 0, 1, 2], [0, 0, 1, 1]) == 8 / 14
    assert ari([0, 0, 1, 1], [0, 1, 0, 1]) == -0.5
    assert ari(["x", "x", "y", "y"], [5, 5, 9, 9]) == 1.0
    assert ari([1, 1, 1], [2, 2, 2]) == 1.0
    assert ari([], []) == 1.0 and ari(["a"], ["b"]) == 1.0
    assert ari([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0
    with pytest.raises(ValueError, match="different lengths"):
        ari([1, 2], [1])
    with pytest.raises(TypeError):
        ari("abc", "abc")


def test_ari_equals_sklearn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = random.Random(5)
    for n in (2, 3, 10, 100, 1000, 20000):
        for _ in range(5):
            ka, kb = rng.randrange(1, 30), rng.randrange(1, 30)
            a = [rng.randrange(ka) for _ in range(n)]
            b = [x % kb if rng.random() < 0.6 else rng.randrange(kb) for x in a]
            assert persona.adjusted_rand_index(a, b) == sklearn_metrics.adjusted_rand_score(a, b)


def test_ari_numpy():
    np = pytest.importorskip("numpy")
    a = np.array([3, 3, 7, 7, 7, 9], dtype=np.int64)
    b = np.array(["p", "q", "q", "q", "r", "r"])
    assert persona.adjusted_rand_index(a, b) == persona.adjusted_rand_index(list(a), list(b))
    with pytest.raises(ValueError, match="one-dimensional"):
        persona.adjusted_rand_index(a.reshape(2, 3), a.reshape(2, 3))


def test_ari_of_two_rfm_periods():
    """Stability of RFM segments from one quarter to the next, on the bundled sample."""
    with retail_store(SAMPLE) as store:
        q3 = store.rfm(as_of="2011-09-01")
        q4 = store.rfm(as_of="2011-12-01")
    common = [u for u in q3 if u in q4]
    value = persona.adjusted_rand_index([q3[u]["segment"] for u in common],
                                        [q4[u]["segment"] for u in common])
    assert -1 <= value <= 1
    sk = pytest.importorskip("sklearn.metrics")
    assert value == sk.adjusted_rand_score([q3[u]["segment"] for u in common],
                                           [q4[u]["segment"] for u in common])


# ---- migration ------------------------------------------------------------------------

MIGRATION = [
    {"user": "x", "time": T0, "type": "purchase", "value": 50},
    {"user": "x", "time": T0 + 10 * DAY, "type": "purchase", "value": 80},
    {"user": "y", "time": T0 + DAY, "type": "purchase", "value": 500},
    {"user": "z", "time": T0 + 2 * DAY, "type": "view"},
    {"user": "z", "time": T0 + 12 * DAY, "type": "purchase", "value": 5},
    {"user": "w", "time": T0 + 15 * DAY, "type": "purchase", "value": 1000},
    {"user": "v", "time": T0 + 3 * DAY, "type": "view"},
]


def test_migration_matrix():
    rules = persona.Rules("big: value > 100\nsmall: value > 0\n")
    with persona.Store(seed=2) as store:
        store.ingest(MIGRATION)
        start, end = T0 + 5 * DAY, T0 + 20 * DAY
        labels, matrix = rules.migration(store, start, end, frame=False)
        assert labels == ["big", "small", "(none)"]
        # y big -> big; x small -> big; w (new) none -> big, z none -> small, v none -> none
        assert matrix == [[1, 0, 0], [1, 0, 0], [1, 1, 1]]
        want = [[0] * 3 for _ in range(3)]
        for user in "xyzwv":
            f = (rules.assign(store, user, now=start) or ["(none)"])[0]
            t = (rules.assign(store, user, now=end) or ["(none)"])[0]
            want[labels.index(f)][labels.index(t)] += 1
        assert matrix == want
        pd = pytest.importorskip("pandas")
        df = rules.migration(store, datetime.datetime(2024, 1, 6), "2024-01-21")
        assert isinstance(df, pd.DataFrame)
        assert df.index.name == "from" and df.columns.name == "to"
        assert df.loc["(none)", "big"] == 1 and int(df.values.sum()) == 5
        now = rules.migration(store, None, None, frame=False)[1]
        assert [row[i] for i, row in enumerate(now)] == [3, 1, 1]  # the diagonal
        with pytest.raises(persona.InvalidArgumentError, match="first-match"):
            persona.Rules("a: value > 1", mode="all").migration(store, T0, T0)
        with pytest.raises(TypeError):
            rules.migration("not a store", T0, T0)
