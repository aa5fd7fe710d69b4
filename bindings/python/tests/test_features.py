"""Feature matrices (persona.Features, Store.features) and Store.segment_kmeans.

* a hand-worked store: values, views, names, fill, standardization, transform();
* the bundled Online Retail sample: the default spec of segment_kmeans against the same
  features computed here with pandas from the CSV (recency, orders, spend; slog1p / log1p;
  z-scores with ddof 0);
* segment_kmeans: labels, summary, predict, KMeans as fitted on the matrix;
* errors: ParseError with line and column, InvalidArgumentError for values."""
import math
import os

import pytest

import persona

from conftest import DAY

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SAMPLE = os.path.join(REPO, "examples", "data", "online_retail_sample.csv")
UCI = dict(user="CustomerID", time="InvoiceDate", basket="InvoiceNo",
           value="Quantity*UnitPrice", event_const="purchase")
T0 = 1_704_067_200_000  # 2024-01-01 00:00:00 UTC

# a: purchases 10 (o1) at T0 and 20 (o2) at T0 + 2d; a view at T0 + 1d
# b: a view at T0 + 3d;   c: a purchase 5 (o3) at T0 + 4d (the store's clock)
HAND = [
    {"user": "a", "time": T0, "type": "purchase", "value": 10, "basket": "o1"},
    {"user": "a", "time": T0 + DAY, "type": "view"},
    {"user": "a", "time": T0 + 2 * DAY, "type": "purchase", "value": 20, "basket": "o2"},
    {"user": "b", "time": T0 + 3 * DAY, "type": "view"},
    {"user": "c", "time": T0 + 4 * DAY, "type": "purchase", "value": 5, "basket": "o3"},
]


@pytest.fixture
def hand():
    with persona.Store(seed=1) as store:
        store.ingest(HAND)
        store.set_attr("a", "country", "DE")
        store.set_attr("b", "country", "FR")
        store.set_attr("c", "country", "DE")
        store.set_attr("a", "age", 30)
        yield store


def test_hand_worked(hand):
    f = hand.features("act: events, count(view) as views; money: value(purchase), "
                      "recency_days, orders; who: onehot(attr(country)), attr(age)",
                      standardize=False)
    assert f.users == ["a", "b", "c"] and len(f) == 3 and f.shape == (3, 9)
    assert f.columns == ["events", "views", "value(purchase)", "recency_days", "orders",
                         "attr(country)=DE", "attr(country)=FR", "attr(country)=other",
                         "attr(age)"]
    assert f.views == {"act": ["events", "views"],
                       "money": ["value(purchase)", "recency_days", "orders"],
                       "who": ["attr(country)=DE", "attr(country)=FR", "attr(country)=other",
                               "attr(age)"]}
    want = [[3, 1, 30, 2, 2, 1, 0, 0, 30],
            [1, 1, 0, 1, 0, 0, 1, 0, 30],   # age missing: the mean of the present (30)
            [1, 0, 5, 0, 1, 1, 0, 0, 30]]
    assert [list(r) for r in f.matrix] == want
    assert f.column_info[8]["present"] == 1 and f.column_info[8]["fill"] == 30
    assert f.as_of == T0 + 4 * DAY and not f.standardized
    df = f.to_pandas()
    assert list(df.index) == ["a", "b", "c"] and df.index.name == "user"
    assert df.loc["b", "recency_days"] == 1
    for i, u in enumerate(f.users):
        assert f.transform(u, hand) == list(f.matrix[i])


def test_standardized(hand):
    f = hand.features("value(purchase), log1p(events)")
    v = [30, 0, 5]
    mean = sum(v) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / 3)
    assert [r[0] for r in f.matrix] == pytest.approx([(x - mean) / sd for x in v], abs=1e-15)
    assert f.column_info[0]["mean"] == pytest.approx(mean) and f.column_info[0]["sd"] == pytest.approx(sd)
    assert f.column_info[1]["transform"] == "log1p"
    # a user added later, transformed with the kept mean and sd
    hand.ingest([{"user": "d", "time": T0, "type": "purchase", "value": 100}])
    row = f.transform("d", hand)
    assert row[0] == pytest.approx((100 - mean) / sd)


