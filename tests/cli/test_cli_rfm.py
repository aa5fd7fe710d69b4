"""persona segment rfm (shared/docs/CLI.md, docs/cli.md, docs/rfm.md).

* the raw UCI Online Retail file and the bundled sample against the independent pandas
  computation in tests/data (tests/data/make_rfm_reference.py: every user's recency,
  frequency, monetary, scores and segment, and the summary);
* small inputs worked out by hand (the working is in the comments);
* options, output formats, saved results and usage errors."""
import csv
import gzip
import io
import json
import os

import pytest

from conftest import ROOT, SHARED

DATA = os.path.join(ROOT, "tests", "data")
HEADER = "user,recency_days,frequency,monetary,r,f,m,segment"
SEGMENTS = ["Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
            "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost"]
UCI = ["--user", "CustomerID", "--time", "InvoiceDate", "--basket", "InvoiceNo",
       "--value", "Quantity*UnitPrice", "--event-const", "purchase"]

# The store's clock is 2024-01-11 12:00 (e's view), so the reference is 2024-01-12 12:00.
#   a: orders o1 (10 + 5) and o2 (20) on 01-06, a return -7 on 01-07 (not an order, not the
#      latest purchase): recency 6.5 -> 6 days, 2 orders, 28
#   b: a view only (left out); d: only a return (left out)
#   c: two purchases without a basket on 01-03, one without a value: 9 days, 2 orders, 3
#   e: one order on 01-09: 3 days, 1 order, 1.5
# Three users, five bins: ranks 1, 2, 3 fall in bins 1, 3, 5 (edges 1.4, 1.8, 2.2, 2.6).
#   R (reversed): e 5, a 3, c 1; F: e 1, a 3, c 5 (a and c tie: a first); M: e 1, c 3, a 5
#   a: R3, FM ceil((3+5)/2) = 4 -> Loyal; c: R1, FM 4 -> At risk; e: R5, FM 1 -> New
EVENTS = (
    "user_id,timestamp,event,value,basket\n"
    "a,2024-01-01T00:00:00Z,purchase,10,o1\n"
    "a,2024-01-01T00:00:01Z,purchase,5,o1\n"
    "b,2024-01-02T00:00:00Z,view,,\n"
    "c,2024-01-03T00:00:00Z,purchase,3,\n"
    "c,2024-01-03T00:00:00Z,purchase,,\n"
    "a,2024-01-06T00:00:00Z,purchase,20,o2\n"
    "a,2024-01-07T00:00:00Z,purchase,-7,C1\n"
    "d,2024-01-04T00:00:00Z,purchase,-4,C9\n"
    "a,2024-01-08T00:00:00Z,refund,2,\n"
    "e,2024-01-09T00:00:00Z,purchase,1.5,o3\n"
    "a,2024-01-10T00:00:00Z,view,,\n"
    "e,2024-01-11T12:00:00Z,view,,\n"
)
MAP = ["--basket", "basket"]


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    return str(path)


def rfm(persona, *args):
    return persona("segment", "rfm", *args)


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def same_rows(got, want):
    """CSV rows equal field by field, monetary (column 4) and share compared as numbers."""
    assert len(got) == len(want)
    assert got[0] == want[0]
    bad = [(g, w) for g, w in zip(got[1:], want[1:])
           if g[:3] != w[:3] or float(g[3]) != float(w[3]) or g[4:] != w[4:]]
    assert bad == [], f"{len(bad)} rows differ, e.g. {bad[:3]}"


def same_summary(got, want):
    assert got[0] == want[0] == ["segment", "users", "share"]
    assert [r[:2] for r in got] == [r[:2] for r in want]
    assert [float(r[2]) for r in got[1:]] == [float(r[2]) for r in want[1:]]


def reference(name):
    with open(os.path.join(DATA, name), newline="") as f:
        return list(csv.reader(f))


# ---- the independent references -------------------------------------------------------

