"""Store.paths and PathModel: the hand-worked shop of tests/unit/path/test_path.c
(transitions of orders 1 and 2, back-off, a user's current session, the explorer),
DataFrames and plain lists, grouping rules and "(none)", save/load, merge == whole, errors,
and the e-shop clickstream's first-order transitions against pandas
(tests/data/eshop_transitions_pandas.csv)."""
import csv
import math
import os

import pytest

import persona

MIN = 60_000
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(REPO, "tests", "data")
SHARED = os.environ.get("PERSONA_SHARED", os.path.join(os.path.dirname(REPO), "shared"))

SHOP = [("u1", 0, "home"), ("u1", 1 * MIN, "product"), ("u1", 2 * MIN, "cart"),
        ("u1", 120 * MIN, "home"), ("u1", 121 * MIN, "product"),
        ("u2", 5 * MIN, "product"), ("u2", 0, "home"), ("u2", 6 * MIN, "product")]


def shop(store, users=None):
    store.ingest([{"user": u, "time": t, "type": e} for u, t, e in SHOP
                  if users is None or u in users])
    return store


def records(table):
    return table.to_dict("records") if hasattr(table, "to_dict") else table


def test_transitions_and_next(store):
    m = shop(store).paths(order=2)
    assert m.info == {"order": 2, "states": 5, "sessions": 3, "users": 2, "events": 8,
                      "skipped": 0, "contexts": 8, "transitions": 12}
    assert m.states == ["(end)", "(start)", "cart", "home", "product"]
    t1 = records(m.transitions(1))
    assert [(r["from"], r["to"], r["count"]) for r in t1] == [
        ("(start)", "home", 3), ("cart", "(end)", 1), ("home", "product", 3),
        ("product", "(end)", 2), ("product", "cart", 1), ("product", "product", 1)]
    assert t1[3]["probability"] == 0.5
    t2 = records(m.transitions())
    assert t2[0] == {"from": "(start) > home", "to": "product", "count": 3, "probability": 1.0}
    t0 = records(m.transitions(0))
    assert [(r["to"], r["count"]) for r in t0] == [("product", 4), ("(end)", 3), ("home", 3),
                                                  ("cart", 1)]
    nx = records(m.next(["home", "product"]))
    assert [r["event"] for r in nx] == ["(end)", "cart", "product"]
    assert math.isclose(sum(r["probability"] for r in nx), 1, rel_tol=1e-15)
    assert m.last_order == 2
    nx = records(m.next(["cart", "product"], top=1))  # unseen: back off to order 1
    assert nx == [{"event": "(end)", "probability": 0.5}] and m.last_order == 1
    nx = records(m.next(["nowhere"], top=2))
    assert nx[0] == {"event": "product", "probability": 4 / 11} and m.last_order == 0
    assert records(m.next("(start)")) == [{"event": "home", "probability": 1.0}]
    assert records(m.next_user("u2")) == [{"event": "(end)", "probability": 1.0}]
    with pytest.raises(LookupError, match="nobody"):
        m.next_user("nobody")
    for bad in (0, 3):
        with pytest.raises(ValueError):
            m.next(["home"], order=bad)
    with pytest.raises(ValueError):
        m.transitions(3)


def test_explorer(store):
    m = shop(store).paths()
    top = records(m.top_paths())
    assert [(r["path"], r["count"]) for r in top] == [
        (("(start)", "home", "product", "(end)"), 1),
        (("(start)", "home", "product", "cart", "(end)"), 1),
        (("(start)", "home", "product", "product", "(end)"), 1)]
    assert records(m.top_paths(exclude="product", top=1)) == [
        {"path": ("(start)", "home", "(end)"), "count": 2}]
    assert records(m.top_paths(end="product")) == [
        {"path": ("(start)", "home", "product"), "count": 3}]
    goal = records(m.goal_paths("cart"))
    assert goal[0] == {"path": ("(start)", "home", "product"), "count": 2, "conversions": 1,
                       "conversion_rate": 0.5}
    drop = records(m.dropoffs())
    assert [(r["step"], r["sessions"], r["dropoffs"]) for r in drop] == [
        (1, 3, 0), (2, 3, 0), (3, 3, 1), (4, 1, 1), (4, 1, 1)]
    with pytest.raises(ValueError):
        m.top_paths(max_steps=0)


def test_plain_lists_without_pandas(store, hide_numpy):
    m = shop(store).paths()
    assert m.next(["home"]) == [{"event": "product", "probability": 1.0}]
    assert m.transitions()[0] == {"from": "(start)", "to": "home", "count": 3,
                                  "probability": 1.0}


