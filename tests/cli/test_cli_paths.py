"""persona paths / next: first-order transition counts of the UCI e-shop clickstream
against pandas (tests/data/eshop_transitions_pandas.csv, made by
tests/data/make_eshop_transitions.py), a hand-worked shop (sessions by gap, transitions of
orders 1 and 2, back-off, the explorer, grouping rules, "(none)"), saved models, errors."""
import csv
import gzip
import io
import json
import math
import os
import shutil

from conftest import ROOT

DATA = os.path.join(ROOT, "tests", "data")
ESHOP_MAP = ["--delimiter", ";", "--time", "order(sells)", "--time-format", "unix_s",
             "--event", "page 1 (main category)"]


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_eshop_transitions_equal_pandas(persona, shared_data, tmp_path):
    src = os.path.join(shared_data, "eshop_clothing_2008.csv.gz")
    plain = tmp_path / "eshop.csv"
    with gzip.open(src, "rb") as f, open(plain, "wb") as g:
        shutil.copyfileobj(f, g)
    r = persona("paths", "--user", "session ID", *ESHOP_MAP, str(plain))
    assert r.code == 0, r.err
    got = {(x["from"], x["to"]): x for x in rows(r.out)}
    with open(os.path.join(DATA, "eshop_transitions_pandas.csv"), newline="") as f:
        want = list(csv.DictReader(f))
    assert set(got) == {(w["from"], w["to"]) for w in want}
    totals = {}
    for w in want:
        totals[w["from"]] = totals.get(w["from"], 0) + int(w["count"])
    for w in want:
        g = got[(w["from"], w["to"])]
        assert int(g["count"]) == int(w["count"])
        assert math.isclose(float(g["probability"]), int(w["count"]) / totals[w["from"]],
                            rel_tol=1e-15)
    assert totals["(start)"] == 24026  # one session per session ID
    # next after a history sums to 1
    r = persona("next", "--user-col", "session ID", *ESHOP_MAP, "--history", "1,2",
                "--order", "2", "--top", "10", str(plain))
    assert r.code == 0, r.err
    assert math.isclose(sum(float(x["probability"]) for x in rows(r.out)), 1, rel_tol=1e-12)


SHOP = "".join(line + "\n" for line in [
    "user_id,timestamp,event,page",
    "u1,2024-01-01T00:00:00Z,view,home",
    "u1,2024-01-01T00:01:00Z,view,product/1",
    "u1,2024-01-01T00:02:00Z,cart,",
    "u1,2024-01-01T02:00:00Z,view,home",
    "u1,2024-01-01T02:01:00Z,view,product/2",
    "u2,2024-01-01T00:06:00Z,view,product/2",
    "u2,2024-01-01T00:00:00Z,view,home",
    "u2,2024-01-01T00:05:00Z,view,product/1",
])
PAGE = ["--prop", "page=page", "--state-prop", "page", "--rename", "product/*=product"]


def shop(tmp_path):
    p = tmp_path / "shop.csv"
    p.write_text(SHOP)
    return str(p)


def test_hand_worked_transitions(persona, tmp_path):
    f = shop(tmp_path)
    r = persona("paths", *PAGE, f)
    assert r.code == 0, r.err
    assert r.out == ("from,to,count,probability\n"
                     "(none),(end),1,1\n"
                     "(start),home,3,1\n"
                     "home,product,3,1\n"
                     "product,(end),2,0.5\n"
                     "product,(none),1,0.25\n"
                     "product,product,1,0.25\n")
    r = persona("paths", *PAGE, "--order", "2", f)
    assert r.code == 0, r.err
    assert rows(r.out)[0] == {"from": "(start) > home", "to": "product", "count": "3",
                              "probability": "1"}
    assert [(x["from"], x["to"], x["count"]) for x in rows(r.out)[1:4]] == [
        ("home > product", "(end)", "1"), ("home > product", "(none)", "1"),
        ("home > product", "product", "1")]
    # by event type, sessions cut by a 30-minute gap
    r = persona("paths", f)
    assert "cart,(end),1,1\n" in r.out and "(start),view,3,1\n" in r.out
    # --top: the first successor of each context
    r = persona("paths", *PAGE, "--top", "1", f)
    assert [x["to"] for x in rows(r.out)] == ["(end)", "home", "product", "(end)"]


