"""Conversion funnels (persona.Funnel, Store.funnel). Every expected number below is worked
out by hand from the definitions of funnel.h on the small stores of this file."""
import ctypes
import datetime as dt
import gc
import io
import json
import math
import threading
import weakref
from ctypes import byref

import pytest

import persona
from persona import _capi, _structs

UTC = dt.timezone.utc
S = 1_000
M = 60 * S
H = 60 * M
STEPS = ["view", "cart", "purchase"]


def at(day, minutes=0.0, month=3):
    """2024-<month>-<day> 10:00 UTC plus some minutes, in ms."""
    start = dt.datetime(2024, month, day, 10, tzinfo=UTC)
    return int(start.timestamp() * 1000 + minutes * M)


def ev(user, type, time, **fields):
    return {"user": user, "type": type, "time": time, **fields}


# Eight users over March and April 2024 (times in minutes after 10:00 UTC of the day):
#   a  Mar 1   view 0, search 5, cart 10, purchase 30      (search breaks strict order)
#   b  Mar 1   view 0, cart 0                              (a tie, view logged first)
#   c  Mar 2   cart 0, view 0                              (a tie, cart logged first: the
#                                                           same, in either log order)
#   d  Mar 3   purchase 120, cart 60, view 0               (ingested backwards)
#   e  Mar 3   view 0
#   f  Mar 4   cart 0, purchase 15                         (never views)
#   g  Mar 5   view 0, purchase 5, cart 10                 (purchase before the cart)
#   h  Apr 10  view 0, cart 23 h, purchase 25 h            (purchase outside 24 h)
SHOP = [
    ev("a", "view", at(1)), ev("a", "search", at(1, 5)), ev("a", "cart", at(1, 10)),
    ev("a", "purchase", at(1, 30)),
    ev("b", "view", at(1)), ev("b", "cart", at(1)),
    ev("c", "cart", at(2)), ev("c", "view", at(2)),
    ev("d", "purchase", at(3, 120)), ev("d", "cart", at(3, 60)), ev("d", "view", at(3)),
    ev("e", "view", at(3)),
    ev("f", "cart", at(4)), ev("f", "purchase", at(4, 15)),
    ev("g", "view", at(5)), ev("g", "purchase", at(5, 5)), ev("g", "cart", at(5, 10)),
    ev("h", "view", at(10, 0, 4)), ev("h", "cart", at(10, 23 * 60, 4)),
    ev("h", "purchase", at(10, 25 * 60, 4)),
]

# Loose, 24 h. Step 1: a b c d e g h (f never views). Step 2: a (10 min) b (0) c (0: a
# cart at the time of the view counts whatever their log order) d (1 h) g (10 min)
# h (23 h). Step 3: a (20 min) d (1 h).
LOOSE_COUNTS = [7, 6, 2]
LOOSE_STAGES = [("a", 3), ("b", 2), ("c", 2), ("d", 3), ("e", 1), ("g", 2), ("h", 2)]
LOOSE_CSV = ("step,event,users,conversion_from_prev,conversion_from_first,"
             "median_seconds_from_prev\n"
             "1,view,7,1,1,\n"
             "2,cart,6,0.8571428571428571,0.8571428571428571,600\n"
             "3,purchase,2,0.3333333333333333,0.2857142857142857,2400\n")
LOOSE_STAGES_CSV = "user,stage\na,3\nb,2\nc,2\nd,3\ne,1\ng,2\nh,2\n"


@pytest.fixture
def shop():
    with persona.Store() as s:
        s.ingest(SHOP)
        yield s


def make_store(events, **options):
    store = persona.Store(**options)
    store.ingest(events)
    return store


def funnel_state(funnel):
    """Everything readable from a funnel, for equality checks."""
    n = len(funnel)
    return {"steps": funnel.steps, "counts": funnel.counts(),
            "conversions": funnel.conversions(),
            "quantiles": [[funnel.time_quantile(j, q) for q in (0, 0.25, 0.5, 0.9, 1)]
                          for j in range(n)],
            "histograms": [funnel.time_histogram(j) for j in range(n)],
            "trend": funnel.trend(), "users": funnel.users(),
            "exports": [funnel.export(f) for f in ("csv", "json", "stages")]}


# ---------------------------------------------------------------- loose, the default

def test_loose_hand_checked(shop):
    with shop.funnel(STEPS) as funnel:
        assert len(funnel) == 3 and funnel.steps == STEPS
        assert funnel.counts() == LOOSE_COUNTS
        assert [funnel.units(j) for j in range(3)] == LOOSE_COUNTS
        assert funnel.conversion(0) == (1.0, 1.0)
        assert funnel.conversion(1) == pytest.approx((6 / 7, 6 / 7))
        assert funnel.conversion(2) == pytest.approx((2 / 6, 2 / 7))
        assert funnel.conversions()[2] == funnel.conversion(2)
        assert [funnel.median_seconds(j) for j in range(3)] == [None, 600.0, 2400.0]
        assert funnel.users() == LOOSE_STAGES
        assert funnel.user_count == 7
        assert funnel.export() == LOOSE_CSV
        assert funnel.export("stages") == LOOSE_STAGES_CSV


def test_ties_and_ingestion_order_do_not_matter(shop):
    funnel = shop.funnel(STEPS)
    assert funnel.stage_of("b") == 2   # view then cart at the same ms
    assert funnel.stage_of("c") == 2   # cart logged before the view at the same ms: alike
    assert funnel.stage_of("d") == 3   # ingested purchase, cart, view
    assert funnel.stage_of("f") == 0   # never entered
    assert funnel.stage_of("nobody") == 0
    assert funnel.stage_of("g") == 2   # the purchase came before the cart


