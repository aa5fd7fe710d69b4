"""persona.KMeans: scikit-learn's names and results (the reference in tests/data, made by
tests/data/make_kmeans_reference.py with scikit-learn 1.2.1), inputs as numpy arrays,
DataFrames or plain rows (numpy hidden), the same bits at any thread count, and errors."""
import csv
import math
import os

import pytest

import persona

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DATA = os.path.join(REPO, "tests", "data")


def rows(name):
    with open(os.path.join(DATA, name), newline="") as f:
        r = csv.reader(f)
        next(r)
        return [[float(v) for v in row] for row in r]


POINTS = rows("kmeans_small_points.csv")
INIT = rows("kmeans_small_init.csv")
WANT_CENTERS = rows("kmeans_small_sklearn_centers.csv")
WANT_LABELS = [int(r[0]) for r in rows("kmeans_small_sklearn_labels.csv")]
WANT_INERTIA, WANT_ITER = rows("kmeans_small_sklearn_summary.csv")[0]


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "elkan", "auto"])
def test_equals_sklearn(algorithm):
    np = pytest.importorskip("numpy")
    km = persona.KMeans(6, init=np.array(INIT), algorithm=algorithm).fit(np.array(POINTS))
    assert km.n_iter_ == WANT_ITER
    assert km.inertia_ == pytest.approx(WANT_INERTIA, rel=1e-12)
    assert km.labels_.tolist() == WANT_LABELS
    assert km.labels_.dtype == np.int32
    assert np.allclose(km.cluster_centers_, WANT_CENTERS, rtol=1e-12, atol=1e-12)
    assert km.centers_ is km.cluster_centers_
    assert km.sizes_.tolist() == [WANT_LABELS.count(c) for c in range(6)]
    assert km.converged_ and km.n_features_in_ == 4
    assert km.predict(np.array(POINTS)).tolist() == WANT_LABELS
    assert km.score(POINTS) == pytest.approx(-WANT_INERTIA, rel=1e-12)
    assert km.fit_predict(np.array(POINTS)).tolist() == WANT_LABELS


def test_dataframe_and_threads():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(POINTS, columns=["a", "b", "c", "d"])
    one = persona.KMeans(6, random_state=3, n_init=3, threads=1).fit(frame)
    two = persona.KMeans(6, random_state=3, n_init=3, threads=2).fit(frame)
    assert one.feature_names_in_ == ["a", "b", "c", "d"]
    assert one.cluster_centers_.tobytes() == two.cluster_centers_.tobytes()
    assert one.labels_.tolist() == two.labels_.tolist() and one.inertia_ == two.inertia_


def test_minibatch_worked_by_hand():
    """kmeans.h's mini-batch on six points, every point each step (batch_size >= n), three
    steps from centres 0 and 1: 0 and 13.2, then 0.75 and 16.125, then 6/7 and 192/11
    (each point moves its centre by 1/(the points it has had))."""
    x = [[0.0], [1.0], [2.0], [20.0], [21.0], [22.0]]
    km = persona.KMeans(2, init=[[0.0], [1.0]], algorithm="minibatch", batch_size=6,
                        max_iter=3, tol=0).fit(x)
    assert [c[0] for c in km.cluster_centers_] == pytest.approx([6 / 7, 192 / 11], rel=1e-14)
    assert list(km.labels_) == [0, 0, 0, 1, 1, 1] and list(km.sizes_) == [3, 3]
    assert km.n_iter_ == 3 and not km.converged_
    assert km.inertia_ == pytest.approx(101 / 49 + 4805 / 121, rel=1e-14)
    big = persona.KMeans(2, init=[[0.0], [1.0]], algorithm="minibatch", batch_size=2**40,
                         max_iter=3, tol=0).fit(x)
    assert list(big.cluster_centers_[0]) == list(km.cluster_centers_[0])


def test_minibatch_seed_and_threads():
    """The same seed gives the same bits at any thread count; labels are the final
    centres' (predict); another batch size gives another result."""
    fits = [persona.KMeans(6, random_state=5, algorithm="minibatch", batch_size=50,
                           threads=t).fit(POINTS) for t in (1, 2)]
    a, b = fits
    assert list(a.labels_) == list(b.labels_) and a.inertia_ == b.inertia_
    assert [list(r) for r in a.cluster_centers_] == [list(r) for r in b.cluster_centers_]
    assert list(a.predict(POINTS)) == list(a.labels_)
    assert a.n_iter_ >= 2 and sum(a.sizes_) == len(POINTS)
    c = persona.KMeans(6, random_state=5, algorithm="minibatch", batch_size=51).fit(POINTS)
    assert c.inertia_ != a.inertia_
    table = persona.choose_k(POINTS, range(2, 4), algorithm="minibatch", batch_size=100)
    assert len(table) == 2


