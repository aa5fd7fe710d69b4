"""Store.affinity and Affinity: a hand-worked example (the numbers of
tests/unit/affinity/test_affinity.c), DataFrames and plain lists, recommendations never
holding owned or excluded items, over-indexing by live segment, user list and callback,
save/load, merge == whole, errors."""
import math
import sys

import pytest

import persona

H = 3_600_000
EVENTS = [
    ("u1", 0, "milk", "B1", "dairy"), ("u1", 0, "bread", "B1", "bakery"),
    ("u1", 0, "butter", "B1", "dairy"), ("u1", 10 * H, "milk", "B2", "dairy"),
    ("u1", 10 * H, "bread", "B2", "bakery"), ("u2", 0, "bread", "B3", "bakery"),
    ("u2", 0, "jam", "B3", "spreads"), ("u2", H, "milk", "B4", "dairy"),
    ("u3", 0, "a, b", "B5", None), ("u3", 0, "bread", "B5", "bakery"),
]


def events(users=None):
    out = []
    for user, t, item, basket, cat in EVENTS:
        if users is not None and user not in users:
            continue
        e = {"user": user, "time": t, "type": "purchase", "item": item, "basket": basket}
        if cat:
            e["props"] = {"category": cat}
        out.append(e)
    return out


@pytest.fixture
def store():
    with persona.Store() as s:
        s.ingest(events())
        yield s


def rows(table):
    if isinstance(table, list):
        return [tuple(r.values()) for r in table]
    return [tuple(r) for r in table.itertuples(index=False)]


def test_similar_and_pair(store):
    aff = store.affinity(by="basket", events=["purchase"])
    assert aff.info["units"] == 5 and aff.info["items"] == 5 and aff.info["pairs"] == 5
    assert aff.items == ["a, b", "bread", "butter", "jam", "milk"]
    got = rows(aff.similar("bread", "lift", 10))
    assert [r[0] for r in got] == ["a, b", "butter", "jam", "milk"]
    assert got[0][1] == 1.25 and math.isclose(got[3][1], 10 / 12) and got[3][2] == 2
    p = aff.pair("milk", "bread")
    assert p["count_ab"] == 2 and math.isclose(p["lift"], 10 / 12)
    assert math.isclose(p["conviction"], 0.6) and math.isclose(p["leverage"], -0.08)
    with pytest.raises(persona.NotFoundError):
        aff.similar("nope")
    with pytest.raises(ValueError):
        aff.similar("bread", "nope")


def test_recommend_never_owned_or_excluded(store):
    aff = store.affinity()
    got = rows(aff.recommend("u3", 10))
    assert [r[0] for r in got] == ["butter", "jam", "milk"]
    got = rows(aff.recommend("u3", 10, exclude=["jam"]))
    assert [r[0] for r in got] == ["butter", "milk"]
    assert rows(aff.recommend("u3", 10, exclude="jam", from_matrix=True)) == got
    with pytest.raises(persona.NotFoundError):
        aff.recommend("nobody")


def test_user_categories(store):
    aff = store.affinity(events=["purchase"])
    got = rows(aff.user_categories("u1", as_of=10 * H, half_life=10 * H))
    assert got == [("dairy", 2.0), ("bakery", 1.5)]


def test_overindex(store):
    aff = store.affinity()
    want = ["butter", "milk", "bread"]
    assert [r[0] for r in rows(aff.overindex(["u1"]))] == want
    assert [r[0] for r in rows(aff.overindex(lambda u: u == "u1"))] == want
    store.add_segment("busy", "events >= 5")
    got = rows(aff.overindex("busy"))
    assert [r[0] for r in got] == want
    assert got[0][1] == 250 and got[0][2] == 0.5 and got[0][3] == 0.2
    with pytest.raises(persona.NotFoundError):
        aff.overindex("idle")

    def boom(user):
        raise KeyError(user)
    with pytest.raises(KeyError):
        aff.overindex(boom)


def test_save_load_merge(store, tmp_path):
    aff = store.affinity(by="user")
    path = tmp_path / "a.snap"
    aff.save(path)
    back = persona.Affinity.load(path)
    assert back.info == aff.info
    assert rows(back.similar("milk", "jaccard")) == rows(aff.similar("milk", "jaccard"))
    with persona.Store() as s1, persona.Store() as s2:
        s1.ingest(events({"u1"}))
        s2.ingest(events({"u2", "u3"}))
        merged = s1.affinity(by="user").merge(s2.affinity(by="user"))
        assert merged.info == aff.info
        for item in aff.items:
            assert rows(merged.similar(item, "cosine")) == rows(aff.similar(item, "cosine"))
        with pytest.raises(persona.InvalidArgumentError):
            s1.affinity(by="basket").merge(s2.affinity(by="user"))
    back.close()
    with pytest.raises(ValueError):
        back.similar("milk")


def test_plain_lists_without_pandas(store, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    aff = store.affinity()
    got = aff.similar("bread", top=1)
    assert got == [{"item": "a, b", "score": 1.25, "count": 1}]


def test_itemsets_of_units(store):
    """Baskets B1 {milk, bread, butter}, B2 {milk, bread}, B3 {bread, jam}, B4 {milk},
    B5 {a, b; bread}: in at least 2 baskets only bread (4), milk (3) and both (2)."""
    aff = store.affinity(by="basket")
    b = aff.baskets()
    assert b.n_baskets == 5 and sorted(b.items) == sorted(aff.items)
    got = {s: c for s, c in aff.baskets().mine(min_count=2).rows()}
    assert got == {frozenset({"bread"}): 4, frozenset({"milk"}): 3,
                   frozenset({"bread", "milk"}): 2}
    pytest.importorskip("pandas")
    df = aff.itemsets(min_support=0.4)
    assert sorted(zip(df["count"], df["support"])) == [(2, 0.4), (3, 0.6), (4, 0.8)]
    assert aff.pair("milk", "bread")["count_ab"] == 2