def test_time_quantiles_and_histogram(shop):
    funnel = shop.funnel(STEPS)
    # view -> cart, ascending: 0, 0, 10 min, 10 min, 1 h, 23 h (numpy's linear method)
    expected = {0: 0.0, 0.25: 0.25 * 600, 0.5: 600.0, 0.75: 600 + 0.75 * 3000,
                0.9: 3600 + 0.5 * (23 * 3600 - 3600), 1: 23 * 3600.0}
    for q, seconds in expected.items():
        assert funnel.time_quantile(1, q) == pytest.approx(seconds), q
    # cart -> purchase: 20 min, 1 h
    assert funnel.time_quantile(2, 0.25) == pytest.approx(1800.0)
    assert funnel.time_quantile(2, 0.9) == pytest.approx(3360.0)
    assert funnel.time_quantile(0, 0.5) is None  # step 1 has no previous step
    assert bucket_constants() == 8
    assert funnel.time_histogram(0) == [0] * 8
    # 0 x2 -> <1m; 10 min x2 -> 5m-15m; 1 h -> 1h-6h (bounds are exclusive); 23 h -> 6h-1d
    assert funnel.time_histogram(1) == [2, 0, 2, 0, 1, 1, 0, 0]
    assert funnel.time_histogram(2) == [0, 0, 0, 1, 1, 0, 0, 0]  # 20 min, 1 h
    labelled = dict(zip(persona.Funnel.HISTOGRAM_LABELS, funnel.time_histogram(1)))
    assert labelled["5m-15m"] == 2 and labelled["1h-6h"] == 1


def bucket_constants():
    labels, bounds = persona.Funnel.HISTOGRAM_LABELS, persona.Funnel.HISTOGRAM_BOUNDS
    assert len(labels) == len(bounds)
    assert bounds == (60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, None)
    return len(labels)


def test_no_unit_at_a_step(shop):
    funnel = shop.funnel(["view", "refund", "purchase"])  # a type the store never saw
    assert funnel.counts() == [7, 0, 0]
    assert funnel.conversion(2) == (None, 0.0)  # nobody at step 2 to convert from
    assert funnel.median_seconds(1) is None and funnel.time_histogram(2) == [0] * 8
    assert funnel.export().splitlines()[3] == "3,purchase,0,,0,"
    empty = shop.funnel(["refund"])
    assert empty.counts() == [0] and empty.conversion(0) == (1.0, None)
    assert (empty.users(), empty.trend(), empty.user_count) == ([], [], 0)


@pytest.mark.parametrize("window", ["2d", "48h", "1d24h", dt.timedelta(days=2), 48 * H])
def test_window(shop, window):
    funnel = shop.funnel(STEPS, window=window)
    assert funnel.counts() == [7, 6, 3]    # h's purchase 25 h after its view now counts
    assert funnel.stage_of("h") == 3
    assert funnel.median_seconds(2) == 3600.0  # 20 min, 1 h, 2 h
    assert funnel.options["window_ms"] == 48 * H


def test_window_none_is_the_library_default(shop):
    funnel = shop.funnel(STEPS, window=None)
    assert funnel.options["window_ms"] == 14 * 24 * H
    assert funnel.counts() == [7, 6, 3]
    assert shop.funnel(STEPS, window="30m").counts() == [7, 4, 1]  # a, b, c, g; a (30 min)


# ---------------------------------------------------------------- orders

def test_strict(shop):
    # a: search between view and cart; g: purchase between view and cart;
    # h: view, cart adjacent, purchase outside the window
    funnel = shop.funnel(STEPS, order="strict")
    assert funnel.counts() == [7, 3, 1]
    assert funnel.users() == [("a", 1), ("b", 2), ("c", 1), ("d", 3), ("e", 1), ("g", 1),
                              ("h", 2)]
    assert [funnel.median_seconds(j) for j in range(3)] == [None, 3600.0, 3600.0]
    assert funnel.options["order"] == "strict"


@pytest.mark.parametrize("order", ["any", "any_order"])
def test_any_order(shop, order):
    # distinct steps within 24 h of the earliest: c (cart, view) and f (cart, purchase)
    # reach 2, g (view, purchase, cart) 3, h 2 from either start
    funnel = shop.funnel(STEPS, order=order)
    assert funnel.counts() == [8, 7, 3]
    assert funnel.users() == [("a", 3), ("b", 2), ("c", 2), ("d", 3), ("e", 1), ("f", 2),
                              ("g", 3), ("h", 2)]
    # second event after the first: a 10 min, b 0, c 0, d 1 h, f 15 min, g 5 min, h 23 h
    assert funnel.median_seconds(1) == 600.0
    assert funnel.time_histogram(1) == [2, 0, 2, 1, 1, 1, 0, 0]
    # third after the second: a 20 min, d 1 h, g 5 min
    assert funnel.median_seconds(2) == 1200.0
    assert funnel.trend()[0][1:] == (7, 3)
    assert funnel.options["order"] == "any_order"


# ---------------------------------------------------------------- exclusions

# x1: the refund (fraud) lies between cart and purchase; x2: the refund (late) between
# view and cart; x3: after the purchase; x4: between the first view and the cart, but a
# second view after it starts a clean path.
REFUNDS = [
    ev("x1", "view", at(1)), ev("x1", "cart", at(1, 5)),
    ev("x1", "refund", at(1, 6), props={"reason": "fraud"}), ev("x1", "purchase", at(1, 10)),
    ev("x2", "view", at(1)), ev("x2", "refund", at(1, 1), props={"reason": "late"}),
    ev("x2", "cart", at(1, 5)), ev("x2", "purchase", at(1, 10)),
    ev("x3", "view", at(1)), ev("x3", "cart", at(1, 5)), ev("x3", "purchase", at(1, 10)),
    ev("x3", "refund", at(1, 20)),
    ev("x4", "view", at(1)), ev("x4", "refund", at(1, 1)), ev("x4", "view", at(1, 2)),
    ev("x4", "cart", at(1, 5)), ev("x4", "purchase", at(1, 10)),
]