def test_hand_worked_explorer(persona, tmp_path):
    f = shop(tmp_path)
    r = persona("paths", *PAGE, "--paths", f)
    assert r.code == 0, r.err
    assert r.out == ("path,count,extra\n"
                     "(start) > home > product > (end),1,0\n"
                     "(start) > home > product > (none) > (end),1,0\n"
                     "(start) > home > product > product > (end),1,0\n")
    r = persona("paths", *PAGE, "--paths", "--exclude", "product", "--exclude", "(none)", f)
    assert r.out == "path,count,extra\n(start) > home > (end),3,0\n"
    r = persona("paths", *PAGE, "--paths", "--start", "product", "--max-steps", "2", f)
    assert r.out == "path,count,extra\nproduct > (end),1,0\nproduct > (none),1,0\nproduct > product,1,0\n"
    r = persona("paths", *PAGE, "--goal", "(none)", f)
    assert r.out == ("path,count,conversions\n"
                     "(start) > home > product,2,1\n"
                     "(start) > home > product > product,1,0\n")
    r = persona("paths", *PAGE, "--dropoffs", "--format", "json", f)
    got = json.loads(r.out)
    assert got[2] == {"path": "(start) > home > product", "sessions": 3, "dropoffs": 1}
    assert [x["sessions"] for x in got] == [3, 3, 3, 1, 1]


def test_next_and_saved_model(persona, tmp_path):
    f = shop(tmp_path)
    snap = str(tmp_path / "paths.snap")
    r = persona("next", *PAGE, "--order", "2", "--history", "home,product",
                "--save-model", snap, f)
    assert r.code == 0, r.err
    assert r.out == "event,probability\n(end),0.3333333333333333\n(none),0.3333333333333333\nproduct,0.3333333333333333\n"
    # an unseen history backs off to order 1
    r = persona("next", "--model", snap, "--history", "(none),product", "--top", "1")
    assert r.out == "event,probability\n(end),0.5\n"
    # nothing seen at all: every target (order 0)
    r = persona("next", "--model", snap, "--history", "nowhere")
    assert rows(r.out)[0] == {"event": "product", "probability": str(4 / 11)}
    r = persona("next", "--model", snap, "--user", "u2")
    assert r.out == "event,probability\n(end),1\n"
    r = persona("paths", "--model", snap, "--order", "2", "--top", "1")
    assert r.code == 0 and rows(r.out)[0]["from"] == "(start) > home"
    r = persona("next", "--model", snap, "--user", "nobody")
    assert r.code == 1 and "nobody" in r.err


def test_errors(persona, tmp_path):
    f = shop(tmp_path)
    for bad in ("0", "5", "x"):
        r = persona("paths", "--order", bad, f)
        assert r.code == 2 and "--order wants a Markov order from 1 to 4" in r.err
    r = persona("next", f)
    assert r.code == 2 and "--history" in r.err
    r = persona("paths", "--rename", "nostate", f)
    assert r.code == 2 and "PATTERN=STATE" in r.err
    r = persona("paths", "--rename", "x=(end)", f)
    assert r.code == 2 and "reserved" in r.err
    r = persona("paths", "--paths", "--dropoffs", f)
    assert r.code == 2
    snap = str(tmp_path / "m.snap")
    assert persona("paths", "--save-model", snap, f).code == 0
    r = persona("paths", "--model", snap, "--order", "2")
    assert r.code == 2 and "orders 1 to 1" in r.err
    r = persona("paths", "--model", snap, "--state-prop", "page")
    assert r.code == 2 and "--model" in r.err
    r = persona("paths", "--model", str(tmp_path / "missing.snap"))
    assert r.code == 1
    # an empty input: the header only
    empty = tmp_path / "empty.csv"
    empty.write_text("user_id,timestamp,event\n")
    r = persona("paths", str(empty))
    assert r.code == 0 and r.out == "from,to,count,probability\n"
    r = persona("next", "--history", "a", str(empty))
    assert r.code == 0 and r.out == "event,probability\n"


def test_next_event_in_segment_rules(persona, tmp_path):
    f = shop(tmp_path)
    snap = str(tmp_path / "paths.snap")
    assert persona("paths", *PAGE, "--save-model", snap, f).code == 0
    rules = tmp_path / "next.rules"
    rules.write_text('ends: next_event() == "(end)"\nnone: next_event() == "(none)"\n')
    # u1's latest session is home > product, u2's home > product > product: after
    # product (end) 2, (none) 1, product 1
    r = persona("segment", "rules", "--rules", str(rules), "--mode", "all", "--paths", snap,
                "--prop", "page=page", f)
    assert r.code == 0, r.err
    assert r.out == "user,segment\nu1,ends\nu2,ends\n"
    for user in ("u1", "u2"):
        n = persona("next", "--model", snap, "--user", user, "--top", "1")
        assert rows(n.out)[0]["event"] == "(end)"
    r = persona("segment", "rules", "--rules", str(rules), "--explain", "u1", "--paths", snap,
                "--prop", "page=page", f)
    assert 'next_event() = "(end)"' in r.out
    # without --paths next_event() is missing: nobody
    r = persona("segment", "rules", "--rules", str(rules), "--mode", "all", f)
    assert r.code == 0 and r.out == "user,segment\n"
    r = persona("segment", "rules", "--rules", str(rules), "--paths",
                str(tmp_path / "missing.snap"), f)
    assert r.code == 1 and "--paths" in r.err