@pytest.fixture(scope="module")
def uci_csv(tmp_path_factory):
    src = os.path.join(SHARED, "data", "online_retail.csv.gz")
    if not os.path.exists(src):
        pytest.skip("shared/data/online_retail.csv.gz not found")
    out = tmp_path_factory.mktemp("uci") / "online_retail.csv"
    with gzip.open(src, "rb") as f, open(out, "wb") as g:
        g.write(f.read())
    return str(out)


def test_online_retail_equals_pandas(persona, uci_csv):
    r = rfm(persona, uci_csv, *UCI)
    assert r.code == 0, r.err
    got = rows_of(r.out)
    same_rows(got, reference("rfm_online_retail.csv"))
    assert len(got) == 4340  # 4,372 customers, 33 with only cancellations
    r = rfm(persona, uci_csv, *UCI, "--summary")
    assert r.code == 0, r.err
    same_summary(rows_of(r.out), reference("rfm_online_retail_summary.csv"))


def test_bundled_sample_equals_pandas(persona):
    r = persona("segment", "rfm", cwd=ROOT)
    assert r.code == 0, r.err
    same_rows(rows_of(r.out), reference("rfm_retail_sample.csv"))
    r = persona("segment", "rfm", "--summary", cwd=ROOT)
    assert r.code == 0, r.err
    same_summary(rows_of(r.out), reference("rfm_retail_sample_summary.csv"))


# ---- hand-worked ----------------------------------------------------------------------

def test_hand_worked(persona, events):
    r = rfm(persona, events, *MAP)
    assert r.code == 0, r.err
    assert r.out == (HEADER + "\n"
                     "a,6,2,28,3,3,5,Loyal\n"
                     "c,9,2,3,1,5,3,At risk\n"
                     "e,3,1,1.5,5,1,1,New\n")
    r = rfm(persona, events, *MAP, "--summary")
    assert r.code == 0, r.err
    third = repr(1 / 3)
    assert r.out == ("segment,users,share\n"
                     f"Champions,0,0\nLoyal,1,{third}\nPotential loyalist,0,0\n"
                     f"New,1,{third}\nPromising,0,0\nNeed attention,0,0\n"
                     f"About to sleep,0,0\nAt risk,1,{third}\nCan't lose them,0,0\n"
                     "Hibernating,0,0\nLost,0,0\n")


def test_return_event(persona, events):
    # a's refund of 2 on 01-08 is subtracted: 28 - 2 = 26; nothing else changes
    r = rfm(persona, events, *MAP, "--return-event", "refund")
    assert r.code == 0, r.err
    assert rows_of(r.out)[1] == ["a", "6", "2", "26", "3", "3", "5", "Loyal"]


def test_as_of(persona, events):
    # reference 2024-01-05 00:00: later events are ignored. a: o1 only, latest 01-01 00:00:01
    # -> 3 days (3.99), 1 order, 15; c: 2 days, 2 orders, 3; d only a return; e nothing.
    # Two users, five bins: ranks 1 and 2 in bins 1 and 5.
    #   R: c 5, a 1; F: a 1, c 5; M: c 1, a 5.
    #   a: R1, FM ceil((1+5)/2) = 3 -> At risk; c: R5, FM 3 -> Potential loyalist
    r = rfm(persona, events, *MAP, "--as-of", "2024-01-05")
    assert r.code == 0, r.err
    assert r.out == (HEADER + "\n"
                     "a,3,1,15,1,1,5,At risk\n"
                     "c,2,2,3,5,5,1,Potential loyalist\n")
    # the same instant written at another offset
    r2 = rfm(persona, events, *MAP, "--as-of", "2024-01-05T01:00:00+01:00")
    assert r2.out == r.out
    r3 = rfm(persona, events, *MAP, "--as-of", "2024-01-05 01:00", "--utc-offset", "+01:00")
    assert r3.out == r.out