@pytest.mark.parametrize("exclude, counts, stages", [
    (None, [4, 4, 4], [3, 3, 3, 3]),
    (["refund"], [4, 3, 2], [2, 1, 3, 3]),
    ([{"event": "refund"}], [4, 3, 2], [2, 1, 3, 3]),
    ([{"event": "refund", "between": (1, 3)}], [4, 3, 2], [2, 1, 3, 3]),
    ([{"event": "refund", "between": (2, 3)}], [4, 4, 3], [2, 3, 3, 3]),
    ([{"event": "refund", "between": [1, 2]}], [4, 3, 3], [3, 1, 3, 3]),
    ([{"event": "refund", "where": ("reason", "==", "fraud")}], [4, 4, 3], [2, 3, 3, 3]),
    ([{"event": "refund", "where": ("reason", "!=", "fraud")}], [4, 3, 3], [3, 1, 3, 3]),
    ([{"event": "refund", "between": (1, 2)}, {"event": "refund", "between": (2, 3)}],
     [4, 3, 2], [2, 1, 3, 3]),
])
def test_exclusions(exclude, counts, stages):
    with make_store(REFUNDS) as store:
        funnel = store.funnel(STEPS, exclude=exclude)
        assert funnel.counts() == counts
        assert [funnel.stage_of(u) for u in ("x1", "x2", "x3", "x4")] == stages


def test_exclusion_moves_the_measured_path():
    with make_store(REFUNDS) as store:
        # without: x4's earliest path starts at its first view (5 min to the cart)
        assert store.funnel(STEPS).time_quantile(1, 0) == 300.0
        # with: x1 5 min, x3 5 min, x4 from its second view, 3 min
        funnel = store.funnel(STEPS, exclude=["refund"])
        assert [funnel.time_quantile(1, q) for q in (0, 0.5, 1)] == [180.0, 300.0, 300.0]
        assert funnel.options["exclusions"] == [
            {"from_step": 1, "to_step": 3, "event": {"event": "refund", "where": None}}]


# ---------------------------------------------------------------- hold property

# h1: viewed A, bought B; h2: viewed A then B, bought B; h3: view without an item;
# h4: the purchase has no item.
HOLD = [
    ev("h1", "view", at(1), item="A"), ev("h1", "cart", at(1, 1), item="B"),
    ev("h1", "purchase", at(1, 2), item="B"),
    ev("h2", "view", at(1), item="A"), ev("h2", "view", at(1, 1), item="B"),
    ev("h2", "cart", at(1, 2), item="B"), ev("h2", "purchase", at(1, 3), item="B"),
    ev("h3", "view", at(1)), ev("h3", "cart", at(1, 1), item="A"),
    ev("h3", "purchase", at(1, 2), item="A"),
    ev("h4", "view", at(1), item="A"), ev("h4", "cart", at(1, 1), item="A"),
    ev("h4", "purchase", at(1, 2)),
]


def test_hold_on_item():
    with make_store(HOLD) as store:
        assert store.funnel(STEPS).counts() == [4, 4, 4]
        funnel = store.funnel(STEPS, hold="item")
        assert funnel.counts() == [3, 2, 1]
        assert funnel.users() == [("h1", 1), ("h2", 3), ("h4", 2)]
        assert funnel.stage_of("h3") == 0
        assert funnel.time_quantile(1, 0) == 60.0  # h2 from its view of B, h4
        assert funnel.options["hold_property"] == "item"
        nobody = store.funnel(STEPS, hold="colour")  # a property the store never saw
        assert (nobody.counts(), nobody.users(), nobody.trend()) == ([0, 0, 0], [], [])


# ---------------------------------------------------------------- predicates

# The cart of w1 is shoes (item sku1), of w2 bags, of w3 without category, w4 has a bags
# cart then a shoes cart.
WHERE = [
    ev("w1", "view", at(1)),
    ev("w1", "cart", at(1, 1), item="sku1", props={"category": "shoes"}),
    ev("w1", "purchase", at(1, 2)),
    ev("w2", "view", at(1)), ev("w2", "cart", at(1, 1), props={"category": "bags"}),
    ev("w2", "purchase", at(1, 2)),
    ev("w3", "view", at(1)), ev("w3", "cart", at(1, 1)), ev("w3", "purchase", at(1, 2)),
    ev("w4", "view", at(1)), ev("w4", "cart", at(1, 1), props={"category": "bags"}),
    ev("w4", "cart", at(1, 2), props={"category": "shoes"}), ev("w4", "purchase", at(1, 3)),
]


@pytest.mark.parametrize("where, counts, stages", [
    (("category", "==", "shoes"), [4, 2, 2], [3, 1, 1, 3]),
    (("category", "eq", "shoes"), [4, 2, 2], [3, 1, 1, 3]),
    (("category", "!=", "shoes"), [4, 3, 3], [1, 3, 3, 3]),   # absent counts as different
    (["category", "NE", "shoes"], [4, 3, 3], [1, 3, 3, 3]),
    (("item", "==", "sku1"), [4, 1, 1], [3, 1, 1, 1]),
    (("item", "!=", "sku1"), [4, 3, 3], [1, 3, 3, 3]),
    (("category", "==", "hats"), [4, 0, 0], [1, 1, 1, 1]),     # a value never seen
    (("category", "!=", "hats"), [4, 4, 4], [3, 3, 3, 3]),
    (("colour", "==", "red"), [4, 0, 0], [1, 1, 1, 1]),        # a property never seen
    (("colour", "!=", "red"), [4, 4, 4], [3, 3, 3, 3]),
])
def test_where(where, counts, stages):
    with make_store(WHERE) as store:
        funnel = store.funnel(["view", {"event": "cart", "where": where}, "purchase"])
        assert funnel.counts() == counts
        assert [funnel.stage_of(u) for u in ("w1", "w2", "w3", "w4")] == stages


