"""persona funnel (shared/docs/CLI.md, docs/funnels.md).

Expected outputs are worked out by hand from the small inputs below (the working is in the
comments); the benchmark's 10M-event file is checked against the DuckDB anchor's result
when it is on this machine and PERSONA_BIG_TESTS=1."""
import json
import os
import re
import shlex
import subprocess

import pytest

from conftest import ROOT, SHARED

HEADER = "step,event,users,conversion_from_prev,conversion_from_first,median_seconds_from_prev\n"

# A shop log, every time in UTC on 2024-03-01 (a Friday) to 03-03. Steps view, addtocart,
# transaction; window 24h unless said otherwise.
#   u1: view A 10:00, addtocart 10:05, view (books) 10:15, transaction 10:30   -> 3 (300 s, 1500 s)
#   u2: view 10:00, addtocart 10:10                                              -> 2 (600 s)
#   u3: view, addtocart at the same time 09:00 (in step order), transaction 09:40 -> 3 (0 s, 2400 s)
#   u4: addtocart and view at the same time 12:00, the addtocart written first,
#       transaction 12:30: at equal times the input order does not matter      -> 3 (0 s, 1800 s)
#   u5: rows out of time order: transaction 11:00, view 10:00, addtocart 10:20   -> 3 (1200 s, 2400 s)
#   u6: view Mar 1 10:00, addtocart Mar 2 11:00 (25 h later), transaction 11:05  -> 1 (24h window)
#   u7: view 10:00, support 10:01, addtocart 10:02, transaction 10:03 (Mar 3)    -> 3 (120 s, 60 s)
#   u8: addtocart only                                                           -> not entered
SHOP = (
    "user_id,timestamp,event,category,item\n"
    "u1,2024-03-01T10:00:00Z,view,shoes,A\n"
    "u1,2024-03-01T10:05:00Z,addtocart,shoes,A\n"
    "u1,2024-03-01T10:15:00Z,view,books,B\n"
    "u1,2024-03-01T10:30:00Z,transaction,shoes,A\n"
    "u2,2024-03-01T10:00:00Z,view,books,B\n"
    "u2,2024-03-01T10:10:00Z,addtocart,books,B\n"
    "u3,2024-03-01T09:00:00Z,view,shoes,A\n"
    "u3,2024-03-01T09:00:00Z,addtocart,shoes,C\n"
    "u3,2024-03-01T09:40:00Z,transaction,shoes,C\n"
    "u4,2024-03-01T12:00:00Z,addtocart,books,D\n"
    "u4,2024-03-01T12:00:00Z,view,books,D\n"
    "u4,2024-03-01T12:30:00Z,transaction,books,D\n"
    "u5,2024-03-02T11:00:00Z,transaction,shoes,E\n"
    "u5,2024-03-02T10:00:00Z,view,shoes,E\n"
    "u5,2024-03-02T10:20:00Z,addtocart,shoes,E\n"
    "u6,2024-03-01T10:00:00Z,view,shoes,A\n"
    "u6,2024-03-02T11:00:00Z,addtocart,shoes,A\n"
    "u6,2024-03-02T11:05:00Z,transaction,shoes,A\n"
    "u7,2024-03-03T10:00:00Z,view,books,B\n"
    "u7,2024-03-03T10:01:00Z,support,,\n"
    "u7,2024-03-03T10:02:00Z,addtocart,books,B\n"
    "u7,2024-03-03T10:03:00Z,transaction,books,B\n"
    "u8,2024-03-03T10:00:00Z,addtocart,shoes,A\n"
)
SHOP_MAP = ["--prop", "category=category", "--item", "item"]
STEPS = ["--steps", "view,addtocart,transaction"]

# Visits for totals and sessions: steps view, addtocart (default 14-day window).
#   a: view 10:00, view 10:10, addtocart 10:20, view 12:00
#   b: view 10:00, addtocart 11:00
VISITS = (
    "user_id,timestamp,event\n"
    "a,2024-03-01T10:00:00Z,view\n"
    "a,2024-03-01T10:10:00Z,view\n"
    "a,2024-03-01T10:20:00Z,addtocart\n"
    "a,2024-03-01T12:00:00Z,view\n"
    "b,2024-03-01T10:00:00Z,view\n"
    "b,2024-03-01T11:00:00Z,addtocart\n"
)


@pytest.fixture
def shop(tmp_path):
    p = tmp_path / "shop.csv"
    p.write_text(SHOP)
    return str(p)


