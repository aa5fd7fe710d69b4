"""persona hclust: SciPy's linkage matrices and flat clusters of the 5k benchmark points
(tests/data/hclust_5k_*, made by tests/data/make_hclust_reference.py), a hand-worked
example, columns, standardization, JSON, labels, errors."""
import csv
import json
import os
import struct

import pytest

from conftest import ROOT

DATA = os.path.join(ROOT, "tests", "data")


@pytest.fixture(scope="module")
def points_csv(tmp_path_factory):
    with open(os.path.join(DATA, "hclust_5k_points.f64"), "rb") as f:
        raw = f.read()
    v = struct.unpack(f"<{len(raw) // 8}d", raw)
    path = tmp_path_factory.mktemp("hc") / "points.csv"
    with open(path, "w") as f:
        f.write("id," + ",".join(f"x{j}" for j in range(8)) + "\n")
        for i in range(0, len(v), 8):
            f.write(f"u{i // 8}," + ",".join(repr(x) for x in v[i:i + 8]) + "\n")
    return str(path)


def scipy_rows(method):
    with open(os.path.join(DATA, f"hclust_5k_scipy_{method}.csv"), newline="") as f:
        return list(csv.reader(f))


@pytest.mark.parametrize("method", ["ward", "average", "complete", "single"])
def test_equals_scipy(persona, points_csv, method):
    r = persona("hclust", "--points", points_csv, "--columns", ",".join(f"x{j}" for j in range(8)),
                "--linkage", method)
    assert r.code == 0, r.err
    got = list(csv.reader(r.out.splitlines()))
    want = scipy_rows(method)
    assert got[0] == want[0] == ["a", "b", "distance", "size"]
    assert len(got) == len(want) == 5000
    for g, w in zip(got[1:], want[1:]):
        assert (g[0], g[1], g[3]) == (w[0], w[1], w[3])
        assert abs(float(g[2]) - float(w[2])) <= 1e-12 * float(w[2])


def test_cuts_equal_scipy(persona, points_csv, tmp_path):
    with open(os.path.join(DATA, "hclust_5k_scipy_cuts.csv"), newline="") as f:
        cuts = list(csv.DictReader(f))
    cols = ",".join(f"x{j}" for j in range(8))
    for c in cuts:
        if c["method"] not in ("ward", "single"):
            continue
        labels = tmp_path / "labels.csv"
        flag = ["-k", c["value"]] if c["kind"] == "k" else ["--height", c["value"]]
        r = persona("hclust", "--points", points_csv, "--columns", cols, "--linkage", c["method"],
                    *flag, "--labels", str(labels), "--format", "json")
        assert r.code == 0, r.err
        got = labels.read_text().split()
        want = c["labels"].split()
        assert got[0] == "cluster" and got[1:] == want
        assert json.loads(r.out)["clusters"] == len(set(want))


def test_hand_worked_json_standardize(persona, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("x,y\n0,5\n1,5\n3,5\n7,5\n")
    r = persona("hclust", "--points", str(p), "--linkage", "complete", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"linkage": [[0, 1, 1, 2], [2, 4, 3, 3], [3, 5, 7, 4]]}
    # z-scores: x has mean 2.75 and standard deviation sqrt(7.1875); y has no spread
    s = persona("hclust", "--points", str(p), "--linkage", "single", "--standardize")
    rows = [r.split(",") for r in s.out.splitlines()[1:]]
    assert [float(r[2]) for r in rows] == pytest.approx([v / 7.1875 ** 0.5 for v in (1, 2, 4)],
                                                        rel=1e-15)


def test_errors(persona, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("x\n0\n1\n")
    for args, phrase in (
        (["--linkage", "centroid"], "ward, average, complete or single"),
        (["-k", "0"], "-k '0'"),
        (["-k", "3"], "-k 3 is more than the 2 points"),
        (["--height", "abc"], "is not a number"),
        (["-k", "1", "--height", "1"], "cannot both"),
        (["--labels", str(tmp_path / "l.csv")], "needs -k or --height"),
        (["--format", "xml"], "csv or json"),
        (["--bogus"], "unknown argument"),
    ):
        r = persona("hclust", "--points", str(p), *args)
        assert r.code == 2 and phrase in r.err, (args, r.err)
    r = persona("hclust")
    assert r.code == 2 and "--points" in r.err
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n0\nnan\n")
    r = persona("hclust", "--points", str(bad))
    assert r.code == 1 and "not a finite number" in r.err
    r = persona("hclust", "--help")
    assert r.code == 0 and "--linkage" in r.out