def test_where_is_in_the_options():
    with make_store(WHERE) as store:
        funnel = store.funnel(["view", {"event": "cart", "where": ("category", "!=", "x")}])
        assert funnel.options["steps"][1]["where"] == {"property": "category", "op": "ne",
                                                       "value": "x"}
        assert funnel.options["steps"][0]["where"] is None


def test_where_value_numbers_are_compared_as_text():
    with make_store([ev("n", "view", at(1), props={"size": "42"}),
                     ev("n", "cart", at(1, 1))]) as store:
        assert store.funnel([{"event": "view", "where": ("size", "==", 42)},
                             "cart"]).counts() == [1, 1]


# ---------------------------------------------------------------- min / max gap

# g1: cart 30 s after the view; g2: purchase 2 h after the cart; g3: a cart at 30 s and
# one at 5 min, purchase at 30 min; g4: exactly 1 min and exactly 1 h (bounds included).
GAPS = [
    ev("g1", "view", at(1)), ev("g1", "cart", at(1, 0.5)), ev("g1", "purchase", at(1, 10)),
    ev("g2", "view", at(1)), ev("g2", "cart", at(1, 2)), ev("g2", "purchase", at(1, 122)),
    ev("g3", "view", at(1)), ev("g3", "cart", at(1, 0.5)), ev("g3", "cart", at(1, 5)),
    ev("g3", "purchase", at(1, 30)),
    ev("g4", "view", at(1)), ev("g4", "cart", at(1, 1)), ev("g4", "purchase", at(1, 61)),
]


@pytest.mark.parametrize("cart, purchase, counts, stages", [
    ({}, {}, [4, 4, 4], [3, 3, 3, 3]),
    ({"min_gap": "1m"}, {"max_gap": "1h"}, [4, 3, 2], [1, 2, 3, 3]),
    ({"min_gap": dt.timedelta(minutes=1)}, {"max_gap": H}, [4, 3, 2], [1, 2, 3, 3]),
    ({"min_gap": "60s"}, {}, [4, 3, 3], [1, 3, 3, 3]),
    ({}, {"max_gap": "60m"}, [4, 4, 3], [3, 2, 3, 3]),
    ({"max_gap": "10s"}, {}, [4, 0, 0], [1, 1, 1, 1]),
])
def test_min_and_max_gap(cart, purchase, counts, stages):
    with make_store(GAPS) as store:
        funnel = store.funnel(["view", {"event": "cart", **cart},
                               {"event": "purchase", **purchase}])
        assert funnel.counts() == counts
        assert [funnel.stage_of(u) for u in ("g1", "g2", "g3", "g4")] == stages


def test_gap_times_follow_the_paths_that_qualify():
    with make_store(GAPS) as store:
        funnel = store.funnel(["view", {"event": "cart", "min_gap": "1m"},
                               {"event": "purchase", "max_gap": "1h"}])
        # view -> cart: g2 2 min, g3 5 min (its 30 s cart is too early), g4 1 min
        assert [funnel.time_quantile(1, q) for q in (0, 0.5, 1)] == [60.0, 120.0, 300.0]
        # cart -> purchase: g3 25 min, g4 1 h
        assert funnel.median_seconds(2) == 2550.0
        steps = funnel.options["steps"]
        assert (steps[1]["min_ms"], steps[1]["max_ms"]) == (M, None)
        assert (steps[2]["min_ms"], steps[2]["max_ms"]) == (None, H)


def test_gaps_of_the_first_step_are_ignored():
    with make_store(GAPS) as store:
        funnel = store.funnel([{"event": "view", "min_gap": "1h", "max_gap": "2h"}, "cart"])
        assert funnel.counts() == [4, 4]
        assert funnel.options["steps"][0]["min_ms"] is None


# ---------------------------------------------------------------- totals, sessions

# t1: two views, then cart and purchase; t2: view, cart, and a late view.
TOTALS = [
    ev("t1", "view", at(1)), ev("t1", "view", at(1, 10)), ev("t1", "cart", at(1, 20)),
    ev("t1", "purchase", at(1, 30)),
    ev("t2", "view", at(1)), ev("t2", "cart", at(1, 5)), ev("t2", "view", at(1, 60)),
]


def test_totals():
    with make_store(TOTALS) as store:
        assert store.funnel(STEPS).counts() == [2, 2, 1]
        # entries: t1 at 0 and 10 min reach 3; t2 at 0 reaches 2, at 60 min 1
        funnel = store.funnel(STEPS, count="totals")
        assert funnel.counts() == [4, 3, 2]
        assert funnel.users() == [("t1", 3), ("t2", 2)]
        # view -> cart: 20 min, 10 min (t1), 5 min (t2); cart -> purchase: 10 min twice
        assert [funnel.time_quantile(1, q) for q in (0, 0.5, 1)] == [300.0, 600.0, 1200.0]
        assert funnel.median_seconds(2) == 600.0
        assert funnel.trend() == [(dt.datetime(2024, 3, 1, tzinfo=UTC), 4, 2)]
        assert funnel.options["count"] == "totals"


# Sessions under the default 30-minute gap:
#   s1: [view 0, cart 10] [purchase 130]      s2: [view 0, cart 10, purchase 20] [view 80]
#   s3: [view 0] [view 31, cart 61]           (30 min exactly stays in the session)
SESSIONS = [
    ev("s1", "view", at(1)), ev("s1", "cart", at(1, 10)), ev("s1", "purchase", at(1, 130)),
    ev("s2", "view", at(1)), ev("s2", "cart", at(1, 10)), ev("s2", "purchase", at(1, 20)),
    ev("s2", "view", at(1, 80)),
    ev("s3", "view", at(1)), ev("s3", "view", at(1, 31)), ev("s3", "cart", at(1, 61)),
]