@pytest.fixture
def visits(tmp_path):
    p = tmp_path / "visits.csv"
    p.write_text(VISITS)
    return str(p)


def ok(r):
    assert r.code == 0, r.err
    assert r.err == ""
    return r.out


def table(*rows):
    return HEADER + "".join(r + "\n" for r in rows)


# ---- the step table on the shop log ---------------------------------------------------

LOOSE_24H = table(
    # 7 viewers; u1 u2 u3 u4 u5 u7 add to cart (u4: a tie written cart first; u6: 25 h);
    # u1 u3 u4 u5 u7 buy. Step 2 times 0 0 120 300 600 1200 -> median (120 + 300) / 2;
    # step 3 times 60 1500 1800 2400 2400 -> median 1800.
    "1,view,7,1,1,",
    "2,addtocart,6,0.8571428571428571,0.8571428571428571,210",
    "3,transaction,5,0.8333333333333334,0.7142857142857143,1800")


@pytest.mark.parametrize("args,want", [
    (["--window", "24h"], LOOSE_24H),
    # the contract's default order, spelled out
    (["--window", "24h", "--order", "loose"], LOOSE_24H),
    # 7 days: u6 converts too (90000 s, 300 s). Step 2: 0 0 120 300 600 1200 90000 -> 300;
    # step 3: 60 300 1500 1800 2400 2400 -> 1650
    (["--window", "7d"], table(
        "1,view,7,1,1,",
        "2,addtocart,7,1,1,300",
        "3,transaction,6,0.8571428571428571,0.8571428571428571,1650")),
    # strict: u1's second view comes between addtocart and transaction (stops at 2), u7's
    # support between view and addtocart (stops at 1); u4's view comes after its cart in
    # the input, and strict order follows the input order of events at one time (stops
    # at 1). Step 2: u1 u2 u3 u5 (0 300 600 1200 -> 450); step 3: u3 u5 (2400 2400)
    (["--window", "24h", "--order", "strict"], table(
        "1,view,7,1,1,",
        "2,addtocart,4,0.5714285714285714,0.5714285714285714,450",
        "3,transaction,2,0.5,0.2857142857142857,2400")),
    # any order: u8's addtocart is an entry (step 1 = any step's event: 8 users); u4 has all
    # three within 30 min (0 s, 1800 s); u6 has addtocart + transaction on Mar 2 (300 s).
    # Step 2: 0 0 120 300 300 600 1200 -> 300; step 3 (u1 u3 u4 u5 u7): 60 1500 1800 2400
    # 2400 -> 1800
    (["--window", "24h", "--order", "any"], table(
        "1,view,8,1,1,",
        "2,addtocart,7,0.875,0.875,300",
        "3,transaction,5,0.7142857142857143,0.625,1800")),
    # support breaks u7 between step 1 and the last: step 2 = u1 u2 u3 u4 u5 (0 0 300 600
    # 1200 -> 300), step 3 = u1 u3 u4 u5 (1500 1800 2400 2400 -> 2100)
    (["--window", "24h", "--exclude", "support"], table(
        "1,view,7,1,1,",
        "2,addtocart,5,0.7142857142857143,0.7142857142857143,300",
        "3,transaction,4,0.8,0.5714285714285714,2100")),
    # only between steps 2 and 3: u7's support is between 1 and 2, so nothing changes
    (["--window", "24h", "--exclude", "support:2-3"], LOOSE_24H),
    # a view between addtocart and transaction: u1 stops at 2 (its later view has no cart);
    # u4's view is at the time of its cart, not between. Step 3: u3 u4 u5 u7 (60 1800 2400
    # 2400 -> 2100)
    (["--window", "24h", "--exclude", "view:2-3"], table(
        "1,view,7,1,1,",
        "2,addtocart,6,0.8571428571428571,0.8571428571428571,210",
        "3,transaction,4,0.6666666666666666,0.5714285714285714,2100")),
    # ... only a view of books: u1's is one; of shoes: nobody's is
    (["--window", "24h", "--exclude", "view:2-3", "--exclude-where", "1:category=books"], table(
        "1,view,7,1,1,",
        "2,addtocart,6,0.8571428571428571,0.8571428571428571,210",
        "3,transaction,4,0.6666666666666666,0.5714285714285714,2100")),
    (["--window", "24h", "--exclude", "view:2-3", "--exclude-where", "1:category=shoes"],
     LOOSE_24H),
    # predicates: step 1 only views of shoes (u1 u3 u5 u6); then u1 u3 u5 (300 0 1200)
    (["--window", "24h", "--step-where", "1:category=shoes"], table(
        "1,view,4,1,1,",
        "2,addtocart,3,0.75,0.75,300",
        "3,transaction,3,1,0.75,2400")),
    # ... a cart of anything but books: u1 u3 u5
    (["--window", "24h", "--step-where", "2:category!=books"], table(
        "1,view,7,1,1,",
        "2,addtocart,3,0.42857142857142855,0.42857142857142855,300",
        "3,transaction,3,1,0.42857142857142855,2400")),
    # a property nobody has: = matches nothing, != everything
    (["--window", "24h", "--step-where", "1:nosuch=x"], table(
        "1,view,0,1,,", "2,addtocart,0,,,", "3,transaction,0,,,")),
    (["--window", "24h", "--step-where", "1:nosuch!=x"], LOOSE_24H),
    # hold the item: u3 views A but carts C (stops at 1). Step 2: u1 u2 u4 u5 u7 (0 120 300
    # 600 1200 -> 300); step 3: u1 u4 u5 u7 (60 1500 1800 2400 -> 1650)
    (["--window", "24h", "--hold", "item"], table(
        "1,view,7,1,1,",
        "2,addtocart,5,0.7142857142857143,0.7142857142857143,300",
        "3,transaction,4,0.8,0.5714285714285714,1650")),
    # cart within 10 min of the view (inclusive): u5's 20 min is too late.
    # Step 2: 0 0 120 300 600 -> 120; step 3: u1 u3 u4 u7 (60 1500 1800 2400 -> 1650)
    (["--window", "24h", "--max-gap", "2:10m"], table(
        "1,view,7,1,1,",
        "2,addtocart,5,0.7142857142857143,0.7142857142857143,120",
        "3,transaction,4,0.8,0.5714285714285714,1650")),
    # transaction at least 30 min after the cart: u3 and u5 (40 min), u4 (30 min, inclusive)
    (["--window", "24h", "--min-gap", "3:30m"], table(
        "1,view,7,1,1,",
        "2,addtocart,6,0.8571428571428571,0.8571428571428571,210",
        "3,transaction,3,0.5,0.42857142857142855,2400")),
    # entries from Mar 2: u5 (1200, 2400) and u7 (120, 60)
    (["--window", "24h", "--from", "2024-03-02"], table(
        "1,view,2,1,1,",
        "2,addtocart,2,1,1,660",
        "3,transaction,2,1,1,1230")),
    # [Mar 1 09:30, Mar 1 12:00): u1 u2 u6 (u3 entered at 09:00, u4 at 12:00)
    (["--window", "24h", "--from", "2024-03-01 09:30", "--to", "2024-03-01T12:00:00Z"], table(
        "1,view,3,1,1,",
        "2,addtocart,2,0.6666666666666666,0.6666666666666666,450",
        "3,transaction,1,0.5,0.3333333333333333,1500")),
])
def test_shop(persona, shop, args, want):
    assert ok(persona("funnel", shop, *SHOP_MAP, *STEPS, *args)) == want


