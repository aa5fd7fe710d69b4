"""persona.metrics / persona.deciles: scikit-learn's documented values, a numpy brute force
on random sets with ties, lists and arrays alike, bad input."""
import math
import random

import pytest

import persona


def test_documented_values():
    m = persona.metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert m["rows"] == 4 and m["positives"] == 2
    assert m["roc_auc"] == pytest.approx(0.75, abs=1e-12)
    assert m["pr_auc"] == pytest.approx(5 / 6, abs=1e-12)
    assert m["brier"] == pytest.approx(0.158125, abs=1e-12)
    assert m["f1"] == pytest.approx(2 / 3) and m["best_f1"] == pytest.approx(0.8)
    assert m["best_f1_threshold"] == 0.35
    assert persona.metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], threshold=0.3)["recall"] == 1


def brute_auc(y, s):
    pos = [a for a, t in zip(s, y) if t]
    neg = [a for a, t in zip(s, y) if not t]
    return sum(1 if p > q else 0.5 if p == q else 0 for p in pos for q in neg) / (len(pos) * len(neg))


def test_against_brute_force_lists_and_arrays():
    np = pytest.importorskip("numpy")
    rng = random.Random(5)
    for trial in range(30):
        n = rng.randint(2, 200)
        y = [int(rng.random() < 0.3) for _ in range(n)]
        if not 0 < sum(y) < n:
            y[0], y[1] = 0, 1
        s = [rng.randint(0, 5 if trial % 2 else 1000) / 1000 for _ in range(n)]
        a = persona.metrics(y, s)
        b = persona.metrics(np.array(y, dtype=bool), np.array(s))
        assert a == b
        assert a["roc_auc"] == pytest.approx(brute_auc(y, s), abs=1e-12)
        p = np.clip(np.array(s), 1e-15, 1 - 1e-15)
        ll = -np.mean(np.where(np.array(y) == 1, np.log(p), np.log(1 - p)))
        assert a["log_loss"] == pytest.approx(ll, rel=1e-12)


def test_deciles():
    y = [1, 0, 1, 1, 0, 0, 0, 1, 0, 0]
    s = [0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    t = persona.deciles(y, s, bins=5)
    rows = t.to_dict("records") if hasattr(t, "to_dict") else t
    assert [r["rows"] for r in rows] == [2] * 5
    assert [r["positives"] for r in rows] == [1, 2, 0, 1, 0]
    assert rows[0]["lift"] == pytest.approx(0.5 / 0.4)
    assert [r["cumulative_gain"] for r in rows] == [0.25, 0.75, 0.75, 1.0, 1.0]
    assert rows[1]["mean_score"] == pytest.approx(0.75)
    assert rows[0]["max_score"] == 0.9 and rows[4]["min_score"] == 0.1
    empty = persona.deciles([1, 0], [0.4, 0.6], bins=3)
    rows = empty.to_dict("records") if hasattr(empty, "to_dict") else empty
    assert [r["rows"] for r in rows] == [1, 1, 0] and math.isnan(rows[2]["mean_score"])


def test_bad_input():
    with pytest.raises(ValueError, match="row 1"):
        persona.metrics([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="row 0"):
        persona.metrics([0, 1], [float("nan"), 0.2])
    with pytest.raises(ValueError, match="rows"):
        persona.metrics([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError):
        persona.deciles([0, 1], [0.1, 0.2], bins=0)
    with pytest.raises(TypeError):
        persona.deciles([0, 1], [0.1, 0.2], bins=2.5)
    m = persona.metrics([1, 1], [0.2, 0.9])
    assert math.isnan(m["roc_auc"]) and m["pr_auc"] == 1