def test_sessions():
    with make_store(SESSIONS) as store:
        assert store.funnel(STEPS).counts() == [3, 3, 2]
        funnel = store.funnel(STEPS, count="sessions")
        assert funnel.counts() == [5, 3, 1]
        assert funnel.users() == [("s1", 2), ("s2", 3), ("s3", 2)]
        assert [funnel.time_quantile(1, q) for q in (0, 0.5, 1)] == [600.0, 600.0, 1800.0]
        assert funnel.options["session_gap_ms"] == 30 * M
    with make_store(SESSIONS, session_gap=2 * H) as store:
        # one session each: as counting users
        assert store.funnel(STEPS, count="sessions").counts() == [3, 3, 2]


# ---------------------------------------------------------------- trend

def test_trend_by_month_and_week(shop):
    assert shop.funnel(STEPS).trend() == [(dt.datetime(2024, 3, 1, tzinfo=UTC), 6, 2),
                                          (dt.datetime(2024, 4, 1, tzinfo=UTC), 1, 0)]
    # ISO weeks: W09 (from Mon Feb 26) a b c d e, W10 g, W11 ... W14 empty, W15 h
    weekly = shop.funnel(STEPS, trend_period="week").trend()
    assert [t for t, _, _ in weekly] == [dt.datetime(2024, 2, 26, tzinfo=UTC)
                                         + dt.timedelta(weeks=w) for w in range(7)]
    assert [(e, c) for _, e, c in weekly] == [(5, 2), (1, 0), (0, 0), (0, 0), (0, 0),
                                              (0, 0), (1, 0)]
    assert shop.funnel(STEPS, trend_period="year").trend() == [
        (dt.datetime(2024, 1, 1, tzinfo=UTC), 7, 2)]
    assert shop.funnel(STEPS, trend_period=None).trend() == shop.funnel(STEPS).trend()


@pytest.mark.parametrize("offset", ["-11:00", -660, dt.timedelta(hours=-11)])
def test_trend_with_utc_offset(shop, offset):
    # 10:00 UTC on Mar 1 is 23:00 on Feb 29 at -11:00: a and b enter on that local day
    trend = shop.funnel(STEPS, trend_period="day", utc_offset=offset).trend()
    assert trend[0] == (dt.datetime(2024, 2, 29, 11, tzinfo=UTC), 2, 1)
    assert trend[-1][0] == dt.datetime(2024, 4, 9, 11, tzinfo=UTC)
    assert len(trend) == 41  # Feb 29 ... Apr 9, local


def test_start_end_and_consent(shop):
    # entries from Mar 2 to the end of March: c, d, e, g (c, d, g reach the cart, d buys)
    for start, end in (("2024-03-02", "2024-04-01"),
                       (dt.datetime(2024, 3, 2), dt.datetime(2024, 4, 1, tzinfo=UTC)),
                       (1_709_337_600_000, 1_711_929_600_000)):
        funnel = shop.funnel(STEPS, start=start, end=end)
        assert funnel.counts() == [4, 3, 1]
        assert funnel.options["from_ms"] == 1_709_337_600_000
    shop.set_consent("a", "marketing", True, "2024-01-01")
    shop.set_consent("d", "marketing", True, "2024-01-01")
    shop.set_consent("b", "marketing", False, "2024-01-01")
    assert shop.funnel(STEPS, consent="marketing").users() == [("a", 3), ("d", 3)]
    assert shop.funnel(STEPS, consent="nobody-asked").counts() == [0, 0, 0]


# ---------------------------------------------------------------- lists and pandas

@pytest.mark.parametrize("optional", ["present", "hidden"])
def test_lists_with_and_without_pandas(shop, optional, request):
    if optional == "hidden":
        request.getfixturevalue("hide_numpy")
    funnel = shop.funnel(STEPS)
    assert funnel.rows() == [
        {"step": 1, "event": "view", "users": 7, "conversion_from_prev": 1.0,
         "conversion_from_first": 1.0, "median_seconds_from_prev": None},
        {"step": 2, "event": "cart", "users": 6, "conversion_from_prev": 6 / 7,
         "conversion_from_first": 6 / 7, "median_seconds_from_prev": 600.0},
        {"step": 3, "event": "purchase", "users": 2, "conversion_from_prev": 2 / 6,
         "conversion_from_first": 2 / 7, "median_seconds_from_prev": 2400.0},
    ]
    assert funnel.users() == LOOSE_STAGES
    assert funnel.trend()[1] == (dt.datetime(2024, 4, 1, tzinfo=UTC), 1, 0)
    if optional == "hidden":
        for method, name in ((funnel.to_pandas, "to_pandas"),
                             (funnel.trend_pandas, "trend_pandas"),
                             (funnel.stages_pandas, "stages_pandas")):
            with pytest.raises(ImportError, match=rf"Funnel.{name}\(\) needs pandas"):
                method()


def test_to_pandas(shop):
    pd = pytest.importorskip("pandas")
    frame = shop.funnel(STEPS).to_pandas()
    assert frame.index.name == "step" and list(frame.index) == [1, 2, 3]
    assert list(frame.columns) == ["event", "users", "conversion_from_prev",
                                   "conversion_from_first", "median_seconds_from_prev"]
    assert frame["users"].tolist() == LOOSE_COUNTS and frame["users"].dtype == "int64"
    assert math.isnan(frame.loc[1, "median_seconds_from_prev"])
    assert frame.loc[3, "median_seconds_from_prev"] == 2400.0
    pd.testing.assert_frame_equal(frame, pd.read_csv(io.StringIO(LOOSE_CSV), index_col="step"))


