"""persona itemsets / persona rules: the Groceries itemsets at four supports hash as the
Borgelt anchors' canonical files (tests/data/itemsets_anchor_sha256.csv); a brute force on
a small file with quoted names, commas and repeats; closed, maximal, --max-size,
--min-count; rule measures computed directly; the item separator; errors and exit codes."""
import csv
import gzip
import hashlib
import io
import itertools
import math
import os
import subprocess
import sys

import pytest

from conftest import ROOT

DATA = os.path.join(ROOT, "tests", "data")


def canonical_sha(out_text, sep=" | "):
    """sha256 of the anchors' canonical form of an itemsets CSV (tests/data/itemsets_canonical.py)."""
    rows = []
    r = csv.reader(io.StringIO(out_text))
    next(r)
    for items, count, support in r:
        rows.append((" ".join(items.split(sep)), int(count), support))
    rows.sort()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["items", "count", "support"])
    for row in rows:
        w.writerow(row)
    return hashlib.sha256(buf.getvalue().encode()).hexdigest()


def anchors():
    with open(os.path.join(DATA, "itemsets_anchor_sha256.csv")) as f:
        return [line.strip().split(",") for line in f if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def groceries(tmp_path_factory):
    path = tmp_path_factory.mktemp("groceries") / "groceries.baskets.csv"
    with gzip.open(os.path.join(DATA, "groceries.baskets.csv.gz"), "rb") as f:
        path.write_bytes(f.read())
    return str(path)


@pytest.mark.parametrize("support", ["0.01", "0.005", "0.002", "0.001"])
def test_groceries_equal_borgelt(persona, groceries, support):
    want = [a for a in anchors() if a[0] == "groceries" and a[1] == support][0]
    r = persona("itemsets", groceries, "--basket", "basket", "--item", "item",
                "--min-support", support)
    assert r.code == 0, r.err
    assert len(r.out.splitlines()) - 1 == int(want[3])
    assert canonical_sha(r.out) == want[4]
    # The same threshold as an absolute count.
    r2 = persona("itemsets", groceries, "--basket", "basket", "--item", "item",
                 "--min-count", want[2])
    assert r2.out == r.out


SMALL = [("o1", "milk"), ("o1", 'bread, "rye"'), ("o1", "eggs"), ("o2", "milk"),
         ("o2", 'bread, "rye"'), ("o3", "milk"), ("o3", "eggs"), ("o3", "eggs"),
         ("o4", 'bread, "rye"'), ("o5", "milk"), ("o5", 'bread, "rye"'), ("o5", "eggs"),
         ("o2", "butter"), ("o6", "=sum")]


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["basket", "qty", "item"])
        for b, it in SMALL:
            w.writerow([b, 1, it])
    return str(path)


def small_baskets():
    out = {}
    for b, it in SMALL:
        out.setdefault(b, set()).add(it)
    return list(out.values())


def brute(min_count, max_size=None):
    baskets = small_baskets()
    items = sorted(set().union(*baskets))
    res = {}
    for k in range(1, (max_size or len(items)) + 1):
        for combo in itertools.combinations(items, k):
            c = sum(1 for b in baskets if set(combo) <= b)
            if c >= min_count:
                res[frozenset(combo)] = c
    return res


def parse(out, sep=" | "):
    rows = list(csv.DictReader(io.StringIO(out)))
    return {frozenset(r["items"].split(sep)): int(r["count"]) for r in rows}, rows


def test_small_brute_force_and_quoting(persona, small):
    r = persona("itemsets", small, "--basket", "basket", "--item", "item", "--min-support", "0.3")
    assert r.code == 0, r.err
    got, rows = parse(r.out)
    assert got == brute(math.ceil(0.3 * 6 - 1e-9))
    for row in rows:  # items sorted bytewise within the field, support = count / 6
        names = row["items"].split(" | ")
        assert names == sorted(names, key=lambda s: s.encode())
        assert float(row["support"]) == int(row["count"]) / 6
    assert '"bread, ""rye"" | eggs | milk"' in r.out  # quoted per RFC 4180


def test_targets_and_max_size(persona, small):
    freq = brute(2)
    closed = {s: c for s, c in freq.items() if not any(s < t and c == ct for t, ct in freq.items())}
    maximal = {s: c for s, c in freq.items() if not any(s < t for t in freq)}
    for target, want in (("closed", closed), ("maximal", maximal)):
        r = persona("itemsets", small, "--basket", "basket", "--item", "item", "--min-count", "2",
                    "--target", target)
        assert r.code == 0, r.err
        assert parse(r.out)[0] == want
    r = persona("itemsets", small, "--basket", "basket", "--item", "item", "--min-count", "2",
                "--max-size", "2")
    assert parse(r.out)[0] == brute(2, 2)