def test_default_window_is_14_days(persona, shop):
    assert ok(persona("funnel", shop, *STEPS)) == ok(persona("funnel", shop, *STEPS,
                                                             "--window", "14d"))
    assert ok(persona("funnel", shop, *STEPS)) == ok(persona("funnel", shop, *STEPS,
                                                             "--window", "7d"))


def test_one_step_and_repeated_steps(persona, shop):
    assert ok(persona("funnel", shop, "--steps", "view")) == table("1,view,7,1,1,")
    # view then another view: only u1 has two (10:00, 10:15)
    assert ok(persona("funnel", shop, "--steps", "view,view")) == table(
        "1,view,7,1,1,", "2,view,1,0.14285714285714285,0.14285714285714285,900")
    # a type nobody has is not an error
    assert ok(persona("funnel", shop, "--steps", "view,refund")) == table(
        "1,view,7,1,1,", "2,refund,0,0,0,")


# ---- trend, stages, times -------------------------------------------------------------

def test_trend(persona, shop):
    run = lambda *a: ok(persona("funnel", shop, *STEPS, "--window", "24h", *a))  # noqa: E731
    # entries by day: Mar 1 u1 u2 u3 u4 u6 (u1, u3, u4 convert), Mar 2 u5, Mar 3 u7
    assert run("--trend", "day") == (
        "period,entered,converted,conversion\n"
        "2024-03-01,5,3,0.6\n2024-03-02,1,1,1\n2024-03-03,1,1,1\n")
    # all in ISO week 2024-W09 (Friday to Sunday)
    assert run("--trend", "week") == (
        "period,entered,converted,conversion\n2024-W09,7,5,0.7142857142857143\n")
    # at -11:00 the 09:00 to 10:00 UTC entries fall on Feb 29 (u1 u2 u3 u6), u4 (12:00 UTC)
    # and u5 (Mar 2 10:00 UTC) on Mar 1, u7 on Mar 2
    assert run("--trend", "day", "--utc-offset", "-11:00") == (
        "period,entered,converted,conversion\n"
        "2024-02-29,4,2,0.5\n2024-03-01,2,2,1\n2024-03-02,1,1,1\n")
    # one step: everyone who enters converts; entries from Mar 2: u5, u7
    r = ok(persona("funnel", shop, "--steps", "view", "--trend", "day", "--from", "2024-03-02"))
    assert r == "period,entered,converted,conversion\n2024-03-02,1,1,1\n2024-03-03,1,1,1\n"
    # views of books: u1 (its 10:15 view; transaction 10:30), u2 (none), u4 (12:30), all
    # Mar 1; u7 Mar 3. Mar 2 has no entry: listed, with an empty conversion
    r = ok(persona("funnel", shop, *SHOP_MAP, "--steps", "view,transaction", "--window", "24h",
                   "--step-where", "1:category=books", "--trend", "day"))
    assert r == ("period,entered,converted,conversion\n"
                 "2024-03-01,3,2,0.6666666666666666\n2024-03-02,0,0,\n2024-03-03,1,1,1\n")