def test_trend_and_stages_pandas(shop):
    pd = pytest.importorskip("pandas")
    funnel = shop.funnel(STEPS, trend_period="week")
    trend = funnel.trend_pandas()
    assert trend.index.name == "period_start" and str(trend.index.tz) == "UTC"
    assert trend.index[0] == pd.Timestamp("2024-02-26", tz="UTC")
    assert trend["entered"].tolist() == [5, 1, 0, 0, 0, 0, 1]
    assert trend["converted"].tolist() == [2, 0, 0, 0, 0, 0, 0]
    assert trend["conversion"].iloc[0] == 0.4 and math.isnan(trend["conversion"].iloc[2])
    stages = funnel.stages_pandas()
    expected = pd.read_csv(io.StringIO(LOOSE_STAGES_CSV), index_col="user",
                           dtype={"user": str})
    pd.testing.assert_frame_equal(stages, expected)
    empty = shop.funnel(["refund"])
    assert empty.trend_pandas().shape == (0, 3) and empty.stages_pandas().shape == (0, 1)


# ---------------------------------------------------------------- export

def test_export_json(shop):
    doc = json.loads(shop.funnel(STEPS).export("json"))
    assert [s["units"] for s in doc["steps"]] == LOOSE_COUNTS
    assert doc["steps"][0]["time_from_prev_ms"] is None
    times = doc["steps"][2]["time_from_prev_ms"]
    assert (times["min"], times["median"], times["max"]) == (20 * M, 40 * M, H)
    assert doc["steps"][1]["time_histogram"] == [2, 0, 2, 0, 1, 1, 0, 0]
    assert [(t["period"], t["entered"], t["converted"]) for t in doc["trend"]] == [
        ("2024-03", 6, 2), ("2024-04", 1, 0)]
    assert doc["users"] == 7
    assert doc["options"]["window_ms"] == 24 * H and doc["options"]["count"] == "users"


def test_export_to_files(shop):
    funnel = shop.funnel(STEPS)
    binary = io.BytesIO()
    assert funnel.export(file=binary) is None
    assert binary.getvalue().decode() == LOOSE_CSV
    text = io.StringIO()
    funnel.export("stages", file=text)
    assert text.getvalue() == LOOSE_STAGES_CSV

    class Broken(io.RawIOBase):
        def write(self, data):
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        funnel.export("json", file=Broken())


def test_event_types_with_commas_are_quoted():
    with make_store([ev("q", "add,cart", at(1))]) as store:
        assert store.funnel(["add,cart"]).export().splitlines()[1] == '1,"add,cart",1,1,1,'


# ---------------------------------------------------------------- save, load, merge

OPTION_SETS = [
    {}, {"order": "strict"}, {"order": "any"}, {"window": "2d"},
    {"trend_period": "week"}, {"count": "totals"}, {"count": "sessions"},
    {"exclude": [{"event": "search", "between": (1, 2)}]},
    {"hold": "item"},
]


@pytest.mark.parametrize("options", OPTION_SETS)
def test_save_load_round_trip(shop, tmp_path, options):
    funnel = shop.funnel(STEPS, **options)
    path = tmp_path / "shop.funnel"
    funnel.save(path)
    with persona.Funnel.load(path) as loaded:
        assert funnel_state(loaded) == funnel_state(funnel)
    funnel.save(str(path))  # str or PathLike
    assert persona.Funnel.load(str(path)).export("json") == funnel.export("json")


def test_load_errors(shop, tmp_path):
    with pytest.raises(persona.PersonaIOError) as err:
        persona.Funnel.load(tmp_path / "missing")
    assert str(tmp_path / "missing") in err.value.message
    (tmp_path / "junk").write_bytes(b"not a snapshot" * 4)
    with pytest.raises(persona.CorruptError):
        persona.Funnel.load(tmp_path / "junk")
    shop.save(tmp_path / "store")
    with pytest.raises(persona.CorruptError):
        persona.Funnel.load(tmp_path / "store")


@pytest.mark.parametrize("options", OPTION_SETS)
def test_merge_of_disjoint_users_equals_whole(shop, options):
    first = {"a", "c", "e", "g"}
    with make_store([e for e in SHOP if e["user"] in first]) as part1, \
            make_store([e for e in SHOP if e["user"] not in first]) as part2:
        merged = part1.funnel(STEPS, **options)
        merged.merge(part2.funnel(STEPS, **options))
    whole = shop.funnel(STEPS, **options)
    for fmt in ("csv", "json", "stages"):
        assert merged.export(fmt) == whole.export(fmt), fmt
    assert funnel_state(merged) == funnel_state(whole)


def test_merge_with_an_empty_funnel(shop):
    with persona.Store() as empty:
        merged = empty.funnel(STEPS)
    merged.merge(shop.funnel(STEPS))
    assert merged.export("json") == shop.funnel(STEPS).export("json")


def test_merge_refusals_leave_the_funnel_unchanged(shop):
    funnel = shop.funnel(STEPS)
    with pytest.raises(persona.InvalidArgumentError, match="options differ: window_ms") as err:
        funnel.merge(shop.funnel(STEPS, window="2d"))
    assert err.value.function == "persona_funnel_merge"
    with pytest.raises(persona.InvalidArgumentError, match="options differ: step 2 event_type"):
        funnel.merge(shop.funnel(["view", "search", "purchase"]))
    with pytest.raises(persona.InvalidArgumentError, match="same funnel"):
        funnel.merge(funnel)
    with pytest.raises(persona.InvalidArgumentError, match="user 'a' is in both funnels"):
        funnel.merge(shop.funnel(STEPS))
    with make_store(SESSIONS) as one, make_store(SESSIONS, session_gap=H) as other:
        sessions = one.funnel(STEPS, count="sessions")
        with pytest.raises(persona.InvalidArgumentError, match="session gap"):
            sessions.merge(other.funnel(STEPS, count="sessions"))
    with pytest.raises(TypeError):
        funnel.merge(shop)
    assert funnel.export() == LOOSE_CSV


