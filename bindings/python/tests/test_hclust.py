"""persona.linkage and persona.HClust: SciPy's linkage matrices and flat clusters of the 5k
benchmark points (the references in tests/data, made by tests/data/make_hclust_reference.py
with SciPy 1.10.1), a hand-worked example, inputs as numpy arrays, DataFrames or plain rows,
new points, and errors."""
import csv
import math
import os
import struct

import pytest

import persona

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(REPO, "tests", "data")
METHODS = ["ward", "average", "complete", "single"]


def points_5k():
    with open(os.path.join(DATA, "hclust_5k_points.f64"), "rb") as f:
        raw = f.read()
    v = struct.unpack(f"<{len(raw) // 8}d", raw)
    return [list(v[i:i + 8]) for i in range(0, len(v), 8)]


def scipy_linkage(method):
    with open(os.path.join(DATA, f"hclust_5k_scipy_{method}.csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        return [[float(x) for x in row] for row in r]


def scipy_cuts():
    with open(os.path.join(DATA, "hclust_5k_scipy_cuts.csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        return [(m, kind, float(v), [int(x) for x in labels.split()]) for m, kind, v, labels in r]


@pytest.mark.parametrize("method", METHODS)
def test_equals_scipy(method):
    np = pytest.importorskip("numpy")
    z = persona.linkage(np.array(points_5k()), method)
    want = np.array(scipy_linkage(method))
    assert z.shape == want.shape and z.dtype == np.float64
    assert (z[:, [0, 1, 3]] == want[:, [0, 1, 3]]).all()
    assert np.allclose(z[:, 2], want[:, 2], rtol=1e-12, atol=0)


def test_cuts_equal_scipy():
    pytest.importorskip("numpy")
    x = points_5k()
    models = {m: persona.HClust(m).fit(x) for m in METHODS}
    cuts = scipy_cuts()
    assert len(cuts) == 12
    for method, kind, value, want in cuts:
        got = (models[method].cut(n_clusters=int(value)) if kind == "k"
               else models[method].cut(height=value))
        assert got.tolist() == want, (method, kind, value)


def test_hand_worked_without_numpy(monkeypatch):
    monkeypatch.setattr(persona._optional, "numpy", lambda: None)
    # 0, 1, 3, 7 on a line (docs/hclust.md): average merges {0,1} at 1, then 3 at 2.5,
    # then 7 at (7 + 6 + 4) / 3
    z = persona.linkage([[0], [1], [3], [7]], "average")
    assert z == [[0, 1, 1, 2], [2, 4, 2.5, 3], [3, 5, pytest.approx(17 / 3, rel=1e-15), 4]]
    hc = persona.HClust("ward").fit([[0], [1], [3], [7]])
    assert hc.cut(n_clusters=2) == [0, 0, 0, 1]
    assert hc.cut(height=1.5) == [0, 0, 1, 2]
    labels, dist = hc.predict([[2], [5]], 2, return_distance=True)
    assert labels == [0, 1]
    assert dist[0] == pytest.approx(math.sqrt(1.5) * 2 / 3, rel=1e-15)
    assert dist[1] == pytest.approx(2, rel=1e-15)


def test_dataframe_and_threads():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    x = np.array(points_5k()[:800])
    df = pd.DataFrame(x, columns=[f"f{j}" for j in range(8)])
    hc = persona.HClust("average", threads=1).fit(df)
    assert hc.feature_names_in_ == list(df.columns)
    assert hc.n_features_in_ == 8
    two = persona.HClust("average", threads=2).fit(x)
    assert hc.linkage_.tobytes() == two.linkage_.tobytes()


def test_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        persona.HClust("centroid")
    with pytest.raises(ValueError, match="not fitted"):
        persona.HClust().cut(n_clusters=2)
    with pytest.raises(persona.InvalidArgumentError, match="row 1, column 0 is NaN"):
        persona.linkage([[0.0], [float("nan")]])
    hc = persona.HClust("single").fit([[0.0], [1.0], [5.0]])
    with pytest.raises(ValueError, match="exactly one"):
        hc.cut()
    with pytest.raises(persona.InvalidArgumentError, match="k = 4"):
        hc.cut(n_clusters=4)
    with pytest.raises(persona.InvalidArgumentError, match="dimensions"):
        hc.predict([[0.0, 1.0]], 2)
    assert list(persona.linkage([[3.0, 4.0]], "ward")) == []