def test_errors(hand):
    with pytest.raises(persona.ParseError) as e:
        hand.features("events,\n  nonsense")
    assert (e.value.line, e.value.column) == (2, 3)
    assert "unknown feature 'nonsense'" in str(e.value)
    with pytest.raises(persona.InvalidArgumentError, match="the attribute is a string"):
        hand.features("attr(country)")
    hand.ingest([{"user": "r", "time": T0, "type": "purchase", "value": -3}])
    with pytest.raises(persona.InvalidArgumentError, match="negative value under log1p"):
        hand.features("log1p(value(purchase))")
    f = hand.features("slog1p(value(purchase))", standardize=False)
    assert f.matrix[3][0] == -math.log1p(3)
    with pytest.raises(persona.NotFoundError):
        f.transform("nobody", hand)
    with pytest.raises(ValueError):
        hand.features("events", standardize="yes")
    with pytest.raises(ValueError):
        hand.features("events", max_levels=0)


def test_max_levels_and_as_of(hand):
    f = hand.features("onehot(attr(country)) as c", max_levels=1, standardize=False)
    assert f.columns == ["c=DE", "c=other"]
    f = hand.features("recency_days", as_of=T0 + 10 * DAY, standardize=False)
    assert [r[0] for r in f.matrix] == [8, 7, 6] and f.as_of == T0 + 10 * DAY


def pandas_default_features(path):
    """The default spec of segment_kmeans computed from the CSV with pandas."""
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    df = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str})
    df = df[df["CustomerID"].notna()].copy()
    df["t"] = pd.to_datetime(df["InvoiceDate"])
    df["v"] = df["Quantity"] * df["UnitPrice"]
    as_of = df["t"].max()
    g = df.groupby("CustomerID", sort=False)
    out = pd.DataFrame({
        "recency_days": (as_of - g["t"].max()).dt.total_seconds() / 86400,
        "log1p(orders)": np.log1p(g["InvoiceNo"].nunique()),
        "monetary": g["v"].apply(lambda s: math.fsum(s)),
    })
    m = out["monetary"]
    out["monetary"] = np.sign(m) * np.log1p(np.abs(m))
    return (out - out.mean()) / out.std(ddof=0)


def test_sample_default_spec_equals_pandas():
    want = pandas_default_features(SAMPLE)
    with persona.Store(seed=3) as store:
        store.load(persona.Source.csv(SAMPLE, **UCI))
        seg = store.segment_kmeans(k=4, random_state=1)
    got = seg.features.to_pandas()
    assert list(got.columns) == ["recency_days", "log1p(orders)", "monetary"]
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    assert abs(got.values - want.values).max() < 1e-9
    assert list(seg.features.views) == ["recency", "frequency", "monetary"]


def test_segment_kmeans(hand):
    pd = pytest.importorskip("pandas")
    for u in ("x", "y"):
        hand.ingest([{"user": u, "time": T0 + d * DAY, "type": "purchase", "value": 100,
                      "basket": f"{u}{d}"} for d in range(4)])
    seg = hand.segment_kmeans(k=2, random_state=0, n_init=2)
    assert isinstance(seg.labels, pd.Series) and seg.labels.index.name == "user"
    assert seg.labels["x"] == seg.labels["y"]
    km = persona.KMeans(2, random_state=0, n_init=2).fit(seg.features.matrix)
    assert list(seg.labels) == list(km.labels_)
    s = seg.summary()
    assert list(s.columns) == ["cluster", "users", "share", "description"]
    assert s["users"].sum() == len(seg.features) == 5
    assert s["share"].sum() == pytest.approx(1)
    assert all(d.endswith(f"% of points ({n})") for d, n in zip(s["description"], s["users"]))
    for u in seg.features.users:
        assert seg.predict(u) == seg.labels[u]
    hand.ingest([{"user": "z", "time": T0 + 4 * DAY, "type": "purchase", "value": 100,
                  "basket": f"z{d}"} for d in range(4)])
    assert seg.predict("z") == seg.labels["x"]


def test_without_pandas(hand, hide_numpy):
    seg = hand.segment_kmeans(k=2, features="events, value(purchase)")
    assert isinstance(seg.labels, dict) and set(seg.labels) == {"a", "b", "c"}
    assert isinstance(seg.features.matrix, list) and len(seg.features.matrix[0]) == 2
    assert isinstance(seg.summary(), list)
