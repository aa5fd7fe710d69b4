"""persona cohort / lifecycle / stickiness (shared/docs/CLI.md, docs/cohorts.md).

Expected outputs are worked out by hand from the small inputs below (the working is in the
comments); the bundled sample is checked against an independent pandas computation with
the DuckDB anchor's definition (shared/bench/anchors/cohort_duckdb.mjs)."""
import csv
import io
import json
import os
import subprocess

import pytest

from conftest import ROOT

# Monthly data, every time in UTC (so --utc-offset moves only the period boundaries).
#   u1: Jan 5 signup (channel ads), Jan 20 buy 10, Feb 3 buy 5 (channel email), Mar 10 view
#   u2: Jan 31 23:30 view (Feb 1 00:30 at +01:00), Mar 2 buy 20 (channel seo)
#   u3: Feb 10 signup (seo), Feb 11 buy 7.5, Mar 15 buy 2.5
#   u4: Feb 29 view
#   u5: Mar 1 signup (ads)
# Last event: Mar 15, so the Feb cohort has no p2 and the Mar cohort no p1, p2.
MONTHLY = (
    "user_id,timestamp,event,value,channel\n"
    "u1,2024-01-05T12:00:00Z,signup,,ads\n"
    "u1,2024-01-20T12:00:00Z,buy,10,\n"
    "u1,2024-02-03T12:00:00Z,buy,5,email\n"
    "u1,2024-03-10T12:00:00Z,view,,\n"
    "u2,2024-01-31T23:30:00Z,view,,\n"
    "u2,2024-03-02T12:00:00Z,buy,20,seo\n"
    "u3,2024-02-10T12:00:00Z,signup,,seo\n"
    "u3,2024-02-11T12:00:00Z,buy,7.5,\n"
    "u3,2024-03-15T12:00:00Z,buy,2.5,\n"
    "u4,2024-02-29T12:00:00Z,view,,\n"
    "u5,2024-03-01T12:00:00Z,signup,,ads\n"
)
MONTHLY_MAP = ["--value", "value", "--prop", "channel=channel"]

# Daily data, 2024-03-01 (a Friday) to 03-07; one event type.
#   a: days 1, 2, 4, 7 (10:00)    b: days 1, 3 (12:00)    c: days 2, 3, 6 (09:00)
#   d: day 2 (18:00)
# Active sets: 1 {a,b}  2 {a,c,d}  3 {b,c}  4 {a}  5 {}  6 {c}  7 {a}
DAILY = (
    "user_id,timestamp\n"
    "a,2024-03-01T10:00:00Z\n"
    "b,2024-03-01T12:00:00Z\n"
    "a,2024-03-02T10:00:00Z\n"
    "c,2024-03-02T09:00:00Z\n"
    "d,2024-03-02T18:00:00Z\n"
    "b,2024-03-03T12:00:00Z\n"
    "c,2024-03-03T09:00:00Z\n"
    "a,2024-03-04T10:00:00Z\n"
    "c,2024-03-06T09:00:00Z\n"
    "a,2024-03-07T10:00:00Z\n"
)
DAILY_MAP = ["--event-const", "visit"]


@pytest.fixture
def monthly(tmp_path):
    p = tmp_path / "monthly.csv"
    p.write_text(MONTHLY)
    return str(p)


@pytest.fixture
def daily(tmp_path):
    p = tmp_path / "daily.csv"
    p.write_text(DAILY)
    return str(p)


def ok(r):
    assert r.code == 0, r.err
    assert r.err == ""
    return r.out


# ---- cohort on the monthly data ------------------------------------------------------