# ---------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("kwargs, message", [
    ({"order": "random"}, "unknown order 'random'"),
    ({"order": 1}, "unknown order 1"),
    ({"count": "events"}, "unknown count 'events'"),
    ({"trend_period": "fortnight"}, "unknown trend_period 'fortnight'"),
    ({"trend_period": "rolling"}, "unknown trend_period 'rolling'"),
    ({"window": "a day"}, "window 'a day' is not a duration"),
    ({"window": "1.5ms"}, "not a whole number of milliseconds"),
    ({"utc_offset": "5:30"}, "not an offset like"),
    ({"steps": ["view", {"event": "cart", "were": ("a", "==", "b")}]},
     r"step 2: unknown key\(s\) 'were'"),
    ({"steps": [{"where": ("a", "==", "b")}]}, "step 1: the dict needs an 'event' key"),
    ({"steps": ["view", {"event": "cart", "where": ("category", ">", "x")}]},
     "step 2: unknown where operator '>'"),
    ({"steps": ["view", {"event": "cart", "where": ("category", "shoes")}]},
     r"step 2: 'where' must be a \(property, op, value\) triple"),
    ({"steps": ["view", {"event": "cart", "where": ("category", "==", None)}]},
     "step 2: the where value must be"),
    ({"steps": ["view", {"event": "cart", "min_gap": "soon"}]},
     "step 2: min_gap 'soon' is not a duration"),
    ({"steps": ["view", {"event": "cart", "max_gap": "1x"}]}, "step 2: max_gap '1x'"),
    ({"exclude": [{"event": "refund", "between": (0, 2)}]},
     "exclusion 1: step number 0 is out of range"),
    ({"exclude": [{"event": "refund", "between": 2}]}, "exclusion 1: 'between' must be a pair"),
    ({"exclude": [{"event": "refund", "min_gap": "1m"}]},
     r"exclusion 1: unknown key\(s\) 'min_gap'"),
    ({"steps": ["vi\0ew"]}, "NUL"),
])
def test_unknown_values_raise_value_error_before_c(shop, kwargs, message):
    kwargs = {"steps": STEPS, **kwargs}
    with pytest.raises(ValueError, match=message) as err:
        shop.funnel(**kwargs)
    assert not isinstance(err.value, persona.PersonaError)


def test_wrong_types_raise_type_error(shop):
    for kwargs in ({"steps": "view"}, {"steps": {"event": "view"}}, {"steps": 3},
                   {"steps": ["view", 42]}, {"steps": ["view", {"event": 7}]},
                   {"steps": STEPS, "window": [1]}, {"steps": STEPS, "hold": 1},
                   {"steps": STEPS, "start": 1.5},
                   {"steps": STEPS, "exclude": [{"event": "x", "between": (1, "2")}]},
                   {"steps": STEPS, "exclude": "refund"}, {"steps": STEPS, "unknown": 1}):
        with pytest.raises(TypeError):
            shop.funnel(**kwargs)
    funnel = shop.funnel(STEPS)
    for call in (lambda: funnel.units("0"), lambda: funnel.conversion(1.0),
                 lambda: funnel.time_quantile(1, "half"), lambda: funnel.time_histogram(None)):
        with pytest.raises(TypeError):
            call()


@pytest.mark.parametrize("kwargs, message", [
    ({"steps": []}, "no steps: a funnel needs 1 … 32"),
    ({"steps": ["view"] * 33}, "33 steps: at most 32"),
    ({"steps": ["view", ""]}, "step 2: event_type is empty"),
    ({"steps": ["view", {"event": "cart", "where": ("category", "==", "")}]},
     "step 2: where_value is empty"),
    ({"steps": ["view", {"event": "cart", "where": ("", "==", "x")}]},
     "step 2: where_property is empty"),
    ({"steps": ["view", {"event": "cart", "min_gap": "2h", "max_gap": "1h"}]},
     "step 2: min_ms 7200000 is greater than max_ms 3600000"),
    ({"steps": ["view", {"event": "cart", "min_gap": -1}]}, "step 2: min_ms is negative"),
    ({"window": -1}, "window_ms is negative"),
    ({"window": dt.timedelta(hours=-1)}, "window_ms is negative"),
    ({"exclude": [{"event": "refund", "between": (3, 2)}]},
     "exclusion 1: from_step 3 is not before to_step 2"),
    ({"exclude": [{"event": "refund", "between": (1, 5)}]},
     "exclusion 1: to_step 5 is beyond the 3 steps"),
    ({"steps": ["view"], "exclude": ["refund"]}, "a funnel of 1 step has no gap"),
    ({"exclude": [""]}, "exclusion 1: event_type is empty"),
    ({"utc_offset": 3000}, "utc_offset_minutes 3000 is outside -1440 … 1440"),
    ({"start": "2024-04-01", "end": "2024-03-01"}, "from_ms 1711929600000 is not before"),
    ({"hold": ""}, "hold_property is empty"),
    ({"consent": ""}, "consent_purpose is empty"),
])
def test_library_errors_carry_its_message(shop, kwargs, message):
    kwargs = {"steps": STEPS, **kwargs}
    with pytest.raises(persona.InvalidArgumentError, match=message) as err:
        shop.funnel(**kwargs)
    assert isinstance(err.value, ValueError)
    assert err.value.code == _capi.EINVAL
    assert err.value.function == "persona_funnel_build"


def test_accessor_errors(shop):
    funnel = shop.funnel(STEPS)
    with pytest.raises(persona.InvalidArgumentError,
                       match=r"step 3 is out of range \(the funnel has 3\)") as err:
        funnel.units(3)
    assert err.value.function == "persona_funnel_units"
    for call in (lambda: funnel.conversion(5), lambda: funnel.time_histogram(3),
                 lambda: funnel.median_seconds(9)):
        with pytest.raises(persona.InvalidArgumentError, match="out of range"):
            call()
    with pytest.raises(persona.InvalidArgumentError, match="q 1.5 is outside 0 … 1"):
        funnel.time_quantile(1, 1.5)
    with pytest.raises(persona.InvalidArgumentError, match="q nan is outside"):
        funnel.time_quantile(1, math.nan)
    with pytest.raises(ValueError, match="step -1 is out of range") as err:
        funnel.units(-1)
    assert not isinstance(err.value, persona.PersonaError)
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        funnel.export("xml")


