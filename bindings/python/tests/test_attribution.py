"""The Python surface of attribution: Store.attribution, Attribution (paths, info, save /
load, merge == whole), and errors for bad input."""
import math

import pytest

import persona
from persona import Attribution

LOOP = ([["A", "B"], ["A", "A"], ["C"], ["B", "C"]], [1, 0, 1, 0], [10.0, 0.0, 20.0, 0.0],
        [0, 1, 0, 1])


def rows(table):
    return table.to_dict("records") if hasattr(table, "to_dict") else table


def test_hand_worked_markov():
    # tests/unit/attribution/test_attribution.c works this set out by hand
    with Attribution.from_journeys(*LOOP) as a:
        r = {x["channel"]: x for x in rows(a.compute("markov", 1))}
        assert r["A"]["conversions"] == pytest.approx(6 / 13)
        assert r["B"]["removal_effect"] == pytest.approx(3 / 4)
        assert r["C"]["value"] == pytest.approx(12)
        assert sum(x["share"] for x in r.values()) == pytest.approx(1)
        lin = {x["channel"]: x for x in rows(a.compute("linear"))}
        assert lin["A"]["conversions"] == pytest.approx(0.5)
        assert math.isnan(lin["A"]["removal_effect"])
        assert a.info["conversions"] == 2 and a.info["nulls"] == 2
        assert a.channels == ["A", "B", "C"]
        assert [p for p in rows(a.paths())][0]["path"] == ["A", "A"]


def test_bad_arguments():
    with Attribution.from_journeys(*LOOP) as a:
        with pytest.raises(ValueError, match="order"):
            a.compute("markov", 0)
        with pytest.raises(ValueError, match="order"):
            a.compute("markov", 5)
        with pytest.raises(ValueError, match="model"):
            a.compute("shapley")
        with pytest.raises(persona.InvalidArgumentError, match="sum 1"):
            a.compute("position", weights=(0.5, 0.5, 0.5))
    with pytest.raises(persona.InvalidArgumentError, match="half_life"):
        Attribution.from_journeys(*LOOP, half_life=-1)
    with pytest.raises(persona.InvalidArgumentError, match="empty"):
        Attribution.from_journeys([[]], [1])


def events(users):
    out = []
    for u in users:
        n = int(u[1:])
        out.append({"user": u, "time": 1000 * n, "type": "visit", "props": {"campaign": "mail"}})
        if n % 3:
            out.append({"user": u, "time": 1000 * n + 1, "type": "ad",
                        "props": {"campaign": "search"}})
        if n % 2:
            out.append({"user": u, "time": 1000 * n + 2, "type": "purchase", "value": float(n)})
    return out


def test_store_save_load_merge(tmp_path):
    users = [f"u{i}" for i in range(1, 13)]
    whole, part1, part2 = persona.Store(seed=1), persona.Store(seed=1), persona.Store(seed=1)
    whole.ingest(events(users))
    part1.ingest(events(users[:5]))
    part2.ingest(events(users[5:]))
    a = Attribution.build(whole, "campaign", "purchase")
    m = Attribution.build(part1, "campaign", "purchase").merge(
        Attribution.build(part2, "campaign", "purchase"))
    assert rows(m.paths()) == rows(a.paths())
    a.save(tmp_path / "a.snap")
    b = Attribution.load(tmp_path / "a.snap")
    for model in ("markov", "first", "decay"):
        assert rows(b.compute(model)) == pytest.approx(rows(a.compute(model))) or \
            str(rows(b.compute(model))) == str(rows(a.compute(model)))
    table = whole.attribution("campaign", "purchase", "last")
    assert {r["channel"]: r["conversions"] for r in rows(table)} == {"mail": 2.0, "search": 4.0}
    none = whole.attribution("campaign", "signup", "markov", 2)
    assert all(r["conversions"] == 0 for r in rows(none))
    for s in (whole, part1, part2):
        s.close()
