"""persona.itemsets / persona.association_rules against a brute force over all subsets, the
three input forms (lists, long DataFrame, one-hot DataFrame), closed and maximal sets,
rule measures computed directly, and errors."""
import itertools
import math
import random

import pytest

import persona
from persona import _optional

pd = _optional.pandas()


def random_baskets(seed, n=60, items="abcdefg"):
    rng = random.Random(seed)
    return [[it for it in items if rng.random() < 0.45] + (["a"] if rng.random() < 0.2 else [])
            for _ in range(n)]


def brute(baskets, min_count):
    sets = [set(b) for b in baskets]
    universe = sorted(set().union(*sets))
    out = {}
    for k in range(1, len(universe) + 1):
        for combo in itertools.combinations(universe, k):
            c = sum(1 for b in sets if set(combo) <= b)
            if c >= min_count:
                out[frozenset(combo)] = c
    return out


def as_dict(result):
    rows = result.to_dict("records") if pd is not None else result
    return {r["itemsets"]: r["count"] for r in rows}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lists_match_brute_force(seed):
    baskets = random_baskets(seed)
    want = brute(baskets, math.ceil(0.1 * len(baskets) - 1e-9))
    got = persona.itemsets(baskets, min_support=0.1)
    assert as_dict(got) == want
    rows = got.to_dict("records") if pd is not None else got
    assert all(r["support"] == r["count"] / len(baskets) for r in rows)


def test_closed_and_maximal():
    baskets = random_baskets(7)
    freq = brute(baskets, 6)
    closed = {s: c for s, c in freq.items()
              if not any(s < t and c == ct for t, ct in freq.items())}
    maximal = {s: c for s, c in freq.items() if not any(s < t for t in freq)}
    assert as_dict(persona.itemsets(baskets, min_count=6, target="closed")) == closed
    assert as_dict(persona.itemsets(baskets, min_count=6, target="maximal")) == maximal
    small = persona.itemsets(baskets, min_count=6, max_size=2)
    assert as_dict(small) == {s: c for s, c in freq.items() if len(s) <= 2}


@pytest.mark.skipif(pd is None, reason="pandas not installed")
def test_dataframes_long_and_one_hot():
    baskets = random_baskets(4)
    want = as_dict(persona.itemsets(baskets, min_support=0.15))
    long = pd.DataFrame([(f"o{i}", it) for i, b in enumerate(baskets) for it in b],
                        columns=["order", "product"])
    assert as_dict(persona.itemsets(long, 0.15, basket="order", item="product")) == want
    items = sorted({it for b in baskets for it in b})
    onehot = pd.DataFrame([[it in b for it in items] for b in baskets], columns=items)
    assert as_dict(persona.itemsets(onehot, 0.15)) == want
    assert list(persona.itemsets(onehot, 0.15).columns) == ["support", "itemsets", "count"]


@pytest.mark.skipif(pd is None, reason="pandas not installed")
def test_rules_measures():
    baskets = random_baskets(5)
    n = len(baskets)
    sets = [set(b) for b in baskets]
    cnt = lambda s: sum(1 for b in sets if s <= b)  # noqa: E731
    fi = persona.itemsets(baskets, min_support=0.1)
    rules = persona.association_rules(fi, metric="confidence", min_threshold=0.5)
    assert list(rules.columns)[:9] == ["antecedents", "consequents", "antecedent support",
                                       "consequent support", "support", "confidence", "lift",
                                       "leverage", "conviction"]
    assert len(rules) > 0
    assert list(rules["confidence"]) == sorted(rules["confidence"], reverse=True)
    for r in rules.to_dict("records"):
        a, c = set(r["antecedents"]), set(r["consequents"])
        ca, cc, cz = cnt(a), cnt(c), cnt(a | c)
        assert r["support"] == cz / n and r["confidence"] == cz / ca >= 0.5
        assert r["lift"] == (cz / ca) / (cc / n)
        assert r["leverage"] == cz / n - (ca / n) * (cc / n)
        assert (math.isinf(r["conviction"]) if cz == ca
                else r["conviction"] == (1 - cc / n) / (1 - cz / ca))
    top = persona.association_rules(fi, metric="lift", min_threshold=0, top=3)
    assert len(top) == 3 and list(top["lift"]) == sorted(top["lift"], reverse=True)
    only_b = persona.association_rules(fi, min_threshold=0, consequents=["b"])
    assert all(r == frozenset("b") for r in only_b["consequents"])


def test_threads_same_rows():
    # 8,000 baskets of ~9 items: past the 65,536 occurrences below which mining stays on
    # the calling thread, so threads=2 really splits the work.
    rng = random.Random(11)
    names = [f"item {i}" for i in range(30)]
    baskets = [rng.sample(names[:10 + rng.randrange(20)], 9) for _ in range(8000)]
    one = persona.itemsets(baskets, min_support=0.02, threads=1)
    two = persona.itemsets(baskets, min_support=0.02, threads=2)
    rows1 = one.to_dict("records") if pd is not None else one
    rows2 = two.to_dict("records") if pd is not None else two
    assert len(rows1) > 100 and rows1 == rows2
    with pytest.raises(ValueError):
        persona.itemsets(baskets, min_support=0.02, threads=-1)


def test_errors():
    with pytest.raises(ValueError):
        persona.itemsets([["a"]], min_support=0)
    with pytest.raises(ValueError):
        persona.itemsets([["a"]], min_support=1.5)
    with pytest.raises(ValueError):
        persona.itemsets([["a"]], min_support=float("nan"))
    with pytest.raises(ValueError):
        persona.itemsets([["a"]], min_support=0.5, target="some")
    with pytest.raises(persona.BufferTooSmallError):
        persona.itemsets([list("abcdefghij")], min_count=1, max_itemsets=1000)
    with pytest.raises(TypeError):
        persona.itemsets(["abc"], min_support=0.5)
    with pytest.raises(ValueError):
        persona.association_rules([1, 2], metric="confidence")
    assert len(as_dict(persona.itemsets([], min_support=0.5))) == 0
