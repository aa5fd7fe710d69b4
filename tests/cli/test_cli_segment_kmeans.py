"""persona segment kmeans (shared/docs/CLI.md, docs/cli.md, docs/features.md, docs/kmeans.md).

* the bundled sample: one row per customer, summary counts equal the rows, the quality
  table of --choose-k (k = 1: the inertia of standardized columns is n x d; silhouette NaN);
* small inputs worked out by hand: two obvious groups are found whatever the seed;
* --features with views, one-hot levels, aliases; parse errors with their position;
* options and usage errors."""
import csv
import io
import math
import os

import pytest

from conftest import ROOT

# Two groups: a, b, c buy often and recently (4 orders of 100, the last on 01-20);
# x, y, z bought once, long ago (one order of 5 on 01-01). Any k = 2 clustering of
# recency / log1p(orders) / slog1p(value) separates them.
EVENTS = "user,time,event,value,basket\n" + "".join(
    f"{u},2024-01-{d:02d}T00:00:00Z,purchase,100,{u}{d}\n"
    for u in "abc" for d in (5, 10, 15, 20)) + "".join(
    f"{u},2024-01-01T00:00:00Z,purchase,5,{u}1\n" for u in "xyz") + \
    "q,2024-01-02T00:00:00Z,view,,\n"
MAP = ["--user", "user", "--time", "time", "--event", "event", "--value", "value",
       "--basket", "basket"]


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    return str(path)


def km(persona, *args):
    return persona("segment", "kmeans", *args, cwd=ROOT)


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def sample_users():
    with open(os.path.join(ROOT, "examples", "data", "online_retail_sample.csv"), newline="") as f:
        return {r["CustomerID"] for r in csv.DictReader(f) if r["CustomerID"]}


def test_sample_rows_and_summary(persona):
    r = km(persona, "-k", "4", "--seed", "3")
    assert r.code == 0, r.err
    rows = rows_of(r.out)
    assert rows[0] == ["user", "cluster"]
    users = [u for u, _ in rows[1:]]
    assert len(users) == len(set(users)) and set(users) == sample_users()
    labels = [int(c) for _, c in rows[1:]]
    assert set(labels) == {0, 1, 2, 3}
    s = km(persona, "-k", "4", "--seed", "3", "--summary")
    assert s.code == 0, s.err
    srows = rows_of(s.out)
    assert srows[0] == ["cluster", "users", "share", "description"]
    assert [int(x[0]) for x in srows[1:]] == [0, 1, 2, 3]
    assert [int(x[1]) for x in srows[1:]] == [labels.count(c) for c in range(4)]
    for x in srows[1:]:
        assert float(x[2]) == int(x[1]) / len(users)
        assert x[3].endswith(f"% of points ({x[1]})")
    # the default spec's column names appear in the descriptions
    text = " ".join(x[3] for x in srows[1:])
    assert "recency_days" in text or "log1p(orders)" in text or "monetary" in text
    # same seed, same labels; the runs of --n-init keep the best
    assert km(persona, "-k", "4", "--seed", "3").out == r.out
    assert km(persona, "-k", "4", "--seed", "3", "--n-init", "3").code == 0


def test_sample_choose_k(persona):
    r = km(persona, "--choose-k", "1..4")
    assert r.code == 0, r.err
    rows = rows_of(r.out)
    assert rows[0] == ["k", "inertia", "silhouette", "davies_bouldin", "calinski_harabasz"]
    assert [int(x[0]) for x in rows[1:]] == [1, 2, 3, 4]
    n, d = len(sample_users()), 3
    # one cluster: the sum of squares of standardized columns, n per column
    assert math.isclose(float(rows[1][1]), n * d, rel_tol=1e-9)
    assert math.isnan(float(rows[1][2]))
    inertia = [float(x[1]) for x in rows[1:]]
    assert inertia[1] < inertia[0]
    for x in rows[2:]:
        assert -1 <= float(x[2]) <= 1 and float(x[3]) >= 0 and float(x[4]) > 0


def test_two_groups(persona, events):
    for seed in ("0", "1", "7"):
        r = km(persona, events, *MAP, "-k", "2", "--seed", seed)
        assert r.code == 0, r.err
        rows = dict(rows_of(r.out)[1:])
        assert set(rows) == set("abcxyzq")
        assert rows["a"] == rows["b"] == rows["c"]
        assert rows["x"] == rows["y"] == rows["z"] == rows["q"]
        assert rows["a"] != rows["x"]
    s = km(persona, events, *MAP, "-k", "2", "--summary")
    sizes = sorted(int(x[1]) for x in rows_of(s.out)[1:])
    assert sizes == [3, 4]


def test_features_spec(persona, events, tmp_path):
    spec = "activity: log1p(events), count(view) as views; money: raw(value(purchase))"
    r = km(persona, events, *MAP, "-k", "2", "--features", spec, "--summary")
    assert r.code == 0, r.err
    assert "value(purchase)" in r.out or "views" in r.out or "log1p(events)" in r.out
    # q has the view: with only count(view), q is alone
    r = km(persona, events, *MAP, "-k", "2", "--features", "count(view)")
    rows = dict(rows_of(r.out)[1:])
    assert [u for u in rows if rows[u] == rows["q"]] == ["q"]
    # --as-of moves recency, not the clusters of this input
    r = km(persona, events, *MAP, "-k", "2", "--as-of", "2024-03-01")
    assert r.code == 0, r.err


def test_errors(persona, events):
    r = km(persona, events, *MAP, "--features", "events,\n  bogus(x)")
    assert r.code == 2
    assert "segment kmeans: --features: line 2, column 3: unknown feature 'bogus'" in r.err
    r = km(persona, events, *MAP, "-k", "2", "--features", "log1p(value(purchase)), onehot(attr(c))")
    assert r.code == 0, r.err  # values >= 0; an attribute nobody has: only `other`
    r = km(persona, events, *MAP, "-k", "8")
    assert r.code == 2 and "-k 8, but there are 7 users" in r.err
    r = km(persona, events, *MAP, "--choose-k", "2..9")
    assert r.code == 2 and "--choose-k up to 9, but there are 7 users" in r.err
    for bad in ("5", "0..3", "4..2", "a..b", ".."):
        r = km(persona, events, *MAP, "--choose-k", bad)
        assert r.code == 2 and "--choose-k wants A..B" in r.err, bad
    r = km(persona, events, *MAP, "--choose-k", "2..3", "-k", "2")
    assert r.code == 2 and "-k does not apply" in r.err
    assert km(persona, events, *MAP, "-k", "0").code == 2
    assert km(persona, events, *MAP, "--seed", "-1").code == 2
    assert km(persona, events, *MAP, "--n-init", "0").code == 2
    assert km(persona, events, *MAP, "--format", "json").code == 2
    r = km(persona, events, *MAP, "-k", "2", "-k", "3")
    assert r.code == 2 and "-k is given twice" in r.err


def test_help(persona):
    r = km(persona, "--help")
    assert r.code == 0 and "usage: persona segment kmeans" in r.out
    r = persona("segment", "--help")
    assert "kmeans" in r.out and "not available" not in r.out
