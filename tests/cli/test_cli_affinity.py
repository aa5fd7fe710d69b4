"""persona similar / recommend / overindex: pair counts and measures of Online Retail
baskets against pandas (tests/data/affinity_retail_pandas.csv, made by
tests/data/make_affinity_reference.py), a hand-worked example with item keys holding commas
and quotes (RFC 4180 output), recommendations never holding owned or excluded items,
saved matrices, errors."""
import csv
import io
import json
import math
import os

import pytest

from conftest import ROOT

DATA = os.path.join(ROOT, "tests", "data")
BASKETS = os.path.join(DATA, "affinity_retail_baskets.csv")
# each basket is its own user; its number is also its time (unix seconds)
MAPPING = ["--user", "basket", "--time", "basket", "--time-format", "unix_s",
           "--basket", "basket", "--event-const", "purchase"]


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def reference():
    with open(os.path.join(DATA, "affinity_retail_pandas.csv"), newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("measure", ["lift", "jaccard", "cosine"])
def test_pairs_equal_pandas(persona, tmp_path, measure):
    ref = reference()
    by_item = {}
    for r in ref:
        by_item.setdefault(r["item_a"], {})[r["item_b"]] = r
    snap = str(tmp_path / "m.snap")
    r = persona("similar", "--item", ref[0]["item_a"], *MAPPING, "--item-col", "item",
                "--save-matrix", snap, BASKETS)
    assert r.code == 0, r.err
    for item in sorted(by_item)[:40]:
        r = persona("similar", "--item", item, "--measure", measure, "--min-count", "6",
                    "--top", "100000", "--matrix", snap)
        assert r.code == 0, r.err
        got = {x["item"]: x for x in rows(r.out)}
        want = by_item[item]
        assert set(got) == set(want), item
        for b, w in want.items():
            assert int(got[b]["count"]) == int(w["count"])
            assert math.isclose(float(got[b]["score"]), float(w[measure]), rel_tol=1e-12)
        # sorted by score, then count descending, then key bytewise
        keys = [(-float(x["score"]), -int(x["count"]), x["item"].encode()) for x in rows(r.out)]
        assert keys == sorted(keys)


HAND = "".join(line + "\n" for line in [
    "user_id,timestamp,event,item,order",
    "u1,2024-01-01T00:00:00Z,purchase,milk,B1",
    "u1,2024-01-01T00:00:00Z,purchase,bread,B1",
    "u1,2024-01-01T00:00:00Z,purchase,butter,B1",
    "u1,2024-01-01T10:00:00Z,purchase,milk,B2",
    "u1,2024-01-01T10:00:00Z,purchase,bread,B2",
    "u2,2024-01-01T00:00:00Z,purchase,bread,B3",
    'u2,2024-01-01T00:00:00Z,purchase,"jam, ""extra""",B3',
    "u2,2024-01-01T01:00:00Z,purchase,milk,B4",
    'u3,2024-01-01T00:00:00Z,purchase,"a, b",B5',
    "u3,2024-01-01T00:00:00Z,purchase,bread,B5",
])


@pytest.fixture
def hand(tmp_path):
    p = tmp_path / "ev.csv"
    p.write_text(HAND)
    return str(p)


def test_similar_by_hand(persona, hand):
    # bread: n = 5, n_bread = 4; a, b / butter / jam each 1 basket with it: lift 1*5/(4*1);
    # milk 2 baskets: 2*5/(4*3)
    r = persona("similar", "--item", "bread", "--basket", "order", hand)
    assert r.code == 0, r.err
    assert r.out == ('item,score,count\n"a, b",1.25,1\nbutter,1.25,1\n'
                     '"jam, ""extra""",1.25,1\nmilk,0.8333333333333334,2\n')
    assert [x["item"] for x in rows(r.out)] == ["a, b", "butter", 'jam, "extra"', "milk"]


def test_recommend_never_owned_or_excluded(persona, hand):
    r = persona("recommend", "--user", "u3", "--basket", "order", hand)
    assert r.code == 0, r.err
    assert r.out == 'item,score\nbutter,1.25\n"jam, ""extra""",1.25\nmilk,0.8333333333333334\n'
    r = persona("recommend", "--user", "u3", "--basket", "order", "--exclude", 'jam, "extra"',
                "--exclude", "milk", hand)
    assert r.code == 0, r.err
    assert r.out == "item,score\nbutter,1.25\n"
    r = persona("recommend", "--user", "nobody", "--basket", "order", hand)
    assert r.code == 1 and "nobody" in r.err


def test_overindex(persona, hand, tmp_path):
    rules = tmp_path / "r.txt"
    rules.write_text("heavy: events >= 5\n")
    r = persona("overindex", "--segment", "heavy", "--rules", str(rules), "--basket", "order",
                hand)
    assert r.code == 0, r.err
    got = rows(r.out)
    assert [x["item"] for x in got] == ["butter", "milk", "bread"]
    assert float(got[0]["index"]) == 250 and float(got[0]["segment_share"]) == 0.5
    assert math.isclose(float(got[1]["z"]), (2 / 3) / math.sqrt(0.2), rel_tol=1e-12)
    r = persona("overindex", "--segment", "light", "--rules", str(rules), "--basket", "order",
                hand)
    assert r.code == 2 and "light" in r.err


def test_json(persona, hand):
    r = persona("similar", "--item", "bread", "--basket", "order", "--format", "json", hand)
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert got[0] == {"item": "a, b", "score": 1.25, "count": 1}
    assert [x["item"] for x in got] == ["a, b", "butter", 'jam, "extra"', "milk"]
    r = persona("recommend", "--user", "u3", "--basket", "order", "--format", "json", hand)
    assert json.loads(r.out)[0] == {"item": "butter", "score": 1.25}
    r = persona("similar", "--item", "bread", "--basket", "order", "--format", "text", hand)
    assert r.code == 2 and "--format" in r.err


def test_errors(persona, hand):
    r = persona("similar", "--basket", "order", hand)
    assert r.code == 2 and "--item" in r.err
    r = persona("similar", "--item", "bread", "--measure", "nope", "--basket", "order", hand)
    assert r.code == 2 and "--measure" in r.err
    r = persona("similar", "--item", "nope", "--basket", "order", hand)
    assert r.code == 1 and "nope" in r.err
    r = persona("similar", "--item", "bread", "--by", "week", "--basket", "order", hand)
    assert r.code == 2 and "--by" in r.err
