"""persona.MultiViewKMeans: one view is KMeans; fixed weights are KMeans of scaled columns;
learned weights favour the view that separates the clusters and are the closed form of the
reported sums; views by DataFrame column names or per-column labels; errors. (The C tests
check the algorithm against a reference written from its definition.)"""
import random

import pytest

import persona


def blobs(n=300, seed=3):
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        c = i % 3
        rows.append([c * 6 + rnd.random() * 2, -c * 4 + rnd.random() * 2,
                     rnd.random() * 10, rnd.random() * 10])
    return rows


def test_one_view_is_kmeans():
    x = blobs()
    init = [x[0], x[1], x[2]]
    mv = persona.MultiViewKMeans(3, views=["all"] * 4, init=init).fit(x)
    km = persona.KMeans(3, init=init).fit(x)
    assert list(mv.labels_) == list(km.labels_)
    assert mv.inertia_ == pytest.approx(km.inertia_, rel=1e-12)
    assert mv.view_weights_ == {"all": 1.0}
    assert mv.n_rounds_ == 2


def test_fixed_weights_are_scaled_kmeans():
    x = blobs()
    init = [x[0], x[1], x[2]]
    w = {"a": 0.75, "b": 0.25}
    mv = persona.MultiViewKMeans(3, views={"a": [0, 1], "b": [2, 3]}, weights=w, init=init).fit(x)
    scale = [0.75, 0.75, 0.25, 0.25]  # w^(gamma/2), gamma = 2
    xs = [[v * s for v, s in zip(r, scale)] for r in x]
    km = persona.KMeans(3, init=[[v * s for v, s in zip(r, scale)] for r in init]).fit(xs)
    assert list(mv.labels_) == list(km.labels_)
    assert mv.view_weights_ == w
    assert mv.n_rounds_ == 1
    assert list(mv.predict(x)) == list(mv.labels_)


def test_learned_weights_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(blobs(), columns=["visits", "pages", "noise1", "noise2"])
    mv = persona.MultiViewKMeans(3, views={"behaviour": ["visits", "pages"],
                                           "noise": ["noise1", "noise2"]},
                                 random_state=5, n_init=3, gamma=3).fit(df)
    w, d = mv.view_weights_, mv.view_within_
    assert w["behaviour"] > 0.8 and w["noise"] < 0.2
    # converged: the weights are D_v^(1/(1-gamma)), normalised
    raw = {v: d[v] ** (1 / (1 - 3)) for v in d}
    assert w == pytest.approx({v: raw[v] / sum(raw.values()) for v in raw}, rel=1e-12)
    assert mv.inertia_ == pytest.approx(sum(w[v] ** 3 * d[v] for v in w), rel=1e-12)
    assert sorted(mv.sizes_.tolist()) == [100, 100, 100]
    assert mv.personas_[0].endswith("% of points (100)")


def test_errors():
    x = blobs(30)
    with pytest.raises(ValueError, match="in two views"):
        persona.MultiViewKMeans(2, views={"a": [0, 1], "b": [1, 2, 3]}).fit(x)
    with pytest.raises(ValueError, match="in no view"):
        persona.MultiViewKMeans(2, views={"a": [0, 1], "b": [2]}).fit(x)
    with pytest.raises(ValueError, match="no column 'zz'"):
        persona.MultiViewKMeans(2, views={"a": ["zz"]}).fit(x)
    with pytest.raises(ValueError, match="gamma"):
        persona.MultiViewKMeans(2, views=["a"] * 4, gamma=1)
    with pytest.raises(ValueError, match="3 view names for 4 columns"):
        persona.MultiViewKMeans(2, views=["a", "a", "b"]).fit(x)
    with pytest.raises(ValueError, match="1 weights for 2 views"):
        persona.MultiViewKMeans(2, views=["a", "a", "b", "b"], weights=[1]).fit(x)
    with pytest.raises(persona.InvalidArgumentError, match="the weights sum to 0"):
        persona.MultiViewKMeans(2, views=["a", "a", "b", "b"], weights=[0, 0]).fit(x)


def test_save_load(tmp_path):
    x = blobs()
    mv = persona.MultiViewKMeans(3, views=["a", "a", "b", "b"], random_state=2).fit(x)
    path = tmp_path / "mv.snap"
    mv.save(path)
    back = persona.MultiViewKMeans.load(path)
    assert list(back.predict(x)) == list(mv.labels_)
    assert list(back.view_weights_.values()) == list(mv.view_weights_.values())
    assert back.view_names_ == ["view0", "view1"]
    assert back.inertia_ == mv.inertia_ and back.n_rounds_ == mv.n_rounds_
    assert back.labels_ is None
    assert back.personas_ == mv.personas_
