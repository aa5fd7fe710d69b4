"""Multi-touch attribution against an independent implementation written here: the
Markov removal effect as an explicit absorbing-chain solve with numpy (every state's
row of the transition matrix, (I - Q) x = r solved directly, the chain rebuilt without
each channel), and every heuristic model applied journey by journey (not to the
aggregated paths the library works on). Random journey sets (seeded; loops, length-1
journeys, channels only in non-converting journeys occur) for orders 1 ... 3 and every
heuristic model, through the host-journey builder and through a store's events (the
journeys extracted here from the raw events). Equal to 1e-9."""
import random
from collections import defaultdict

import pytest

np = pytest.importorskip("numpy")

import persona  # noqa: E402
from persona import Attribution  # noqa: E402

TOL = 1e-9
HALF_LIFE = 3_600_000


# ------------------------------------------------------------------ reference models
def ref_markov(journeys, channels, order):
    """journeys: (path, conversions, value, nulls). Returns {channel: (conv, value, re,
    re_value)} with ChannelAttribution's removal effect."""
    index = {(): 0}  # state tuple -> row; () is the start
    counts = defaultdict(float)  # (from, to) -> journeys
    conv_at = defaultdict(float)
    null_at = defaultdict(float)
    value_at = defaultdict(float)
    for path, conv, value, nulls in journeys:
        prev = 0
        for i in range(len(path)):
            state = tuple(path[max(0, i + 1 - order):i + 1])
            if state not in index:
                index[state] = len(index)
            counts[(prev, index[state])] += conv + nulls
            prev = index[state]
        conv_at[prev] += conv
        null_at[prev] += nulls
        value_at[prev] += value
    n = len(index)
    Q = np.zeros((n, n))
    r = np.zeros(n)
    v = np.zeros(n)
    out_total = np.zeros(n)
    for (a, b), w in counts.items():
        out_total[a] += w
    for s in range(n):
        out_total[s] += conv_at[s] + null_at[s]
    for (a, b), w in counts.items():
        Q[a, b] = w / out_total[a]
    for s in range(n):
        if out_total[s]:
            r[s] = conv_at[s] / out_total[s]
            v[s] = value_at[s] / out_total[s]
    states = sorted(index, key=index.get)

    def solve(removed):
        keep = [i for i, st in enumerate(states) if not (set(st) & removed)]
        sub = Q[np.ix_(keep, keep)]
        A = np.eye(len(keep)) - sub
        x = np.linalg.solve(A, r[keep])
        y = np.linalg.solve(A, v[keep])
        return x[0], y[0]  # the start is never removed and is keep[0]

    P, E = solve(set())
    re = {c: (1 - solve({c})[0] / P) if P > 0 else 0.0 for c in channels}
    rev = {c: (1 - solve({c})[1] / E) if E != 0 else 0.0 for c in channels}
    total = sum(j[1] for j in journeys)
    total_value = sum(j[2] for j in journeys)
    s, sv = sum(re.values()), sum(rev.values())
    return {c: (total * re[c] / s if s > 0 else 0.0,
                total_value * rev[c] / sv if sv != 0 else 0.0, re[c], rev[c]) for c in channels}


def ref_heuristic(journeys, channels, model, weights=(0.4, 0.2, 0.4), ages=None,
                  half_life=HALF_LIFE):
    """journeys: (path, conversions, value, nulls), one per journey (not aggregated)."""
    conv = {c: 0.0 for c in channels}
    val = {c: 0.0 for c in channels}
    for j, (path, c, value, _nulls) in enumerate(journeys):
        if not c:
            continue
        n = len(path)
        if model == "first":
            w = [1.0] + [0.0] * (n - 1)
        elif model == "last":
            w = [0.0] * (n - 1) + [1.0]
        elif model == "linear":
            w = [1.0 / n] * n
        elif model == "position":
            f, m, l = weights
            if n == 1:
                w = [1.0]
            elif n == 2:
                w = [f + m / 2, l + m / 2]
            else:
                w = [f] + [m / (n - 2)] * (n - 2) + [l]
        else:  # decay
            raw = [2.0 ** (-a / half_life) for a in ages[j]]
            w = [x / sum(raw) for x in raw]
        for ch, wi in zip(path, w):
            conv[ch] += c * wi
            val[ch] += value * wi
    return {c: (conv[c], val[c]) for c in channels}


# ------------------------------------------------------------------ random sets
def random_journeys(rng, n_channels, n):
    """(path, conversions, value, nulls) one journey each, and each touchpoint's age."""
    names = [f"ch{i:02d}" for i in range(n_channels)]
    journeys, ages = [], []
    for _ in range(n):
        length = rng.choice([1, 1, 2, 2, 3, 4, 6])
        # a skewed pick, so loops (repeats) are common and the last channel rare
        path = [names[min(int(rng.expovariate(0.5)), n_channels - 1)] for _ in range(length)]
        if rng.random() < 0.4:
            journeys.append((path, 1, round(rng.uniform(1, 100), 2), 0))
        else:
            journeys.append((path, 0, 0.0, 1))
        age, row = 0, []
        for _ in range(length):
            row.append(age)
            age += rng.randrange(0, 4 * HALF_LIFE)
        ages.append(row[::-1])
    return journeys, ages