# ---------------------------------------------------------------- lifecycle of the object

def test_close_is_idempotent_and_use_after_close_raises(shop, tmp_path):
    funnel = shop.funnel(STEPS)
    assert repr(funnel) == "<persona.Funnel view > cart > purchase>"
    funnel.close()
    funnel.close()
    assert funnel.closed and repr(funnel) == "<persona.Funnel closed>"
    for call in (lambda: len(funnel), lambda: funnel.steps, funnel.counts,
                 lambda: funnel.units(0), lambda: funnel.conversion(0), funnel.conversions,
                 lambda: funnel.time_quantile(1, 0.5), lambda: funnel.time_histogram(1),
                 funnel.trend, lambda: funnel.stage_of("a"), funnel.users, funnel.rows,
                 lambda: funnel.user_count, funnel.export, lambda: funnel.options,
                 lambda: funnel.save(tmp_path / "f"), lambda: funnel.merge(shop.funnel(STEPS)),
                 lambda: shop.funnel(STEPS).merge(funnel), funnel.to_pandas):
        with pytest.raises(ValueError, match="closed funnel"):
            call()
    with pytest.raises(ValueError):
        with funnel:
            pass


def test_with_block_closes(shop):
    with shop.funnel(STEPS) as funnel:
        assert funnel.counts() == LOOSE_COUNTS
    assert funnel.closed


def test_funnel_outlives_its_store():
    store = make_store(SHOP)
    funnel = store.funnel(STEPS)
    store.close()
    assert funnel.export() == LOOSE_CSV
    with pytest.raises(ValueError, match="closed store"):
        store.funnel(STEPS)


def test_freed_when_collected(shop):
    funnel = shop.funnel(STEPS)
    finalizer = funnel._finalizer
    assert finalizer.alive
    ref = weakref.ref(funnel)
    del funnel
    gc.collect()
    assert ref() is None and not finalizer.alive


def test_not_constructible_directly():
    with pytest.raises(TypeError, match="come from Store.funnel"):
        persona.Funnel()


def test_concurrent_readers(shop):
    funnel = shop.funnel(STEPS)
    expected = funnel_state(funnel)
    results, errors = [], []

    def read():
        try:
            for _ in range(20):
                results.append(funnel_state(funnel))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 80 and all(r == expected for r in results)


def test_options_structs_are_kept_alive_for_the_call(shop):
    from persona import funnel as funnel_module
    opts, keep = funnel_module.funnel_options(
        ["view", {"event": "cart", "where": ("category", "==", "shoes"), "min_gap": "1m"}],
        exclude=[{"event": "refund", "between": (1, 2), "where": ("reason", "!=", "x")}],
        hold="item", consent="marketing")
    gc.collect()
    assert opts.n_steps == 2 and opts.n_exclusions == 1
    step = opts.steps[1].contents
    assert (step.event_type, step.where_property, step.where_value, step.where_op,
            step.min_ms) == (b"cart", b"category", b"shoes", 0, M)
    exclusion = opts.exclusions[0].contents
    assert (exclusion.from_step, exclusion.to_step) == (1, 2)
    assert (exclusion.event.contents.event_type, exclusion.event.contents.where_op) == (
        b"refund", 1)
    assert (opts.hold_property, opts.consent_purpose) == (b"item", b"marketing")
    assert keep


def test_wrong_handle_type_is_an_argument_error(shop):
    out = ctypes.c_size_t()
    with pytest.raises(ctypes.ArgumentError):
        _capi.lib.persona_funnel_step_count(byref(out), shop._handle)
    with pytest.raises(persona.InvalidArgumentError, match="funnel is NULL"):
        _capi.lib.persona_funnel_step_count(byref(out), None)
    opts = _capi.new_struct(_structs.persona_funnel_options)
    assert opts.struct_size == ctypes.sizeof(opts)
    assert (opts.n_steps, opts.order, opts.count, opts.window_ms) == (0, 0, 0, 0)


def test_huge_gaps_and_windows_before_1970_do_not_overflow():
    """A max_gap or window longer than the whole time range acts like no limit, also for
    events before 1970 (t - max_gap once overflowed and lost the conversion)."""
    huge = 2 ** 63 - 1
    events = [ev("z", "view", -10 * 86_400_000), ev("z", "cart", -10 * 86_400_000 + 100_000)]
    with make_store(events) as store:
        steps = ["view", {"event": "cart", "max_gap": huge, "min_gap": 1}]
        with store.funnel(steps, window=huge) as f:
            assert f.counts() == [1, 1]
        with store.funnel(["view", {"event": "cart", "min_gap": huge}], window=huge) as f:
            assert f.counts() == [1, 0]


def test_many_short_exclusions_save_and_load(shop, tmp_path):
    """Twenty exclusions of one-letter types (41 bytes each in the file) load back."""
    exclude = [chr(ord("a") + i) for i in range(20)]
    path = str(tmp_path / "f.snap")
    with shop.funnel(STEPS, exclude=exclude) as f:
        f.save(path)
        want = f.export("json")
    with persona.Funnel.load(path) as g:
        assert g.export("json") == want


def test_ints_beyond_int64_are_refused_not_wrapped(shop):
    with pytest.raises(ValueError, match="out of range"):
        shop.funnel(STEPS, window=2 ** 64 + 3)
    with pytest.raises(ValueError, match="out of range"):
        shop.funnel(["view", {"event": "cart", "max_gap": 2 ** 64}])
    with pytest.raises(ValueError, match="out of range"):
        shop.funnel(STEPS, start=2 ** 64)