@pytest.mark.parametrize("args,want", [
    # Jan: u1, u2 (Feb: u1; Mar: u1, u2). Feb: u3, u4 (Mar: u3). Mar: u5.
    ([], "cohort,size,p0,p1,p2\n"
         "2024-01,2,2,1,2\n"
         "2024-02,2,2,1,\n"
         "2024-03,1,1,,\n"),
    # the contract's spelling of the defaults
    (["--period", "month", "--metric", "users", "--retention", "classic",
      "--cohort-by", "first_seen"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,2,1,2\n"
     "2024-02,2,2,1,\n"
     "2024-03,1,1,,\n"),
    # at +01:00 u2's first event (Jan 31 23:30 UTC) is Feb 1 00:30: u2 joins the Feb cohort
    # (active Feb, Mar) and Jan keeps u1 alone
    (["--utc-offset", "+01:00"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,1,1,1,1\n"
     "2024-02,3,3,2,\n"
     "2024-03,1,1,,\n"),
    (["--utc-offset=-00:30"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,2,1,2\n"
     "2024-02,2,2,1,\n"
     "2024-03,1,1,,\n"),
    (["--period", "quarter"], "cohort,size,p0\n2024-Q1,5,5\n"),
    (["--period", "year"], "cohort,size,p0\n2024,5,5\n"),
    # revenue of the cohort's active events per month: Jan 10 | Feb 5 | Mar 20;
    # Feb cohort: 7.5 | 2.5; Mar cohort: 0 (no values)
    (["--metric", "revenue"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,10,5,20\n"
     "2024-02,2,7.5,2.5,\n"
     "2024-03,1,0,,\n"),
    # LTV = cumulative revenue / size: 10/2, 15/2, 35/2; 7.5/2, 10/2; 0
    (["--metric", "ltv"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,5,7.5,17.5\n"
     "2024-02,2,3.75,5,\n"
     "2024-03,1,0,,\n"),
    # events: Jan cohort in Jan: signup, buy, view = 3; Feb: buy; Mar: view, buy
    (["--metric", "events"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,3,1,2\n"
     "2024-02,2,3,1,\n"
     "2024-03,1,1,,\n"),
    (["--rate"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,1,0.5,1\n"
     "2024-02,2,1,0.5,\n"
     "2024-03,1,1,,\n"),
    (["--metric", "rate"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,1,0.5,1\n"
     "2024-02,2,1,0.5,\n"
     "2024-03,1,1,,\n"),
    # only buys make a user active; cohorts still by first event of any type
    # Jan: u1 buys Jan, Feb; u2 buys Mar. Feb: u3 buys Feb, Mar. Mar: u5 never buys.
    (["--active", "buy"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,1,1,1\n"
     "2024-02,2,1,1,\n"
     "2024-03,1,0,,\n"),
    (["--active", "buy,view"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,2,1,2\n"
     "2024-02,2,2,1,\n"
     "2024-03,1,0,,\n"),
    # cohort = month of the first buy: u1 Jan (active Jan, Feb, Mar), u3 Feb (Feb, Mar),
    # u2 Mar (its January view is before its cohort period); u4, u5 never buy: left out
    (["--cohort-by", "first:buy"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,1,1,1,1\n"
     "2024-02,1,1,1,\n"
     "2024-03,1,1,,\n"),
    # events before the cohort event are not counted, even in its own period (u1's Jan 5
    # signup, u3's Feb 10 signup, u2's January view); revenue likewise
    (["--cohort-by", "first:buy", "--metric", "events"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,1,1,1,1\n"
     "2024-02,1,1,1,\n"
     "2024-03,1,1,,\n"),
    (["--cohort-by", "first:buy", "--metric", "revenue"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,1,10,5,0\n"
     "2024-02,1,7.5,2.5,\n"
     "2024-03,1,20,,\n"),
    # first-touch channel: u1 ads (signup), u5 ads; u2 seo (its first event has none, the
    # Mar buy has seo), u3 seo; u4 (none). Periods from each user's first event; every
    # column exists (a user whose first event is the data's first reaches p2).
    # ads: p0 u1 Jan + u5 Mar; p1 u1 Feb; p2 u1 Mar.  seo: p0 u2, u3; p1 u3 Mar; p2 u2 Mar.
    (["--cohort-by", "channel"],
     "cohort,size,p0,p1,p2\n"
     "ads,2,2,1,1\n"
     "seo,2,2,1,1\n"
     "(none),1,1,0,0\n"),
    # cells and sizes under 2 users are empty
    (["--min-users", "2"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,2,,2\n"
     "2024-02,2,2,,\n"
     "2024-03,,,,\n"),
    # p1+ = active in Feb or later
    (["--brackets", "0,1"],
     "cohort,size,p0,p1+\n"
     "2024-01,2,2,2\n"
     "2024-02,2,2,1\n"
     "2024-03,1,1,\n"),
    (["--retention", "unbounded"],
     "cohort,size,p0,p1,p2\n"
     "2024-01,2,2,2,2\n"
     "2024-02,2,2,1,\n"
     "2024-03,1,1,,\n"),
    (["--periods", "2"],
     "cohort,size,p0,p1\n"
     "2024-01,2,2,1\n"
     "2024-02,2,2,1\n"
     "2024-03,1,1,\n"),
    # rows are the cohorts whose first event is in [Feb 1, Mar 1)
    (["--from", "2024-02-01", "--to", "2024-03-01"],
     "cohort,size,p0,p1\n"
     "2024-02,2,2,1\n"),
])
def test_cohort_monthly(persona, monthly, args, want):
    assert ok(persona("cohort", monthly, *MONTHLY_MAP, *args)) == want


def test_cohort_from_is_local_time(persona, monthly):
    # at +01:00 "2024-02-01" is 2024-01-31 23:00 UTC: u2 (Jan 31 23:30 UTC) is in range
    r = persona("cohort", monthly, *MONTHLY_MAP, "--utc-offset", "+01:00",
                "--from", "2024-02-01", "--to", "2024-03-01")
    assert ok(r) == "cohort,size,p0,p1\n2024-02,3,3,2\n"


def test_cohort_zoneless_times_follow_the_offset(persona, tmp_path):
    # times without a zone are read at --utc-offset too, so they stay in the month written
    f = tmp_path / "z.csv"
    f.write_text("user_id,timestamp\nq,2024-01-31 23:30:00\nq,2024-02-01 00:30:00\n")
    for off in ("+00:00", "+01:00", "-01:00"):
        r = persona("cohort", str(f), "--event-const", "v", "--utc-offset", off)
        assert ok(r) == "cohort,size,p0,p1\n2024-01,1,1,1\n", off


# ---- cohort on the daily data --------------------------------------------------------

@pytest.mark.parametrize("args,want", [
    # 03-01: a (p0 p1 p3 p6), b (p0 p2).  03-02: c (p0 p1 p4), d (p0); its p6 is 03-08
    (["--period", "day"],
     "cohort,size,p0,p1,p2,p3,p4,p5,p6\n"
     "2024-03-01,2,2,1,1,1,0,0,1\n"
     "2024-03-02,2,2,1,0,0,1,0,\n"),
    # brackets p0, p1, p2-3, p4+: users active in any period of the bracket
    (["--period", "day", "--brackets", "0,1,2,4"],
     "cohort,size,p0,p1,p2-3,p4+\n"
     "2024-03-01,2,2,1,2,1\n"
     "2024-03-02,2,2,1,0,1\n"),
    (["--period", "day", "--retention", "unbounded"],
     "cohort,size,p0,p1,p2,p3,p4,p5,p6\n"
     "2024-03-01,2,2,2,2,1,1,1,1\n"
     "2024-03-02,2,2,1,1,1,1,0,\n"),
    (["--period", "day", "--periods", "3"],
     "cohort,size,p0,p1,p2\n"
     "2024-03-01,2,2,1,1\n"
     "2024-03-02,2,2,1,0\n"),
    # ISO weeks: 03-01..03-03 are W09, 03-04..03-07 W10; a and c come back
    (["--period", "week"], "cohort,size,p0,p1\n2024-W09,4,4,2\n"),
    # rolling 2-day windows from each user's first event t0, rows by day:
    #   a (t0 03-01 10:00): +0, +1d -> p0; +3d -> p1; +6d -> p3.  b: +0 p0; +2d p1.
    #   c (t0 03-02 09:00): +0, +1d p0; +4d p2.  d: p0.  03-02's p3 starts 03-08.
    (["--period", "rolling", "--window", "2d", "--row-period", "day"],
     "cohort,size,p0,p1,p2,p3\n"
     "2024-03-01,2,2,2,0,1\n"
     "2024-03-02,2,2,0,1,\n"),
    (["--period", "rolling", "--window", "48h"],
     "cohort,size,p0,p1,p2,p3\n"
     "2024-03,4,4,2,1,1\n"),
    # the default window is 24h: a +1d p1, +3d p3, +6d p6; b +2d p2; c +1d p1, +4d p4
    (["--period", "rolling", "--row-period", "month"],
     "cohort,size,p0,p1,p2,p3,p4,p5,p6\n"
     "2024-03,4,4,2,1,1,1,0,1\n"),
])
def test_cohort_daily(persona, daily, args, want):
    assert ok(persona("cohort", daily, *DAILY_MAP, *args)) == want


# ---- lifecycle and stickiness --------------------------------------------------------

def test_lifecycle_daily(persona, daily):
    # new = first active day; returning = active today and yesterday; resurrecting = active
    # today, not yesterday, earlier yes; dormant = active yesterday, not today
    assert ok(persona("lifecycle", daily, *DAILY_MAP, "--period", "day")) == (
        "period,new,returning,resurrecting,dormant\n"
        "2024-03-01,2,0,0,0\n"
        "2024-03-02,2,1,0,1\n"     # new c, d; a returns; b dormant
        "2024-03-03,0,1,1,2\n"     # c returns; b resurrects; a, d dormant
        "2024-03-04,0,0,1,2\n"     # a resurrects; b, c dormant
        "2024-03-05,0,0,0,1\n"     # a dormant
        "2024-03-06,0,0,1,0\n"     # c resurrects
        "2024-03-07,0,0,1,1\n")    # a resurrects; c dormant


def test_lifecycle_week_and_range(persona, daily):
    assert ok(persona("lifecycle", daily, *DAILY_MAP, "--period", "week")) == (
        "period,new,returning,resurrecting,dormant\n"
        "2024-W09,4,0,0,0\n"
        "2024-W10,0,2,0,2\n")
    r = persona("lifecycle", daily, *DAILY_MAP, "--period", "day",
                "--from", "2024-03-03", "--to", "2024-03-06")
    assert ok(r) == ("period,new,returning,resurrecting,dormant\n"
                     "2024-03-03,0,1,1,2\n"
                     "2024-03-04,0,0,1,2\n"
                     "2024-03-05,0,0,0,1\n")


def test_lifecycle_active_types(persona, monthly):
    # only buys: u1 Jan, Feb; u3 Feb, Mar; u2 Mar
    r = persona("lifecycle", monthly, *MONTHLY_MAP, "--active", "buy")
    assert ok(r) == ("period,new,returning,resurrecting,dormant\n"
                     "2024-01,1,0,0,0\n"
                     "2024-02,1,1,0,0\n"
                     "2024-03,1,1,0,1\n")


def test_stickiness(persona, daily):
    # active days: a 4, b 2, c 3, d 1; 7 days in the range
    assert ok(persona("stickiness", daily, *DAILY_MAP, "--period", "day")) == (
        "active_periods,users\n1,1\n2,1\n3,1\n4,1\n5,0\n6,0\n7,0\n")
    # weeks: a, c in both; b, d in W09
    assert ok(persona("stickiness", daily, *DAILY_MAP, "--period", "week")) == (
        "active_periods,users\n1,2\n2,2\n")
    # days 03-03 .. 03-05: b, c (03), a (04), once each
    r = persona("stickiness", daily, *DAILY_MAP, "--period", "day",
                "--from", "2024-03-03", "--to", "2024-03-06")
    assert ok(r) == "active_periods,users\n1,3\n2,0\n3,0\n"
    r = persona("stickiness", daily, *DAILY_MAP, "--period", "day", "--min-users", "2")
    assert ok(r) == "active_periods,users\n" + "".join(f"{k},\n" for k in range(1, 8))


# ---- consent, threads, stdin, stores, saved tables ------------------------------------

def test_consent_purpose(persona, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("user_id,timestamp,event,purpose,granted\n"
                 "x,2024-01-02T10:00:00Z,visit,,\n"
                 "x,2024-01-02T10:01:00Z,consent,analytics,yes\n"
                 "y,2024-01-03T10:00:00Z,visit,,\n"
                 "z,2024-02-03T10:00:00Z,visit,,\n"
                 "z,2024-02-03T10:01:00Z,consent,analytics,no\n"
                 "x,2024-02-04T10:00:00Z,visit,,\n")
    m = ["--prop", "purpose=purpose", "--prop", "granted=granted",
         "--consent-event", "consent=purpose:granted"]
    assert ok(persona("cohort", str(f), *m)) == "cohort,size,p0,p1\n2024-01,2,2,1\n2024-02,1,1,\n"
    # only x granted analytics; z said no, y said nothing
    assert ok(persona("cohort", str(f), *m, "--consent", "analytics")) == (
        "cohort,size,p0,p1\n2024-01,1,1,1\n")
    assert ok(persona("lifecycle", str(f), *m, "--consent", "analytics")) == (
        "period,new,returning,resurrecting,dormant\n2024-01,1,0,0,0\n2024-02,0,1,0,0\n")


def test_threads_stdin_and_output_file(persona, daily, tmp_path):
    want = ok(persona("cohort", daily, *DAILY_MAP, "--period", "day"))
    for n in ("0", "1", "3", "8"):
        assert ok(persona("cohort", daily, *DAILY_MAP, "--period", "day", "--threads", n)) == want
    assert ok(persona("cohort", "-", *DAILY_MAP, "--period", "day", stdin=DAILY)) == want
    out = tmp_path / "t.csv"
    assert ok(persona("cohort", daily, *DAILY_MAP, "--period=day", "-o", str(out))) == ""
    assert out.read_text() == want


def test_store_snapshot(persona, daily, tmp_path):
    snap = str(tmp_path / "d.snap")
    assert persona("stats", daily, *DAILY_MAP, "--save", snap).code == 0
    want = ok(persona("cohort", daily, *DAILY_MAP, "--period", "day"))
    assert ok(persona("cohort", "--store", snap, "--period", "day")) == want
    assert ok(persona("stickiness", "--store", snap, "--period", "day")) == (
        "active_periods,users\n1,1\n2,1\n3,1\n4,1\n5,0\n6,0\n7,0\n")


def test_save_table_and_merge_partials(persona, daily, tmp_path):
    whole = ok(persona("cohort", daily, *DAILY_MAP, "--period", "day"))
    saved = str(tmp_path / "whole.tab")
    assert ok(persona("cohort", daily, *DAILY_MAP, "--period", "day", "--save", saved)) == whole
    assert ok(persona("cohort", "--table", saved)) == whole
    # partial tables over disjoint users merge into the table of all of them
    lines = DAILY.splitlines()
    parts = []
    for users in (("a", "b"), ("c", "d")):
        f = tmp_path / f"part_{users[0]}.csv"
        f.write_text("\n".join([lines[0]] + [l for l in lines[1:] if l[0] in users]) + "\n")
        t = str(tmp_path / f"part_{users[0]}.tab")
        assert persona("cohort", str(f), *DAILY_MAP, "--period", "day", "--save", t).code == 0
        parts += ["--table", t]
    assert ok(persona("cohort", *parts)) == whole
    # lifecycle tables too
    lc = str(tmp_path / "lc.tab")
    want = ok(persona("lifecycle", daily, *DAILY_MAP, "--period", "day", "--save", lc))
    assert ok(persona("lifecycle", "--table", lc)) == want
    # a table of another kind, other options, build options with --table
    r = persona("cohort", "--table", lc)
    assert r.code == 1 and r.err.startswith("persona: ") and "lifecycle table" in r.err
    other = str(tmp_path / "month.tab")
    assert persona("cohort", daily, *DAILY_MAP, "--save", other).code == 0
    r = persona("cohort", "--table", saved, "--table", other)
    assert r.code == 1 and "different options (period)" in r.err
    r = persona("cohort", "--table", saved, "--period", "week")
    assert r.code == 2 and "--period does not apply" in r.err
    r = persona("cohort", "--table", saved, "--metric", "revenue")
    assert r.code == 2 and "revenue" in r.err
    r = persona("cohort", "--table", str(tmp_path / "missing.tab"))
    assert r.code == 1 and r.err.startswith("persona: cohort: --table: ")


# ---- JSON ----------------------------------------------------------------------------

def test_json_output_parses(persona, monthly, daily):
    r = persona("cohort", monthly, *MONTHLY_MAP, "--metric", "revenue", "--format", "json")
    doc = json.loads(ok(r))
    assert doc["columns"] == ["p0", "p1", "p2"]
    assert [row["label"] for row in doc["rows"]] == ["2024-01", "2024-02", "2024-03"]
    assert [row["size"] for row in doc["rows"]] == [2, 2, 1]
    assert doc["rows"][0]["users"] == [2, 1, 2]
    assert doc["rows"][1]["revenue"] == [7.5, 2.5, None]
    assert doc["rows"][0]["ltv"] == [5, 7.5, 17.5]
    r = persona("cohort", monthly, *MONTHLY_MAP, "--min-users", "2", "--format", "json")
    doc = json.loads(ok(r))
    assert doc["rows"][2]["size"] is None and doc["rows"][0]["users"] == [2, None, 2]
    doc = json.loads(ok(persona("lifecycle", daily, *DAILY_MAP, "--period", "day",
                                "--format", "json")))
    assert doc["columns"] == ["new", "returning", "resurrecting", "dormant"]
    assert doc["rows"][2]["users"] == [0, 1, 1, 2]
    doc = json.loads(ok(persona("stickiness", daily, *DAILY_MAP, "--period", "week",
                                "--format", "json")))
    assert [row["users"] for row in doc["rows"]] == [[2], [2]]


# ---- usage errors --------------------------------------------------------------------

@pytest.mark.parametrize("cmd,args,msg", [
    ("cohort", ["--period", "fortnight"], "--period wants hour, day, week, month, quarter, year or rolling"),
    ("cohort", ["--period"], "option --period needs a value"),
    ("cohort", ["--window", "24h"], "--window applies to --period rolling only"),
    ("cohort", ["--row-period", "day"], "--row-period applies to --period rolling only"),
    ("cohort", ["--period", "rolling", "--window", "5x"], "--window wants a duration such as 90s, 30m, 24h or 7d"),
    ("cohort", ["--period", "rolling", "--window", "0s"], "--window wants a duration"),
    ("cohort", ["--period", "rolling", "--row-period", "rolling"], "--row-period wants hour"),
    ("cohort", ["--metric", "profit"], "--metric wants users, events, revenue, rate or ltv"),
    ("cohort", ["--rate", "--metric", "events"], "--rate means --metric rate"),
    ("cohort", ["--retention", "sticky"], "--retention wants classic or unbounded"),
    ("cohort", ["--cohort-by", "first:"], "first:EVENT"),
    ("cohort", ["--brackets", "0,2,1"], "brackets out of order"),
    ("cohort", ["--brackets", "1,2"], "brackets must start at period 0"),
    ("cohort", ["--brackets", "0,x"], "--brackets wants period numbers such as 0,1,2,4"),
    ("cohort", ["--brackets", "0,4", "--periods", "3"], "the last bracket starts at period 4"),
    ("cohort", ["--periods", "-1"], "--periods wants a number"),
    ("cohort", ["--min-users", "few"], "--min-users wants a number"),
    ("cohort", ["--threads", "x"], "--threads wants a number"),
    ("cohort", ["--from", "2024-13-01"], "--from '2024-13-01'"),
    ("cohort", ["--from", "2024-03-01", "--to", "2024-02-01"], "to_ms is not after from_ms"),
    ("cohort", ["--utc-offset", "+25:00"], "--utc-offset wants ±HH:MM"),
    ("cohort", ["--utc-offset", "+24:30"], "time offset 1470 minutes out of range"),
    ("cohort", ["--active", "buy,,view"], "--active wants EVENT[,EVENT...]"),
    ("cohort", ["--format", "text"], "--format wants csv or json"),
    ("cohort", ["--bogus"], "unknown option '--bogus'"),
    ("lifecycle", ["--period", "rolling"], "rolling windows apply to retention tables only"),
    ("lifecycle", ["--metric", "revenue"], "--metric applies to 'persona cohort' only"),
    ("lifecycle", ["--rate"], "--rate applies to 'persona cohort' only"),
    ("lifecycle", ["--brackets", "0,1"], "--brackets applies to 'persona cohort' only"),
    ("stickiness", ["--cohort-by", "channel"], "--cohort-by applies to 'persona cohort' only"),
    ("stickiness", ["--retention", "unbounded"], "--retention applies to 'persona cohort' only"),
    ("stickiness", ["--period", "weekly"], "--period wants"),
])
def test_usage_errors(persona, monthly, cmd, args, msg):
    r = persona(cmd, monthly, *MONTHLY_MAP, *args)
    assert r.code == 2, (r.out, r.err)
    assert r.err.startswith("persona: ") and r.err.count("\n") == 1
    assert msg in r.err
    assert r.out == ""


def test_missing_property_and_file(persona, monthly, tmp_path):
    # an unknown property or event type is not an error: it matches nothing
    # (none): p1 = u1 Feb, u3 Mar; p2 = u1 Mar, u2 Mar
    r = persona("cohort", monthly, *MONTHLY_MAP, "--cohort-by", "nosuchprop")
    assert ok(r) == "cohort,size,p0,p1,p2\n(none),5,5,2,2\n"
    r = persona("cohort", monthly, *MONTHLY_MAP, "--cohort-by", "first:nosuchevent")
    assert ok(r) == "cohort,size\n"
    r = persona("cohort", str(tmp_path / "nope.csv"))
    assert r.code == 1 and r.err.startswith("persona: ") and "nope.csv" in r.err


def test_help(persona):
    for cmd, synopsis, words in (
            ("cohort", "usage: persona cohort [options] [FILE]",
             ["--period", "--metric", "--retention", "--active", "--cohort-by", "--rate",
              "--min-users", "--utc-offset", "--window", "--row-period", "--brackets",
              "--periods", "--consent", "--from", "--save", "--table", "--threads",
              "--store", "--format", "--user", "-o FILE"]),
            ("lifecycle", "usage: persona lifecycle [options] [FILE]",
             ["--period", "--active", "new", "returning", "resurrecting", "dormant"]),
            ("stickiness", "usage: persona stickiness [options] [FILE]",
             ["--period", "--active", "active_periods,users"])):
        r = persona(cmd, "--help")
        assert r.code == 0 and r.out.startswith(synopsis)
        for w in words:
            assert w in r.out, (cmd, w)
        # the commands' --save and --utc-offset replace the shared lines, once each
        assert r.out.count("  --save ") == 1 and r.out.count("  --utc-offset ") == 1
        assert r.out.count("  --store ") == 1
    r = persona("--help")
    assert all(f"  {c} " in r.out for c in ("cohort", "lifecycle", "stickiness"))
    assert "--window" not in persona("lifecycle", "--help").out


# ---- the bundled sample ----------------------------------------------------------------

def test_bundled_sample_runs(persona):
    r = persona("cohort", cwd=ROOT)
    out = ok(r).splitlines()
    assert out[0] == "cohort,size," + ",".join(f"p{i}" for i in range(13))
    assert out[1] == "2010-12,50,50,18,12,20,21,21,22,20,22,22,18,19,8"
    assert out[-1] == "2011-12,3,3" + "," * 12
    assert len(out) == 14
    lc = ok(persona("lifecycle", cwd=ROOT)).splitlines()
    assert lc[0] == "period,new,returning,resurrecting,dormant" and len(lc) == 14
    assert lc[1] == "2010-12,50,0,0,0"
    st = ok(persona("stickiness", cwd=ROOT)).splitlines()
    assert st[0] == "active_periods,users" and len(st) == 14
    assert sum(int(l.split(",")[1]) for l in st[1:]) == 221   # every user once
    r = persona("cohort", "--period", "week", "--metric", "ltv", "--brackets", "0,1,4,13",
                cwd=ROOT)
    assert ok(r).startswith("cohort,size,p0,p1-3,p4-12,p13+\n")


def pandas_available():
    try:
        p = subprocess.run(["/usr/bin/python3", "-c", "import pandas"], capture_output=True)
        return p.returncode == 0
    except OSError:
        return False


# The DuckDB anchor's definition, in pandas: cohort = UTC month of a user's first event,
# cell (c, p) = distinct users of cohort c with an event in calendar month c + p. Rows
# without a CustomerID are not events (persona rejects them as missing_user).
PANDAS_REFERENCE = r"""
import sys
import pandas as pd
df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
df = df[df["CustomerID"].str.strip() != ""]
month = pd.to_datetime(df["InvoiceDate"], format="%Y-%m-%d %H:%M:%S").dt.to_period("M")
um = pd.DataFrame({"user": df["CustomerID"], "m": month}).drop_duplicates()
um["c"] = um.groupby("user")["m"].transform("min")
um["p"] = (um["m"] - um["c"]).map(lambda d: d.n)
last = um["m"].max()
for (c, p), n in um.groupby(["c", "p"]).size().items():
    print(f"{c.strftime('%Y-%m')},{p},{n}")
sizes = um[um["p"] == 0].groupby("c").size()
for c, n in sizes.items():
    # months after c up to the last month of the data, with zeros where nobody came back
    for p in range((last - c).n + 1):
        print(f"{c.strftime('%Y-%m')},{p},0")
"""


@pytest.mark.skipif(not pandas_available(), reason="/usr/bin/python3 has no pandas")
def test_bundled_sample_matches_pandas(persona):
    sample = os.path.join(ROOT, "examples", "data", "online_retail_sample.csv")
    p = subprocess.run(["/usr/bin/python3", "-c", PANDAS_REFERENCE, sample],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    want = {}
    for line in p.stdout.splitlines():
        c, per, n = line.split(",")
        want[(c, int(per))] = max(want.get((c, int(per)), 0), int(n))
    got = {}
    rows = list(csv.reader(io.StringIO(ok(persona("cohort", cwd=ROOT)))))
    for row in rows[1:]:
        for per, cell in enumerate(row[2:]):
            if cell != "":                       # empty = after the end of the data
                got[(row[0], per)] = int(cell)
        assert int(row[1]) == want[(row[0], 0)]  # size = p0 for first-event cohorts
    assert got == want


def test_benchmark_retail_matches_duckdb_anchor(persona, tmp_path):
    """When the benchmark's retail events file and the DuckDB anchor's result for it are
    on this machine (shared/bench/run_anchors.sh), the default table equals the anchor's
    under shared/bench/compare.py's cohort rule (same non-zero cells)."""
    from conftest import SHARED
    bench = os.environ.get("PERSONA_BENCH_DIR", "/tmp/persona-bench")
    events = os.path.join(bench, "retail.events.csv")
    anchor = os.path.join(bench, "out", "cohort", "duckdb_retail_compute.csv")
    compare = os.path.join(SHARED, "bench", "compare.py")
    if not all(map(os.path.exists, (events, anchor, compare))):
        pytest.skip("benchmark retail events / DuckDB cohort anchor result not found")
    out = str(tmp_path / "persona_retail.csv")
    ok(persona("cohort", events, "-o", out))
    p = subprocess.run(["/usr/bin/python3", compare, "cohort", anchor, out],
                       capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["equal"], p.stdout + p.stderr


def test_docs_console_examples_are_real(persona):
    """Every `$ persona ...` block of docs/cohorts.md prints what the doc shows."""
    import re
    import shlex
    doc = open(os.path.join(ROOT, "docs", "cohorts.md")).read()
    n = 0
    for block in re.findall(r"```console\n(.*?)```", doc, re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            cmd, _, want = part.partition("\n")
            args = shlex.split(cmd)
            assert args[0] == "persona"
            assert ok(persona(*args[1:], cwd=ROOT)) == want, cmd
            n += 1
    assert n >= 6