def test_plain_rows_without_numpy(hide_numpy):
    km = persona.KMeans(6, init=INIT).fit(POINTS)
    assert km.labels_ == WANT_LABELS and km.n_iter_ == WANT_ITER
    assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
               for row, want in zip(km.cluster_centers_, WANT_CENTERS) for a, b in zip(row, want))
    assert km.predict(POINTS[:3]) == WANT_LABELS[:3]


def test_errors():
    bad = [row[:] for row in POINTS[:10]]
    bad[4][2] = float("nan")
    with pytest.raises(persona.InvalidArgumentError, match="row 4, column 2 is NaN"):
        persona.KMeans(2).fit(bad)
    with pytest.raises(persona.InvalidArgumentError, match="more than the 10 points"):
        persona.KMeans(11).fit(POINTS[:10])
    with pytest.raises(ValueError):
        persona.KMeans(0)
    with pytest.raises(ValueError):
        persona.KMeans(2, algorithm="elkan-ish")
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        persona.KMeans(2, algorithm="minibatch", batch_size=0)
    with pytest.raises(ValueError):
        persona.KMeans(2, init="random")
    with pytest.raises(ValueError):
        persona.KMeans(2, tol=-1)
    with pytest.raises(ValueError, match="not fitted"):
        persona.KMeans(2).predict(POINTS[:2])
    with pytest.raises(ValueError, match="init must be 2"):
        persona.KMeans(2, init=INIT).fit(POINTS)
    km = persona.KMeans(2, random_state=1).fit(POINTS)
    with pytest.raises(persona.InvalidArgumentError, match="3 dimensions for a model of 4"):
        km.predict([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="every row"):
        persona.KMeans(2).fit([[1.0, 2.0], [3.0]])


def test_scores_equal_sklearn():
    with open(os.path.join(DATA, "kmeans_small_sklearn_scores.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    fit = next(r for r in rows if r["labeling"] == "fit")
    got = persona.cluster_scores(POINTS, WANT_LABELS)
    assert got["k"] == 6 and got["silhouette_points"] == len(POINTS)
    for key in ("silhouette", "davies_bouldin", "calinski_harabasz"):
        assert got[key] == pytest.approx(float(fit[key]), rel=1e-12)
    sampled = persona.cluster_scores(POINTS, WANT_LABELS, sample=500, seed=2)
    assert sampled["silhouette_points"] == 500
    assert sampled == persona.cluster_scores(POINTS, WANT_LABELS, sample=500, seed=2)
    with pytest.raises(ValueError):
        persona.cluster_scores(POINTS, WANT_LABELS[:-1])


def test_choose_k_table():
    pd = pytest.importorskip("pandas")
    table = persona.choose_k(POINTS, range(2, 8), random_state=1, n_init=2)
    assert isinstance(table, pd.DataFrame) and list(table.index) == [2, 3, 4, 5, 6, 7]
    assert table["inertia"].is_monotonic_decreasing
    assert list(table.columns) == ["inertia", "silhouette", "davies_bouldin",
                                   "calinski_harabasz", "silhouette_points"]
    one = persona.KMeans(4, random_state=1, n_init=2).fit(POINTS)
    assert table.loc[4, "inertia"] == one.inertia_
    with pytest.raises(ValueError):
        persona.choose_k(POINTS, [2, 4])


def test_choose_k_without_pandas(hide_numpy):
    rows = persona.choose_k(POINTS, range(2, 4), random_state=1)
    assert [r["k"] for r in rows] == [2, 3] and all(-1 <= r["silhouette"] <= 1 for r in rows)


def test_personas():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame([[0.0, 10.0]] * 8 + [[10.0, 0.0]] * 2, columns=["recency", "monetary"])
    km = persona.KMeans(2, init=[[0.0, 10.0], [10.0, 0.0]]).fit(frame)
    assert km.zscores(1) == [2.0, -2.0]
    assert km.personas_ == ["low recency (0), high monetary (10): 80.0 % of points (8)",
                            "very high recency (10), very low monetary (0): 20.0 % of points (2)"]
    assert km.describe(0, names=["r", "m"]).startswith("low r (0), high m (10)")
    with pytest.raises(persona.InvalidArgumentError):
        km.describe(5)


def test_save_load(tmp_path):
    km = persona.KMeans(6, init=INIT).fit(POINTS)
    path = tmp_path / "km.snap"
    km.save(path)
    back = persona.KMeans.load(str(path))
    assert list(back.predict(POINTS)) == list(km.labels_)
    assert back.inertia_ == km.inertia_ and back.n_iter_ == km.n_iter_
    assert [list(r) for r in back.cluster_centers_] == [list(r) for r in km.cluster_centers_]
    assert back.personas_ == km.personas_ and back.n_clusters == 6
    (tmp_path / "bad.snap").write_bytes(b"not a model")
    with pytest.raises(persona.CorruptError):
        persona.KMeans.load(tmp_path / "bad.snap")
    with pytest.raises(ValueError, match="not fitted"):
        persona.KMeans(2).save(path)