def test_stages(persona, shop):
    assert ok(persona("funnel", shop, *STEPS, "--window", "24h", "--stages")) == (
        "user,stage\nu1,3\nu2,2\nu3,3\nu4,3\nu5,3\nu6,1\nu7,3\n")
    # any order: u8 enters (stage 1), u4 reaches 3, u6 2
    assert ok(persona("funnel", shop, *STEPS, "--window", "24h", "--order", "any",
                      "--stages")) == (
        "user,stage\nu1,3\nu2,2\nu3,3\nu4,3\nu5,3\nu6,2\nu7,3\nu8,1\n")


def test_times(persona, shop):
    # step 2: 0 0 120 300 600 1200 (p25 = 0 + 0.25 * 120 = 30, median 210, p75 = 300 +
    # 0.75 * 300 = 525, p90 = 600 + 0.5 * 600 = 900); buckets < 1 min: 0, 0; 1-5 min: 120;
    # 5-15 min: 300, 600; 15 min-1 h: 1200.
    # step 3: 60 1500 1800 2400 2400 (p25 = 1500, p90 = 2400); 60 s is not under 1 min
    assert ok(persona("funnel", shop, *STEPS, "--window", "24h", "--times")) == (
        "step,event,users,min_seconds,p25_seconds,median_seconds,p75_seconds,p90_seconds,"
        "max_seconds,under_1m,1m_5m,5m_15m,15m_1h,1h_6h,6h_1d,1d_7d,7d_plus\n"
        "1,view,7,,,,,,,0,0,0,0,0,0,0,0\n"
        "2,addtocart,6,0,30,210,525,900,1200,2,1,2,1,0,0,0,0\n"
        "3,transaction,5,60,1500,1800,2400,2400,2400,0,1,0,4,0,0,0,0\n")


# ---- totals and sessions --------------------------------------------------------------

@pytest.mark.parametrize("args,want", [
    # users: a (first view 10:00 -> cart 10:20: 1200 s), b (3600 s) -> median 2400
    ([], table("1,view,2,1,1,", "2,addtocart,2,1,1,2400")),
    (["--count", "users"], table("1,view,2,1,1,", "2,addtocart,2,1,1,2400")),
    # totals: entries a 10:00 (1200 s), a 10:10 (600 s), a 12:00 (no cart after), b (3600 s)
    (["--count", "totals"], table("1,view,4,1,1,", "2,addtocart,3,0.75,0.75,1200")),
    # sessions (30 min gap): a [10:00 10:10 10:20] converts, a [12:00] not, b [10:00] not,
    # b [11:00] has no view
    (["--count", "sessions"], table(
        "1,view,3,1,1,", "2,addtocart,1,0.3333333333333333,0.3333333333333333,1200")),
    # a 2 h gap: one session each, as users
    (["--count", "sessions", "--session-gap", "2h"],
     table("1,view,2,1,1,", "2,addtocart,2,1,1,2400")),
])
def test_totals_and_sessions(persona, visits, args, want):
    assert ok(persona("funnel", visits, "--steps", "view,addtocart", *args)) == want