def test_item_separator(persona, tmp_path):
    path = tmp_path / "sep.csv"
    path.write_text("basket,item\n1,a | b\n1,c\n2,a | b\n2,c\n")
    r = persona("itemsets", str(path), "--basket", "basket", "--item", "item", "--min-count", "2")
    assert r.code == 1 and "a | b" in r.err and "--item-sep" in r.err
    r = persona("itemsets", str(path), "--basket", "basket", "--item", "item", "--min-count", "2",
                "--item-sep", ";")
    assert r.code == 0, r.err
    assert parse(r.out, ";")[0] == {frozenset(["a | b"]): 2, frozenset(["c"]): 2,
                                    frozenset(["a | b", "c"]): 2}


def test_rules(persona, small):
    r = persona("rules", small, "--basket", "basket", "--item", "item", "--min-count", "2",
                "--min-confidence", "0.5")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert list(rows[0].keys()) == ["antecedent", "consequent", "support", "confidence", "lift",
                                    "conviction"]
    baskets = small_baskets()
    cnt = lambda s: sum(1 for b in baskets if s <= b)  # noqa: E731
    freq = brute(2)
    want = set()
    for z in freq:
        for k in range(1, len(z)):
            for a in itertools.combinations(sorted(z), k):
                a = frozenset(a)
                if cnt(z) / cnt(a) >= 0.5:
                    want.add((a, z - a))
    got = set()
    for row in rows:
        a, c = frozenset(row["antecedent"].split(" | ")), frozenset(row["consequent"].split(" | "))
        got.add((a, c))
        ca, cc, cz = cnt(a), cnt(c), cnt(a | c)
        assert float(row["support"]) == cz / 6
        assert float(row["confidence"]) == cz / ca
        assert float(row["lift"]) == (cz / ca) / (cc / 6)
        assert (row["conviction"] == "inf" if cz == ca
                else float(row["conviction"]) == (1 - cc / 6) / (1 - cz / ca))
    assert got == want
    conf = [float(row["confidence"]) for row in rows]
    assert conf == sorted(conf, reverse=True)
    top = persona("rules", small, "--basket", "basket", "--item", "item", "--min-count", "2",
                  "--top", "2", "--sort-by", "lift")
    assert top.code == 0, top.err
    assert len(top.out.splitlines()) == 3


def test_bundled_sample(persona):
    r = persona("itemsets", "--min-support", "0.02")
    assert r.code == 0, r.err
    assert r.out.startswith("items,count,support\n") and len(r.out.splitlines()) > 1


@pytest.mark.parametrize("args,phrase", [
    (["--min-support", "0"], "min-support"),
    (["--min-support", "1.5"], "min-support"),
    (["--min-support", "nan"], "min-support"),
    (["--min-support", "0.5", "--min-count", "2"], "not both"),
    ([], "--min-support"),
    (["--min-support", "0.5", "--target", "some"], "--target"),
    (["--min-count", "-3"], "--min-count"),
    (["--min-count", "2", "--threads", "two"], "--threads"),
])
def test_usage_errors(persona, small, args, phrase):
    r = persona("itemsets", small, "--basket", "basket", "--item", "item", *args)
    assert r.code == 2 and r.err.startswith("persona: ") and phrase in r.err


def test_runtime_errors(persona, small, tmp_path):
    r = persona("itemsets", small, "--basket", "order", "--item", "item", "--min-support", "0.5")
    assert r.code == 2 and "no column 'order'" in r.err
    r = persona("itemsets", str(tmp_path / "missing.csv"), "--basket", "b", "--item", "i",
                "--min-support", "0.5")
    assert r.code == 1
    r = persona("itemsets", small, "--basket", "basket", "--item", "item", "--min-count", "1",
                "--max-itemsets", "3")
    assert r.code == 1 and "max_itemsets" in r.err
    bad = tmp_path / "bad.csv"
    bad.write_text("basket,item\n1,a\n2,\n")
    r = persona("itemsets", str(bad), "--basket", "basket", "--item", "item", "--min-count", "1")
    assert r.code == 0 and "a,1," in r.out
    r = persona("itemsets", str(bad), "--basket", "basket", "--item", "item", "--min-count", "1",
                "--strict")
    assert r.code == 1 and "bad.csv:3" in r.err
    r = persona("itemsets", "--help")
    assert r.code == 0 and "--basket" in r.out