def check_close(got, want):
    rows = {r["channel"]: r for r in _rows(got)}
    assert set(rows) == {c for c, w in want.items()}
    for c, w in want.items():
        assert rows[c]["conversions"] == pytest.approx(w[0], abs=TOL, rel=TOL)
        assert rows[c]["value"] == pytest.approx(w[1], abs=TOL, rel=TOL)
        if len(w) > 2:
            assert rows[c]["removal_effect"] == pytest.approx(w[2], abs=TOL, rel=TOL)
            assert rows[c]["removal_effect_value"] == pytest.approx(w[3], abs=TOL, rel=TOL)


def _rows(table):
    if hasattr(table, "to_dict"):
        return table.to_dict("records")
    return table


def used_channels(journeys):
    return sorted({c for p, *_ in journeys for c in p})


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_host_journeys(seed):
    rng = random.Random(seed)
    journeys, ages = random_journeys(rng, rng.choice([3, 5, 8]), 150)
    print("seed", seed)
    channels = used_channels(journeys)
    with Attribution.from_journeys([j[0] for j in journeys], [j[1] for j in journeys],
                                   [j[2] for j in journeys], [j[3] for j in journeys],
                                   ages=ages, half_life=HALF_LIFE) as a:
        for order in (1, 2, 3):
            check_close(a.compute("markov", order), ref_markov(journeys, channels, order))
        for model in ("first", "last", "linear", "position", "decay"):
            check_close(a.compute(model), ref_heuristic(journeys, channels, model, ages=ages))
        w = (0.25, 0.35, 0.4)
        check_close(a.compute("position", weights=w),
                    ref_heuristic(journeys, channels, "position", weights=w))


def count_states(journeys, order):
    return len({tuple(p[max(0, i + 1 - order):i + 1]) for p, *_ in journeys
                for i in range(len(p))})


@pytest.mark.parametrize("order,want_many", [(1, False), (3, True)])
def test_both_solvers(order, want_many):
    """Up to 256 states the library solves directly, above by Gauss-Seidel sweeps: one set
    for each (the state counts are checked, so the test keeps covering both)."""
    rng = random.Random(9)
    names = [f"k{i:02d}" for i in range(10)]
    journeys = []
    for _ in range(200):
        path = [rng.choice(names) for _ in range(rng.choice([1, 2, 3, 4, 5]))]
        conv = 1 if rng.random() < 0.3 else 0
        journeys.append((path, conv, round(rng.uniform(1, 9), 2) if conv else 0.0, 1 - conv))
    assert (count_states(journeys, order) > 256) == want_many
    channels = used_channels(journeys)
    with Attribution.from_journeys([j[0] for j in journeys], [j[1] for j in journeys],
                                   [j[2] for j in journeys], [j[3] for j in journeys]) as a:
        check_close(a.compute("markov", order), ref_markov(journeys, channels, order))


def extract(events, conversion):
    """The journeys of raw events, independently of the library: per user in time order,
    touchpoints = events with a campaign that are not conversions."""
    by_user = defaultdict(list)
    for e in events:
        by_user[e["user"]].append(e)
    journeys, ages = [], []
    for user in sorted(by_user):
        cur = []
        for e in sorted(by_user[user], key=lambda e: e["time"]):
            if e["type"] == conversion:
                if cur:
                    journeys.append(([c for c, _ in cur], 1, e.get("value", 0.0), 0))
                    ages.append([e["time"] - t for _, t in cur])
                cur = []
            elif "campaign" in e.get("props", {}):
                cur.append((e["props"]["campaign"], e["time"]))
        if cur:
            journeys.append(([c for c, _ in cur], 0, 0.0, 1))
            ages.append([0] * len(cur))
    return journeys, ages


@pytest.mark.parametrize("seed", [5, 6])
def test_random_store(seed):
    rng = random.Random(seed)
    events = []
    for i in range(600):
        user = f"u{rng.randrange(60)}"
        t = rng.randrange(0, 50 * HALF_LIFE)  # distinct times: the order is the time order
        t = t * 1000 + i
        if rng.random() < 0.15:
            events.append({"user": user, "time": t, "type": "purchase",
                           "value": round(rng.uniform(1, 50), 2)})
        elif rng.random() < 0.1:
            events.append({"user": user, "time": t, "type": "view"})
        else:
            ch = f"c{min(int(rng.expovariate(0.6)), 6)}"
            events.append({"user": user, "time": t, "type": "visit", "props": {"campaign": ch}})
    journeys, ages = extract(events, "purchase")
    channels = used_channels(journeys)
    store = persona.Store(seed=1)
    store.ingest(events)
    for order in (1, 2, 3):
        check_close(store.attribution("campaign", "purchase", "markov", order),
                    ref_markov(journeys, channels, order))
    for model in ("first", "last", "linear", "position", "decay"):
        # times are in 1000ths of HALF_LIFE steps: ages stay within ~50 half-lives
        check_close(store.attribution("campaign", "purchase", model, half_life=1000 * HALF_LIFE),
                    ref_heuristic(journeys, channels, model, ages=ages,
                                  half_life=1000 * HALF_LIFE))
    store.close()