def test_states_from_a_property(store):
    store.ingest([
        {"user": "a", "time": 0, "type": "view", "props": {"page": "product/1"}},
        {"user": "a", "time": 1000, "type": "view", "props": {"page": "internal/x"}},
        {"user": "a", "time": 2000, "type": "view", "props": {"page": "product/2"}},
        {"user": "a", "time": 3000, "type": "click"},
    ])
    m = store.paths(state_prop="page", rules=[("product/*", "product"), ("internal/*", None)])
    assert records(m.top_paths()) == [
        {"path": ("(start)", "product", "product", "(none)", "(end)"), "count": 1}]
    assert m.info["skipped"] == 1
    with pytest.raises(ValueError, match="reserved"):
        store.paths(rules=[("x", "(start)")])


def test_save_load_merge(store, tmp_path):
    whole = shop(store).paths(order=2)
    with persona.Store() as a, persona.Store() as b:
        ma = shop(a, {"u1"}).paths(order=2)
        mb = shop(b, {"u2"}).paths(order=2)
        merged = ma.merge(mb)
        for order in (0, 1, 2):
            assert records(merged.transitions(order)) == records(whole.transitions(order))
        assert records(merged.top_paths()) == records(whole.top_paths())
        with pytest.raises(ValueError, match="in both"):
            ma.merge(ma)
        with pytest.raises(ValueError, match="order"):
            ma.merge(shop(b, {"u2"}).paths(order=1))
    path = tmp_path / "m.snap"
    whole.save(path)
    with persona.PathModel.load(path) as back:
        assert records(back.transitions()) == records(whole.transitions())
        assert records(back.next_user("u1")) == records(whole.next_user("u1"))
    whole.close()
    with pytest.raises(ValueError, match="closed"):
        whole.info


def test_bad_input(store):
    for bad in (0, 5, -1, 1.5):
        with pytest.raises(ValueError):
            store.paths(order=bad)
    m = store.paths()  # an empty store
    assert m.info["sessions"] == 0 and m.states == ["(end)", "(start)"]
    assert records(m.transitions()) == [] and records(m.next(["x"])) == []
    assert records(m.top_paths()) == []


def test_eshop_transitions_equal_pandas(store):
    pd = pytest.importorskip("pandas")
    src = os.path.join(SHARED, "data", "eshop_clothing_2008.csv.gz")
    if not os.path.exists(src):
        pytest.skip("shared/data/eshop_clothing_2008.csv.gz not found")
    cols = ["session ID", "order(sells)", "page 1 (main category)"]
    df = pd.read_csv(src, sep=";", usecols=cols)[cols]
    store.ingest([{"user": str(s), "time": int(o) * 1000, "type": str(p)}
                  for s, o, p in df.itertuples(index=False)])
    m = store.paths(session_gap=10**12)
    got = {(r["from"], r["to"]): r for r in records(m.transitions())}
    with open(os.path.join(DATA, "eshop_transitions_pandas.csv"), newline="") as f:
        want = list(csv.DictReader(f))
    assert set(got) == {(w["from"], w["to"]) for w in want}
    for w in want:
        assert got[(w["from"], w["to"])]["count"] == int(w["count"])
    assert m.info["sessions"] == 24026
    # every history's probabilities sum to 1
    m2 = store.paths(order=2, session_gap=10**12)
    for history in (["(start)"], ["1", "2"], ["4", "4"], ["(start)", "3"]):
        total = sum(r["probability"] for r in records(m2.next(history, top=10)))
        assert math.isclose(total, 1, rel_tol=1e-12)


def test_next_event_in_rules(store):
    shop(store)
    store.ingest([{"user": "u3", "time": 0, "type": "cart"}])
    m = store.paths(order=1)
    rules = persona.Rules('ends: next_event() == "(end)"\n'
                          'carts: next_event() == "cart"\n', mode="all")
    # without a path model next_event() is missing for everyone
    assert [rules.assign(store, u) for u in ("u1", "u2", "u3")] == [[], [], []]
    rules.use_paths(m)
    for u in ("u1", "u2", "u3"):
        first = records(m.next_user(u, top=1))[0]["event"]
        assert rules.test(store, u, "ends") is (first == "(end)")
        assert rules.test(store, u, "carts") is (first == "cart")
    assert rules.assign(store, "u3") == ["ends"]  # after cart: (end) 2
    assert rules.assign(store, "nobody") == []
    assert 'next_event() = "(end)"' in rules.explain(store, "u3")
    # the rule set keeps the model open while attached
    with pytest.raises(ValueError, match="rule set"):
        m.close()
    with pytest.raises(TypeError):
        rules.use_paths("not a model")
    rules.use_paths(None)
    assert rules.assign(store, "u3") == []
    m.close()
    # live segments cannot use it
    with pytest.raises(ValueError, match="next_event"):
        store.add_segment("soon", 'next_event() == "cart"')