def test_from(persona, events):
    # only events from 01-05 on (reference 2024-01-12 12:00): a: o2 and the return -> 6
    # days, 1 order, 13; c left out; e: 3 days, 1 order, 1.5.
    #   R: e 5, a 1; F (tie, a first): a 1, e 5; M: e 1, a 5
    #   a: R1, FM 3 -> At risk; e: R5, FM 3 -> Potential loyalist
    r = rfm(persona, events, *MAP, "--from", "2024-01-05")
    assert r.code == 0, r.err
    assert r.out == (HEADER + "\n"
                     "a,6,1,13,1,1,5,At risk\n"
                     "e,3,1,1.5,5,5,1,Potential loyalist\n")


def test_two_bins(persona, events):
    # three ranks, two bins: the edge is 2.0, so ranks 1, 2, 3 -> bins 1, 1, 2.
    #   R: e 2, a 2, c 1; F: e 1, a 1, c 2; M: e 1, c 1, a 2.
    # On the five-level chart R5 = ceil(5R/2), FM5 = ceil(5(F+M)/4):
    #   a: R5 5, FM5 ceil(15/4) = 4 -> Loyal; c: R5 3, FM5 4 -> Loyal;
    #   e: R5 5, FM5 ceil(10/4) = 3 -> Potential loyalist
    r = rfm(persona, events, *MAP, "--bins", "2")
    assert r.code == 0, r.err
    assert r.out == (HEADER + "\n"
                     "a,6,2,28,2,1,2,Loyal\n"
                     "c,9,2,3,1,2,1,Loyal\n"
                     "e,3,1,1.5,2,1,1,Potential loyalist\n")


def test_purchase_event(persona, events, tmp_path):
    # views as the purchases: b, a (01-10) and e (01-11 12:00) have one each, no basket
    r = rfm(persona, events, *MAP, "--purchase-event", "view")
    assert r.code == 0, r.err
    assert [row[:4] for row in rows_of(r.out)[1:]] == [
        ["a", "2", "1", "0"], ["b", "10", "1", "0"], ["e", "1", "1", "0"]]
    # with --event-const every row is of that type, so all rows with a value >= 0 count
    r = rfm(persona, events, *MAP, "--event-const", "sale")
    assert r.code == 0, r.err
    users = [row[0] for row in rows_of(r.out)[1:]]
    assert users == ["a", "b", "c", "e"]  # d only has a negative value
    # an unknown type: nobody, a header only
    r = rfm(persona, events, *MAP, "--purchase-event", "nothing")
    assert r.code == 0 and r.out == HEADER + "\n"


def test_consent(persona, tmp_path):
    # c and e granted "ads", a refused, the others said nothing. Scored: c (9 days, 2 orders, 3) and e (3, 1, 1.5):
    #   R: e 5, c 1; F: e 1, c 5; M: e 1, c 5 -> c: R1, FM5 -> Can't lose them; e: New
    lines = EVENTS.splitlines()
    text = "\n".join([lines[0] + ",purpose,granted"] + [l + ",," for l in lines[1:]] + [
        "c,2024-01-01T00:00:00Z,consent,,,ads,yes",
        "e,2024-01-01T00:00:00Z,consent,,,ads,yes",
        "a,2024-01-01T00:00:00Z,consent,,,ads,no"]) + "\n"
    path = tmp_path / "consent.csv"
    path.write_text(text)
    m = [*MAP, "--prop", "purpose=purpose", "--prop", "granted=granted",
         "--consent-event", "consent=purpose:granted"]
    r = rfm(persona, str(path), *m, "--consent", "ads")
    assert r.code == 0, r.err
    assert r.out == HEADER + "\n" + "c,9,2,3,1,5,5,Can't lose them\ne,3,1,1.5,5,1,1,New\n"
    r = rfm(persona, str(path), *m, "--consent", "email")  # nobody granted it
    assert r.code == 0 and r.out == HEADER + "\n"
    # without --consent: everyone with a purchase, in the store's user order, where the
    # consent rows' users come first (the store applies a batch's consent events before
    # its other events)
    r = rfm(persona, str(path), *m)
    assert r.code == 0 and [row[0] for row in rows_of(r.out)[1:]] == ["c", "e", "a"]