def test_totals_and_sessions_trend_and_stages(persona, visits):
    run = lambda *a: ok(persona("funnel", visits, "--steps", "view,addtocart", *a))  # noqa: E731
    assert run("--count", "totals", "--trend", "day") == (
        "period,entered,converted,conversion\n2024-03-01,4,3,0.75\n")
    # a stage is the furthest over the user's units: b's sessions never convert
    assert run("--count", "sessions", "--stages") == "user,stage\na,2\nb,1\n"
    assert run("--count", "totals", "--stages") == "user,stage\na,2\nb,2\n"
    doc = json.loads(run("--count", "sessions", "--format", "json"))
    assert doc["options"]["session_gap_ms"] == 1800000 and doc["options"]["count"] == "sessions"


# ---- consent, stores, stdin, output ---------------------------------------------------

def test_consent_purpose(persona, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("user_id,timestamp,event,purpose,granted\n"
                 "x,2024-01-02T10:00:00Z,view,,\n"
                 "x,2024-01-02T10:01:00Z,consent,analytics,yes\n"
                 "x,2024-01-02T10:02:00Z,buy,,\n"
                 "y,2024-01-03T10:00:00Z,view,,\n"
                 "y,2024-01-03T10:05:00Z,buy,,\n"
                 "z,2024-02-03T10:00:00Z,view,,\n"
                 "z,2024-02-03T10:01:00Z,consent,analytics,no\n")
    m = ["--prop", "purpose=purpose", "--prop", "granted=granted",
         "--consent-event", "consent=purpose:granted", "--steps", "view,buy"]
    # x: 120 s, y: 300 s -> median 210
    assert ok(persona("funnel", str(f), *m)) == table(
        "1,view,3,1,1,", "2,buy,2,0.6666666666666666,0.6666666666666666,210")
    # only x granted analytics; z said no, y said nothing
    assert ok(persona("funnel", str(f), *m, "--consent", "analytics")) == table(
        "1,view,1,1,1,", "2,buy,1,1,1,120")
    assert ok(persona("funnel", str(f), *m, "--consent", "marketing")) == table(
        "1,view,0,1,,", "2,buy,0,,,")


def test_store_stdin_and_output_file(persona, shop, tmp_path):
    snap = str(tmp_path / "shop.snap")
    assert persona("stats", shop, *SHOP_MAP, "--save", snap).code == 0
    assert ok(persona("funnel", "--store", snap, *STEPS, "--window", "24h")) == LOOSE_24H
    assert ok(persona("funnel", "--store", snap, *STEPS, "--window", "24h", "--hold",
                      "item")) == ok(persona("funnel", shop, *SHOP_MAP, *STEPS, "--window",
                                             "24h", "--hold", "item"))
    assert ok(persona("funnel", "-", *STEPS, "--window=24h", stdin=SHOP)) == LOOSE_24H
    out = tmp_path / "f.csv"
    assert ok(persona("funnel", shop, *STEPS, "--window", "24h", "-o", str(out))) == ""
    assert out.read_text() == LOOSE_24H
    r = persona("funnel", "--store", snap, *STEPS, "--count", "sessions", "--session-gap", "1h")
    assert r.code == 2 and "--session-gap does not apply to --store" in r.err


# ---- JSON ----------------------------------------------------------------------------

def test_json_output_parses(persona, shop):
    r = persona("funnel", shop, *SHOP_MAP, *STEPS, "--window", "24h", "--trend", "day",
                "--step-where", "1:category!=books", "--exclude", "support:1-2",
                "--max-gap", "3:1h", "--format", "json")
    doc = json.loads(ok(r))
    o = doc["options"]
    assert o["window_ms"] == 86400000 and o["order"] == "loose" and o["count"] == "users"
    assert o["trend_period"] == "day" and o["hold_property"] is None
    assert o["steps"][0]["where"] == {"property": "category", "op": "ne", "value": "books"}
    assert o["steps"][2]["max_ms"] == 3600000 and o["steps"][1]["min_ms"] is None
    assert o["exclusions"] == [{"from_step": 1, "to_step": 2,
                                "event": {"event": "support", "where": None}}]
    # views not of books: u1 (shoes at 10:00) u3 u5 u6 -> u1 u3 u5 convert
    assert [s["units"] for s in doc["steps"]] == [4, 3, 3]
    assert doc["steps"][0]["time_from_prev_ms"] is None
    assert doc["steps"][2]["time_from_prev_ms"]["median"] == 2400000
    assert doc["steps"][1]["time_histogram"] == [1, 0, 1, 1, 0, 0, 0, 0]
    assert [(t["period"], t["entered"], t["converted"]) for t in doc["trend"]] == [
        ("2024-03-01", 3, 2), ("2024-03-02", 1, 1)]
    assert doc["users"] == 4


# ---- save, --funnel, merge -------------------------------------------------------------

def test_save_and_merge_partials(persona, shop, tmp_path):
    build = [*SHOP_MAP, *STEPS, "--window", "24h", "--hold", "item"]
    whole = str(tmp_path / "whole.fnl")
    want = ok(persona("funnel", shop, *build))
    # saved with a daily trend (--trend also prints it); printed again, the step table
    trend = ok(persona("funnel", shop, *build, "--trend", "day"))
    assert ok(persona("funnel", shop, *build, "--trend", "day", "--save", whole)) == trend
    assert ok(persona("funnel", "--funnel", whole)) == want
    assert ok(persona("funnel", "--funnel", whole, "--trend", "day")) == trend
    # partial funnels over disjoint users (u1-u4, u5-u8) merge into the funnel of all
    lines = SHOP.splitlines()
    parts = []
    for name, users in (("p1", "1234"), ("p2", "5678")):
        f = tmp_path / f"{name}.csv"
        f.write_text("\n".join([lines[0]] + [l for l in lines[1:] if l[1] in users]) + "\n")
        saved = str(tmp_path / f"{name}.fnl")
        assert persona("funnel", str(f), *build, "--trend", "day", "--save", saved).code == 0
        parts += ["--funnel", saved]
    for extra in ([], ["--stages"], ["--times"], ["--trend", "day"]):
        assert ok(persona("funnel", *parts, *extra)) == ok(persona("funnel", shop, *build,
                                                                    *extra))
    merged = json.loads(ok(persona("funnel", *parts, "--format", "json")))
    assert merged == json.loads(ok(persona("funnel", "--funnel", whole, "--format", "json")))
    # the merge can be saved and printed again
    m = str(tmp_path / "merged.fnl")
    assert ok(persona("funnel", *parts, "--save", m, "-o", str(tmp_path / "x.csv"))) == ""
    assert ok(persona("funnel", "--funnel", m)) == want
    # other options, the same users twice, a missing or foreign file
    other = str(tmp_path / "7d.fnl")
    assert persona("funnel", str(tmp_path / "p2.csv"), *SHOP_MAP, *STEPS, "--window", "7d",
                   "--trend", "day", "--hold", "item", "--save", other).code == 0
    r = persona("funnel", "--funnel", parts[1], "--funnel", other)
    assert r.code == 1 and r.err.startswith("persona: funnel: cannot merge ") and \
        "options differ: window_ms" in r.err
    r = persona("funnel", "--funnel", whole, "--funnel", parts[1])
    assert r.code == 1 and "is in both funnels" in r.err
    r = persona("funnel", "--funnel", str(tmp_path / "missing.fnl"))
    assert r.code == 1 and r.err.startswith("persona: funnel: --funnel ")
    r = persona("funnel", "--funnel", shop)
    assert r.code == 1 and r.err.startswith("persona: funnel: --funnel ")
    # build options do not apply to a saved funnel; its trend period is fixed
    for args, flag in ((STEPS, "--steps"), (["--window", "7d"], "--window"),
                       (["--hold", "item"], "--hold"), ([shop], "FILE"),
                       (["--exclude", "support"], "--exclude"),
                       (["--utc-offset", "+01:00"], "a mapping option")):
        r = persona("funnel", "--funnel", whole, *args)
        assert r.code == 2 and f"{flag} does not apply" in r.err, (args, r.err)
    r = persona("funnel", "--funnel", whole, "--trend", "week")
    assert r.code == 2 and "trend is by day, not week" in r.err


# ---- usage errors --------------------------------------------------------------------

@pytest.mark.parametrize("args,msg", [
    ([], "--steps is required"),
    (["--steps"], "option --steps needs a value"),
    (["--steps", "view,,buy"], "--steps wants EVENT,EVENT,... with no empty step"),
    (["--steps", ",".join(f"e{i}" for i in range(33))], "at most 32 steps"),
    (["--steps", "view", "--window", "5x"], "--window wants a duration such as 90s, 30m, 24h or 7d"),
    (["--steps", "view", "--window", "0s"], "--window wants a duration"),
    (["--steps", "view", "--order", "sideways"], "--order wants loose, strict or any"),
    (["--steps", "view", "--count", "people"], "--count wants users, totals or sessions"),
    (["--steps", "view,buy", "--step-where", "3:category=shoes"], "with STEP 1 ... 2"),
    (["--steps", "view,buy", "--step-where", "x:category=shoes"], "--step-where wants STEP:PROP=VALUE"),
    (["--steps", "view,buy", "--step-where", "1:category"], "non-empty PROP and VALUE"),
    (["--steps", "view,buy", "--step-where", "1:=shoes"], "non-empty PROP and VALUE"),
    (["--steps", "view,buy", "--step-where", "1:category="], "non-empty PROP and VALUE"),
    (["--steps", "view,buy", "--step-where", "1:a=b", "--step-where", "1:c=d"],
     "step 1 has a predicate already"),
    (["--steps", "view,buy", "--min-gap", "1:5m"], "--min-gap wants STEP:DURATION with STEP 2 ... 2"),
    (["--steps", "view,buy", "--max-gap", "2:soon"], "--max-gap wants STEP:DURATION"),
    (["--steps", "view,buy", "--min-gap", "2:5m", "--min-gap", "2:6m"], "step 2 is given twice"),
    (["--steps", "view,buy", "--min-gap", "2:20m", "--max-gap", "2:10m"],
     "step 2: --min-gap is longer than --max-gap"),
    (["--steps", "view", "--exclude", "support"], "--exclude needs a funnel of 2 steps or more"),
    (["--steps", "a,b,c", "--exclude", "support:3-2"], "wants 1 <= FROM < TO <= 3"),
    (["--steps", "a,b,c", "--exclude", "support:0-2"], "wants 1 <= FROM < TO <= 3"),
    (["--steps", "a,b,c", "--exclude", "support:1-4"], "wants 1 <= FROM < TO <= 3"),
    (["--steps", "a,b", "--exclude", ":1-2"], "--exclude wants EVENT or EVENT:FROM-TO"),
    (["--steps", "a,b", "--exclude-where", "1:x=y"], "the number of --exclude options (0)"),
    (["--steps", "a,b", "--exclude", "s", "--exclude-where", "1:x"], "non-empty PROP and VALUE"),
    (["--steps", "a,b", "--hold", ""], "--hold wants a property name"),
    (["--steps", "a,b", "--consent", ""], "--consent wants a purpose"),
    (["--steps", "a,b", "--trend", "fortnight"], "--trend wants hour, day, week, month, quarter or year"),
    (["--steps", "a,b", "--stages", "--times"], "give one"),
    (["--steps", "a,b", "--stages", "--trend", "day"], "give one"),
    (["--steps", "a,b", "--stages", "--format", "json"], "--stages writes CSV only"),
    (["--steps", "a,b", "--times", "--format", "json"], "--times writes CSV only"),
    (["--steps", "a,b", "--format", "text"], "--format wants csv or json"),
    (["--steps", "a,b", "--session-gap", "1h"], "--session-gap applies to --count sessions only"),
    (["--steps", "a,b", "--count", "sessions", "--session-gap", "1"], "--session-gap wants a duration"),
    (["--steps", "a,b", "--from", "2024-13-01"], "--from '2024-13-01'"),
    (["--steps", "a,b", "--from", "2024-03-02", "--to", "2024-03-01"],
     "--from 2024-03-02 is not before --to 2024-03-01"),
    (["--steps", "a,b", "--utc-offset", "+25:00"], "--utc-offset wants ±HH:MM"),
    (["--steps", "a,b", "--bogus"], "unknown option '--bogus'"),
])
def test_usage_errors(persona, shop, args, msg):
    r = persona("funnel", shop, *SHOP_MAP, *args)
    assert r.code == 2, (r.out, r.err)
    assert r.err.startswith("persona: ") and r.err.count("\n") == 1
    assert msg in r.err
    assert r.out == ""


def test_missing_file(persona, tmp_path):
    r = persona("funnel", str(tmp_path / "nope.csv"), *STEPS)
    assert r.code == 1 and r.err.startswith("persona: ") and "nope.csv" in r.err


def test_help(persona):
    r = persona("funnel", "--help")
    assert r.code == 0 and r.out.startswith("usage: persona funnel --steps A,B,C [options] [FILE]")
    for w in ("--steps", "--window", "--order", "--count", "--session-gap", "--step-where",
              "--min-gap", "--max-gap", "--exclude", "--exclude-where", "--hold", "--consent",
              "--from", "--utc-offset", "--trend", "--stages", "--times", "--format", "--save",
              "--funnel", "--store", "--user", "-o FILE",
              # how the DuckDB anchor's definition maps onto the flags
              "t1 <= t2 <= t3 <= t1 + window", "the default --order loose with --window"):
        assert w in r.out, w
    assert r.out.count("  --save ") == 1 and r.out.count("  --utc-offset ") == 1
    assert r.out.count("  --store ") == 1 and r.out.count("  --format ") == 1
    assert "  funnel " in persona("--help").out


# ---- the bundled sample and the benchmark ---------------------------------------------

def test_bundled_sample_runs(persona):
    # every invoice line is a purchase: a second purchase 1 day to 30 days after one
    out = ok(persona("funnel", "--steps", "purchase,purchase", "--window", "30d",
                     "--min-gap", "2:1d", cwd=ROOT)).splitlines()
    assert out[1] == "1,purchase,221,1,1,"
    assert out[2].startswith("2,purchase,99,")


def test_benchmark_10m_matches_duckdb_anchor(persona, tmp_path):
    """With PERSONA_BIG_TESTS=1, when the benchmark's 10M-event file and the DuckDB anchor's
    result for it are on this machine (shared/bench/run_anchors.sh), the anchor's funnel
    (the default loose order with --window 24h) has the same users per step under
    shared/bench/compare.py's funnel rule."""
    bench = os.environ.get("PERSONA_BENCH_DIR", "/tmp/persona-bench")
    events = os.path.join(bench, "events_10m.csv")
    anchor = os.path.join(bench, "out", "funnel", "duckdb_synth_10m_compute.csv")
    compare = os.path.join(SHARED, "bench", "compare.py")
    if os.environ.get("PERSONA_BIG_TESTS") != "1":
        pytest.skip("set PERSONA_BIG_TESTS=1 to run the 10M-event reference test")
    if not all(map(os.path.exists, (events, anchor, compare))):
        pytest.skip("benchmark events_10m.csv / DuckDB funnel anchor result not found")
    out = str(tmp_path / "persona_10m.csv")
    ok(persona("funnel", "--steps", "view,addtocart,transaction", "--window", "24h", events,
               "-o", out))
    p = subprocess.run(["/usr/bin/python3", compare, "funnel", anchor, out],
                       capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["equal"], p.stdout + p.stderr


def test_docs_console_examples_are_real(persona, tmp_path):
    """Every `$ persona ...` block of docs/funnels.md prints what the doc shows; the input
    files the doc shows inline (a `<!-- file: NAME -->` line before a csv block) are
    written to the directory the commands run in."""
    doc = open(os.path.join(ROOT, "docs", "funnels.md")).read()
    files = re.findall(r"<!-- file: (\S+) -->\n```csv\n(.*?)```", doc, re.S)
    assert files
    for name, text in files:
        (tmp_path / name).write_text(text)
    n = 0
    for block in re.findall(r"```console\n(.*?)```", doc, re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            cmd, _, want = part.partition("\n")
            args = shlex.split(cmd)
            assert args[0] == "persona"
            assert ok(persona(*args[1:], cwd=str(tmp_path))) == want, cmd
            n += 1
    assert n >= 8


def test_every_option_list_at_its_limit(persona, shop):
    """32 steps each with a --step-where, 64 --exclude each with an --exclude-where: the
    values are kept without overflowing (this once wrote past the copies array)."""
    args = ["--steps", ",".join(f"s{i}" for i in range(32))]
    for i in range(1, 33):
        args += ["--step-where", f"{i}:category=shoes"]
    for i in range(1, 65):
        args += ["--exclude", f"x{i}", "--exclude-where", f"{i}:category=hats"]
    out = ok(persona("funnel", shop, *SHOP_MAP, *args))
    assert out.count("\n") == 33 and out.startswith(HEADER)
