"""persona kmeans: scikit-learn's results on tests/data/kmeans_small_* (made by
tests/data/make_kmeans_reference.py), columns, standardization, labels, errors."""
import csv
import json
import os

from conftest import ROOT

DATA = os.path.join(ROOT, "tests", "data")
POINTS = os.path.join(DATA, "kmeans_small_points.csv")
INIT = os.path.join(DATA, "kmeans_small_init.csv")


def read(name):
    with open(os.path.join(DATA, name), newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [[float(v) for v in r] for r in rows[1:]]


def close(a, b, rel=1e-12):
    return abs(a - b) <= rel * (1 + abs(b))


def test_equals_sklearn(persona, tmp_path):
    labels = tmp_path / "labels.csv"
    r = persona("kmeans", "--points", POINTS, "--init", INIT, "--format", "json",
                "--labels", str(labels))
    assert r.code == 0, r.err
    got = json.loads(r.out)
    _, centres = read("kmeans_small_sklearn_centers.csv")
    _, summary = read("kmeans_small_sklearn_summary.csv")
    _, want_labels = read("kmeans_small_sklearn_labels.csv")
    assert got["iterations"] == summary[0][1] and got["converged"] is True
    assert close(got["inertia"], summary[0][0])
    assert all(close(a, b) for row, want in zip(got["centers"], centres) for a, b in zip(row, want))
    lines = labels.read_text().split()
    assert lines[0] == "cluster" and [int(v) for v in lines[1:]] == [int(r[0]) for r in want_labels]
    assert got["sizes"] == [[int(r[0]) for r in want_labels].count(c) for c in range(6)]
    csv_out = persona("kmeans", "--points", POINTS, "--init", INIT)
    head, *rows = csv_out.out.splitlines()
    assert head == "cluster,x0,x1,x2,x3" and len(rows) == 6
    assert [float(v) for v in rows[0].split(",")[1:]] == got["centers"][0]


def test_columns_seed_threads(persona):
    a = persona("kmeans", "--points", POINTS, "--columns", "x2,x0", "-k", "3", "--seed", "5",
                "--threads", "1", "--format", "json")
    b = persona("kmeans", "--points", POINTS, "--columns", "x2,x0", "-k", "3", "--seed", "5",
                "--threads", "2", "--format", "json")
    assert a.code == 0 and a.out == b.out
    assert len(json.loads(a.out)["centers"][0]) == 2
    head = persona("kmeans", "--points", POINTS, "--columns", "x2,x0", "-k", "3").out.splitlines()[0]
    assert head == "cluster,x2,x0"


def test_algorithms(persona, tmp_path):
    """lloyd, hamerly, auto and elkan: the same output, byte for byte; minibatch: the
    same output for the same seed at any thread count, a different one for another batch
    size, and labels matching its centres."""
    outs = {}
    for alg in ("auto", "lloyd", "hamerly", "elkan"):
        labels = tmp_path / f"{alg}.csv"
        r = persona("kmeans", "--points", POINTS, "--init", INIT, "--algorithm", alg,
                    "--format", "json", "--labels", str(labels))
        assert r.code == 0, r.err
        outs[alg] = (r.out, labels.read_text())
    assert outs["lloyd"] == outs["hamerly"] == outs["elkan"] == outs["auto"]
    mb = [persona("kmeans", "--points", POINTS, "-k", "6", "--seed", "3", "--algorithm",
                  "minibatch", "--batch-size", "64", "--threads", t, "--format", "json")
          for t in ("1", "2")]
    assert mb[0].code == 0 and mb[0].out == mb[1].out, mb[0].err
    got = json.loads(mb[0].out)
    assert len(got["centers"]) == 6 and sum(got["sizes"]) == len(read("kmeans_small_points.csv")[1])
    other = persona("kmeans", "--points", POINTS, "-k", "6", "--seed", "3", "--algorithm",
                    "minibatch", "--batch-size=65", "--format", "json")
    assert other.code == 0 and other.out != mb[0].out
    assert "--batch-size N" in persona("kmeans", "--help").out


def test_standardize(persona, tmp_path):
    """Column x1 multiplied by 1000: standardized, the clusters are those of the original
    points standardized, and the centres come back in the scaled units."""
    header, pts = read("kmeans_small_points.csv")
    scaled = tmp_path / "scaled.csv"
    scaled.write_text(",".join(header) + "\n" + "".join(
        ",".join(repr(v * (1000 if j == 1 else 1)) for j, v in enumerate(r)) + "\n" for r in pts))
    la, lb = tmp_path / "a.csv", tmp_path / "b.csv"
    a = persona("kmeans", "--points", str(scaled), "-k", "4", "--standardize", "--format", "json",
                "--labels", str(la))
    b = persona("kmeans", "--points", POINTS, "-k", "4", "--standardize", "--format", "json",
                "--labels", str(lb))
    assert a.code == 0 and b.code == 0, a.err + b.err
    assert la.read_text() == lb.read_text()
    ca, cb = json.loads(a.out)["centers"], json.loads(b.out)["centers"]
    assert all(close(x[1], 1000 * y[1], 1e-9) and close(x[0], y[0], 1e-9) for x, y in zip(ca, cb))


def test_errors(persona, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,x\n")
    r = persona("kmeans", "--points", str(bad), "-k", "1")
    assert r.code == 1 and "bad.csv:3: points column 'b' is 'x', not a finite number" in r.err
    r = persona("kmeans", "--points", POINTS, "--columns", "nope")
    assert r.code == 2 and "no column 'nope'" in r.err
    r = persona("kmeans", "--points", POINTS, "--algorithm", "elk")
    assert r.code == 2 and "auto, lloyd, hamerly, elkan or minibatch" in r.err
    r = persona("kmeans", "--points", POINTS, "--algorithm", "minibatch", "--batch-size", "0")
    assert r.code == 2 and "--batch-size '0'" in r.err
    r = persona("kmeans", "--points", POINTS, "--batch-size", "x")
    assert r.code == 2 and "--batch-size 'x'" in r.err
    r = persona("kmeans", "--points", str(bad.with_name("missing.csv")))
    assert r.code == 1
    short = tmp_path / "short.csv"
    short.write_text("a\n1\n2\n")
    r = persona("kmeans", "--points", str(short), "-k", "3")
    assert r.code == 1 and "more than the 2 points" in r.err
    r = persona("kmeans", "--points", POINTS, "--init", INIT, "-k", "5")
    assert r.code == 2 and "has 6 centres" in r.err
    r = persona("kmeans")
    assert r.code == 2 and "--points" in r.err
    assert persona("kmeans", "--help").code == 0


def test_retail_rfm_equals_sklearn(persona, tmp_path):
    """The benchmark's retail RFM features (shared/bench/gen/retail.py --k 4 --k 8), k = 4 and
    8 from its initial centres: scikit-learn's iterations, labels, sizes, and centres and
    inertia to 1e-12 (tests/data/retail_rfm_kmeans_sklearn.json, made by
    tests/data/make_retail_kmeans_reference.py)."""
    import subprocess
    import sys
    from conftest import SHARED
    gen = os.path.join(SHARED, "bench", "gen", "retail.py")
    src = os.path.join(SHARED, "data", "online_retail.csv.gz")
    if not (os.path.exists(gen) and os.path.exists(src)):
        import pytest
        pytest.skip("shared/bench or shared/data not found")
    prefix = str(tmp_path / "retail")
    subprocess.run([sys.executable, gen, "--k", "4", "--k", "8", src, prefix], check=True,
                   capture_output=True)
    want = json.load(open(os.path.join(DATA, "retail_rfm_kmeans_sklearn.json")))
    for k in (4, 8):
        labels = tmp_path / f"labels{k}.csv"
        r = persona("kmeans", "--points", prefix + ".rfm.csv", "--init",
                    f"{prefix}.rfm.init_k{k}.csv", "--format", "json", "--labels", str(labels))
        assert r.code == 0, r.err
        got, ref = json.loads(r.out), want[f"k{k}"]
        assert got["iterations"] == ref["iterations"] and got["sizes"] == ref["sizes"]
        assert close(got["inertia"], ref["inertia"])
        assert all(close(a, b) for row, w in zip(got["centers"], ref["centers"]) for a, b in zip(row, w))
        assert [int(v) for v in labels.read_text().split()[1:]] == ref["labels"]


def test_views(persona, tmp_path):
    p = tmp_path / "p.csv"
    # a and b place six points in three pairs; c is noise
    p.write_text("a,b,c\n0,0,5\n0.1,0.2,1\n5,5,3\n5.2,5.1,9\n9,0,2\n9.1,0.3,7\n")
    model = tmp_path / "m.snap"
    r = persona("kmeans", "--points", str(p), "-k", "3", "--views", "pos=a,b;noise=c",
                "--seed", "1", "--format", "json", "--save", str(model))
    assert r.code == 0, r.err
    got = json.loads(r.out)
    assert sorted(got["sizes"]) == [2, 2, 2] and got["rounds"] == 2
    v = got["views"]
    # within-view sums: pos 0.1 (the pairs' spread), noise 38.5; weights ~ 1 / D (gamma 2)
    assert close(v["pos"]["within"], 0.1, 1e-12) and close(v["noise"]["within"], 38.5)
    assert close(v["pos"]["weight"], 10 / (10 + 1 / 38.5))
    assert close(got["inertia"], v["pos"]["weight"] ** 2 * 0.1 + v["noise"]["weight"] ** 2 * 38.5)
    assert model.stat().st_size > 0
    fixed = persona("kmeans", "--points", str(p), "-k", "3", "--views", "pos=a,b;noise=c",
                    "--view-weights", "1,0", "--gamma", "3", "--seed", "1", "--format", "json")
    assert fixed.code == 0, fixed.err
    f = json.loads(fixed.out)
    assert f["views"]["pos"]["weight"] == 1 and f["views"]["noise"]["weight"] == 0
    assert f["rounds"] == 1
    for args, phrase in (
        (["--views", "pos=a;noise=c"], "column 'b' is in no view"),
        (["--views", "pos=a,b;noise=c,a"], "column 'a' is in two views"),
        (["--views", "pos=a,b,zz;noise=c"], "names column 'zz'"),
        (["--views", "pos"], "is not NAME=COLUMN"),
        (["--views", "pos=a,b;noise=c", "--view-weights", "1"], "2 numbers, one a view"),
        (["--gamma", "3"], "need --views"),
    ):
        r = persona("kmeans", "--points", str(p), "-k", "3", *args)
        assert r.code == 2 and phrase in r.err, (args, r.err)
    r = persona("kmeans", "--points", str(p), "-k", "3", "--views", "pos=a,b;noise=c",
                "--gamma", "1")
    assert r.code == 1 and "gamma" in r.err