def test_json(persona, events):
    r = rfm(persona, events, *MAP, "--format", "json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["bins"] == 5 and doc["users"] == 3
    assert doc["reference"] == "2024-01-12 12:00:00"
    assert doc["purchase_type"] == "purchase" and doc["return_type"] is None
    assert [s["segment"] for s in doc["segments"]] == SEGMENTS
    assert sum(s["users"] for s in doc["segments"]) == 3
    assert doc["rows"][0] == {"user": "a", "recency_days": 6, "frequency": 2, "monetary": 28,
                              "r": 3, "f": 3, "m": 5, "segment": "Loyal"}
    assert [row["user"] for row in doc["rows"]] == ["a", "c", "e"]
    assert rfm(persona, events, *MAP, "--format", "json", "--summary").out == r.out


def test_save_and_model(persona, events, tmp_path):
    saved = str(tmp_path / "rfm.snap")
    out = str(tmp_path / "out.csv")
    r = rfm(persona, events, *MAP, "--bins", "3", "--save", saved, "-o", out)
    assert r.code == 0, r.err
    direct = open(out).read()
    for flag in ("-m", "--model"):
        r = rfm(persona, flag, saved)
        assert r.code == 0, r.err
        assert r.out == direct
    r = rfm(persona, "-m", saved, "--summary")
    assert r.code == 0 and r.out.startswith("segment,users,share\n")
    r = rfm(persona, "-m", saved, "--bins", "4")
    assert r.code == 2 and "--bins does not apply" in r.err
    r = rfm(persona, "-m", saved, events)
    assert r.code == 2 and "FILE does not apply" in r.err
    r = rfm(persona, "-m", str(tmp_path / "missing.snap"))
    assert r.code == 1 and r.err.startswith("persona: segment rfm: -m:")
    r = rfm(persona, "-m", events)  # not a snapshot
    assert r.code == 1 and "persona: segment rfm: -m:" in r.err


def test_usage_errors(persona, events):
    for args, needle in [
        (["--bins", "11"], "--bins wants a number 2 ... 10, got '11'"),
        (["--bins", "1"], "--bins wants a number 2 ... 10"),
        (["--bins", "x"], "--bins wants a number"),
        (["--format", "text"], "--format wants csv or json, got 'text'"),
        (["--as-of", "2024-13-01"], "--as-of '2024-13-01'"),
        (["--from", "soon"], "--from 'soon'"),
        (["--as-of", "1970-01-01"], "--as-of cannot be 1970-01-01 00:00:00.000 UTC itself"),
        (["--return-event", "purchase"], "return_type 'purchase' is the purchase type"),
        (["--from", "2024-01-06", "--as-of", "2024-01-05"], "from_ms is after reference_ms"),
        (["--bins", "3", "--bins", "4"], "--bins is given twice"),
        (["--as-of"], "option --as-of needs a value"),
    ]:
        r = rfm(persona, events, *MAP, *args)
        assert r.code == 2, (args, r.err)
        assert r.err.startswith("persona: ") and needle in r.err, (args, r.err)


def test_help_and_kinds(persona):
    r = persona("segment", "rfm", "--help")
    assert r.code == 0 and "usage: persona segment rfm" in r.out
    for flag in ("--purchase-event", "--return-event", "--bins", "--as-of", "--from",
                 "--consent", "--summary", "--save", "-m SAVED", "--user COL"):
        assert flag in r.out, flag
    r = persona("segment", "--help")
    assert r.code == 0 and "rfm" in r.out and "recency_days" in r.out
    r = persona("segment", "kmeans", "--help")  # available now: test_cli_segment_kmeans.py
    assert r.code == 0 and "usage: persona segment kmeans" in r.out
