"""persona segment rules (shared/docs/CLI.md, docs/cli.md, docs/rules.md).

Expected outputs are worked out by hand from the small inputs below (the working is in the
comments); the bundled sample is checked against an independent computation with the csv
module, and the thread test against a rule evaluated in Python."""
import csv
import io
import json
import os

import pytest

from conftest import ROOT

# Rows in time order, so the store's user order (first appearance) is u1, u2, "x,y", u4, u3.
# The store's clock (latest event) is 2024-03-09 12:00 UTC.
#   u1:    view 03-01 (UK), buy 150 on 03-05 (UK)       value 150, 1 buy, last country UK
#   u2:    buy 40 on 03-02 (FR), view 03-08 (FR)         value 40,  1 buy, last FR
#   "x,y": buy 20 on 03-03 (UK)                          value 20,  1 buy, last UK
#   u4:    view 03-04 (FR)                               value 0,   0 buy, last FR
#   u3:    view 03-09 12:00 (DE)                         value 0,   0 buy, last DE
EVENTS = (
    "user_id,timestamp,event,value,country\n"
    "u1,2024-03-01T10:00:00Z,view,,UK\n"
    "u2,2024-03-02T10:00:00Z,buy,40,FR\n"
    "\"x,y\",2024-03-03T10:00:00Z,buy,20,UK\n"
    "u4,2024-03-04T10:00:00Z,view,,FR\n"
    "u1,2024-03-05T10:00:00Z,buy,150,UK\n"
    "u2,2024-03-08T10:00:00Z,view,,FR\n"
    "u3,2024-03-09T12:00:00Z,view,,DE\n"
)
MAP = ["--value", "value", "--prop", "country=country"]

# recent = an event in (now - 2d, now]; at the store's clock that is (03-07 12:00, 03-09 12:00]:
# u2 (03-08) and u3 (03-09).
RULES = (
    "# hand-made segments\n"
    "big: value >= 100\n"
    "buyer: count(\"buy\") > 0\n"
    "recent: count(\"*\", 2d) > 0\n"
    "uk: last(\"country\") == \"UK\"\n"
)

# first match: u1 big; u2 buyer; x,y buyer; u4 nothing; u3 recent
FIRST = [["u1", "big"], ["u2", "buyer"], ["x,y", "buyer"], ["u3", "recent"]]
# all matches: u1 big, buyer, uk (not recent: last event 03-05); u2 buyer, recent;
# x,y buyer, uk; u4 nothing; u3 recent
ALL = [["u1", "big"], ["u1", "buyer"], ["u1", "uk"], ["u2", "buyer"], ["u2", "recent"],
       ["x,y", "buyer"], ["x,y", "uk"], ["u3", "recent"]]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.fixture
def events(tmp_path):
    return write(tmp_path, "events.csv", EVENTS)


@pytest.fixture
def rules(tmp_path):
    return write(tmp_path, "rules.txt", RULES)


def ok(r):
    assert r.code == 0, r.err
    assert r.err == ""
    return r.out


def rows(text):
    return list(csv.reader(io.StringIO(text)))


def seg(persona, *args):
    return persona("segment", "rules", *args)


# ---- memberships --------------------------------------------------------------------

def test_first_match_rows(persona, events, rules):
    out = ok(seg(persona, "--rules", rules, events, *MAP))
    assert rows(out) == [["user", "segment"]] + FIRST
    # the same with the contract's spelling of the default
    assert ok(seg(persona, "--rules", rules, "--mode", "first", events, *MAP)) == out


def test_all_matches_rows(persona, events, rules):
    out = ok(seg(persona, "--rules", rules, "--mode", "all", events, *MAP))
    assert rows(out) == [["user", "segment"]] + ALL


def test_comma_key_is_quoted(persona, events, rules):
    out = ok(seg(persona, "--rules", rules, events, *MAP))
    assert '\n"x,y",buyer\n' in out


def test_segment_names_with_comma_and_quote(persona, events, tmp_path):
    # names are quoted strings in the rule language: "big, spender" and say "hi"
    f = write(tmp_path, "r.txt",
              "\"big, spender\": value >= 100\n"
              "\"say \\\"hi\\\"\": events > 0\n")
    out = ok(seg(persona, "--rules", f, "--mode", "all", events, *MAP))
    # u1 is in both; everyone has events
    assert out == ("user,segment\n"
                   "u1,\"big, spender\"\n"
                   "u1,\"say \"\"hi\"\"\"\n"
                   "u2,\"say \"\"hi\"\"\"\n"
                   "\"x,y\",\"say \"\"hi\"\"\"\n"
                   "u4,\"say \"\"hi\"\"\"\n"
                   "u3,\"say \"\"hi\"\"\"\n")
    assert rows(out)[1] == ["u1", "big, spender"]
    assert rows(out)[2] == ["u1", 'say "hi"']
    s = rows(ok(seg(persona, "--rules", f, "--mode", "all", "--summary", events, *MAP)))
    assert s[1] == ["big, spender", "1", "0.2"] and s[2] == ['say "hi"', "5", "1"]


def test_leading_minus_is_neutralized_like_the_exports(persona, tmp_path):
    f = write(tmp_path, "e.csv", "user_id,timestamp\n-7,2024-01-01T00:00:00Z\n")
    r = write(tmp_path, "r.txt", "all: events > 0\n")
    assert ok(seg(persona, "--rules", r, f)) == "user,segment\n'-7,all\n"


def test_rules_from_stdin(persona, events):
    r = persona("segment", "rules", "--rules", "-", events, *MAP, stdin=RULES)
    assert rows(ok(r)) == [["user", "segment"]] + FIRST


def test_output_file(persona, events, rules, tmp_path):
    out = str(tmp_path / "out.csv")
    assert ok(seg(persona, "--rules", rules, events, *MAP, "-o", out)) == ""
    with open(out) as fh:
        assert rows(fh.read()) == [["user", "segment"]] + FIRST


# ---- --summary ------------------------------------------------------------------------

def test_summary_first(persona, events, rules):
    out = ok(seg(persona, "--rules", rules, "--summary", events, *MAP))
    # 5 users: big 1, buyer 2, recent 1, uk 0 (x,y is taken by buyer first), none 1 (u4)
    assert out == ("segment,users,share\n"
                   "big,1,0.2\n"
                   "buyer,2,0.4\n"
                   "recent,1,0.2\n"
                   "uk,0,0\n"
                   "(none),1,0.2\n")
    t = rows(out)[1:]
    assert sum(int(r[1]) for r in t) == 5                 # first match: a partition
    assert abs(sum(float(r[2]) for r in t) - 1) < 1e-12


def test_summary_all(persona, events, rules):
    out = ok(seg(persona, "--rules", rules, "--summary", "--mode", "all", events, *MAP))
    assert out == ("segment,users,share\n"
                   "big,1,0.2\n"
                   "buyer,3,0.6\n"
                   "recent,2,0.4\n"
                   "uk,2,0.4\n"
                   "(none),1,0.2\n")


def test_summary_agrees_with_rows(persona, events, rules):
    for mode in ("first", "all"):
        members = rows(ok(seg(persona, "--rules", rules, "--mode", mode, events, *MAP)))[1:]
        summary = rows(ok(seg(persona, "--rules", rules, "--mode", mode, "--summary", events,
                              *MAP)))[1:]
        for name, users, _ in summary[:-1]:
            assert int(users) == sum(1 for m in members if m[1] == name), (mode, name)
        in_some = {m[0] for m in members}
        assert summary[-1][:2] == ["(none)", str(5 - len(in_some))]


# ---- --format json --------------------------------------------------------------------

def test_json_members(persona, events, rules):
    j = json.loads(ok(seg(persona, "--rules", rules, "--mode", "all", "--format", "json",
                          events, *MAP)))
    assert j["mode"] == "all" and j["users"] == 5
    assert j["now"].startswith("2024-03-09") and "12:00:00" in j["now"]
    assert [[m["user"], m["segment"]] for m in j["members"]] == ALL


def test_json_summary(persona, events, rules):
    j = json.loads(ok(seg(persona, "--rules", rules, "--summary", "--format", "json",
                          "--now", "2024-03-06", events, *MAP)))
    assert j["mode"] == "first" and j["users"] == 5 and j["now"].startswith("2024-03-06")
    # at 03-06 00:00: u1 big, u2 buyer, x,y buyer, u4 recent (03-04 10:00), u3 none
    assert j["segments"] == [{"segment": "big", "users": 1, "share": 0.2},
                             {"segment": "buyer", "users": 2, "share": 0.4},
                             {"segment": "recent", "users": 1, "share": 0.2},
                             {"segment": "uk", "users": 0, "share": 0}]
    assert j["none"] == {"users": 1, "share": 0.2}


def test_json_empty_store(persona, rules, tmp_path):
    f = write(tmp_path, "e.csv", "user_id,timestamp\n")
    j = json.loads(ok(seg(persona, "--rules", rules, "--format", "json", f)))
    assert j == {"mode": "first", "now": None, "users": 0, "members": []}
    s = ok(seg(persona, "--rules", rules, "--summary", f))
    assert s.splitlines()[-1] == "(none),0,"             # share of nobody: empty


# ---- --now, --context, --list ---------------------------------------------------------

def test_now_changes_a_windowed_rule(persona, events, rules):
    # as of 03-06 00:00 the window is (03-04 00:00, 03-06 00:00]: u1 (buy 03-05) and u4
    # (view 03-04 10:00) are recent, u2 and u3 are not; u3's only event is after now, so
    # u3 is in nothing; u2's view of 03-08 is ignored.
    out = ok(seg(persona, "--rules", rules, "--mode", "all", "--now", "2024-03-06", events,
                 *MAP))
    assert rows(out)[1:] == [["u1", "big"], ["u1", "buyer"], ["u1", "recent"], ["u1", "uk"],
                             ["u2", "buyer"], ["x,y", "buyer"], ["x,y", "uk"],
                             ["u4", "recent"]]
    # as of 03-05 09:00, before u1's purchase (03-05 10:00), u1 is neither big nor a buyer
    # nor recent (window (03-03 09:00, 03-05 09:00]; u1's only event then is 03-01) but
    # still uk; u4 (03-04 10:00) is recent; x,y (buy 03-03 10:00) a buyer first
    out = ok(seg(persona, "--rules", rules, "--now", "2024-03-05T09:00:00Z", events, *MAP))
    assert rows(out)[1:] == [["u1", "uk"], ["u2", "buyer"], ["x,y", "buyer"],
                             ["u4", "recent"]]
    # the default is the store's clock
    default = ok(seg(persona, "--rules", rules, events, *MAP))
    assert ok(seg(persona, "--rules", rules, "--now", "2024-03-09T12:00:00Z", events,
                  *MAP)) == default


def test_now_is_local_at_utc_offset(persona, events, rules):
    # 03-06 01:00 at +02:00 is 03-05 23:00 UTC: the same answer as --now 2024-03-05T23:00Z
    a = ok(seg(persona, "--rules", rules, "--mode", "all", "--now", "2024-03-06T01:00:00",
               "--utc-offset", "+02:00", events, *MAP))
    b = ok(seg(persona, "--rules", rules, "--mode", "all", "--now", "2024-03-05T23:00:00Z",
               events, *MAP))
    assert a == b
    # and 2024-03-06T01:00 UTC differs: u4's view (03-04 10:00) leaves the 2d window
    c = ok(seg(persona, "--rules", rules, "--mode", "all", "--now", "2024-03-06T11:00:00Z",
               events, *MAP))
    assert ["u4", "recent"] in rows(a) and ["u4", "recent"] not in rows(c)


def test_context_fields_and_hour(persona, events, tmp_path):
    f = write(tmp_path, "r.txt",
              "uk_visitor: ctx.country == \"UK\"\n"
              "night: ctx.hour between 0 and 5\n")
    users = ["u1", "u2", "x,y", "u4", "u3"]
    out = ok(seg(persona, "--rules", f, "--mode", "all", "--context", "country=UK,hour=3",
                 events, *MAP))
    assert rows(out)[1:] == [[u, s] for u in users for s in ("uk_visitor", "night")]
    out = ok(seg(persona, "--rules", f, "--mode", "all", "--context", "country=FR",
                 "--context", "hour=12", events, *MAP))
    assert rows(out) == [["user", "segment"]]
    # no context: ctx.country and ctx.hour are missing, so both rules are false
    out = ok(seg(persona, "--rules", f, "--summary", events, *MAP))
    assert out.splitlines()[-1] == "(none),5,1"
    out = ok(seg(persona, "--rules", f, "--context", "country=UK", events, *MAP))
    assert rows(out)[1:] == [[u, "uk_visitor"] for u in users]


def test_list_segment(persona, events, rules, tmp_path):
    keys = write(tmp_path, "keys.txt", "u4\n\nx,y\r\nnobody\n")
    # first match: u4 (in no rule) gets the list; x,y keeps buyer
    out = ok(seg(persona, "--rules", rules, "--list", "vips=" + keys, events, *MAP))
    assert rows(out)[1:] == [["u1", "big"], ["u2", "buyer"], ["x,y", "buyer"], ["u4", "vips"],
                             ["u3", "recent"]]
    # all matches: the list comes after the rules; a name with a comma is quoted
    out = ok(seg(persona, "--rules", rules, "--mode", "all", "--list=vip, list=" + keys,
                 events, *MAP))
    assert '"x,y","vip, list"\n' in out
    assert [r for r in rows(out)[1:] if r[1] == "vip, list"] == [["x,y", "vip, list"],
                                                                 ["u4", "vip, list"]]
    s = rows(ok(seg(persona, "--rules", rules, "--mode", "all", "--summary",
                    "--list", "a=" + keys, "--list", "b=" + write(tmp_path, "k2", "u1\n"),
                    events, *MAP)))
    assert s[-3:] == [["a", "2", "0.4"], ["b", "1", "0.2"], ["(none)", "0", "0"]]


def test_list_errors(persona, events, rules, tmp_path):
    r = seg(persona, "--rules", rules, "--list", "vips", events, *MAP)
    assert r.code == 2 and "--list wants NAME=KEYFILE" in r.err
    r = seg(persona, "--rules", rules, "--list", "vips=" + str(tmp_path / "nope.txt"), events)
    assert r.code == 1 and r.err.startswith("persona: ") and "nope.txt" in r.err
    keys = write(tmp_path, "keys.txt", "u1\n")
    r = seg(persona, "--rules", rules, "--list", "buyer=" + keys, events, *MAP)
    assert r.code == 2 and "two segments are named 'buyer'" in r.err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"u1\nok\n\xff\xfe\n")
    r = seg(persona, "--rules", rules, "--list", "l=" + str(bad), events, *MAP)
    assert r.code == 1 and "bad.txt:3:" in r.err and "UTF-8" in r.err


# ---- --explain ------------------------------------------------------------------------

def test_explain_names_the_deciding_clause(persona, events, tmp_path):
    f = write(tmp_path, "r.txt",
              "big: value >= 100\n"
              "big_buyer: count(\"buy\") > 0 and value >= 100\n"
              "buyer: count(\"buy\") > 0\n"
              "uk: last(\"country\") == \"UK\"\n")
    out = ok(seg(persona, "--rules", f, "--explain", "u2", events, *MAP))
    lines = out.splitlines()
    assert lines[0] == "big: no"
    assert "  value >= 100 is false (value = 40)" in lines
    assert "big_buyer: no" in lines and "buyer: yes" in lines
    assert '  count("buy") > 0 is true (count("buy") = 1)' in lines
    # first match: the segments after buyer are not reached
    assert any(line.startswith("uk: not reached") for line in lines)
    # all matches: uk is evaluated, and its clause shows u2's last country
    out = ok(seg(persona, "--rules", f, "--mode", "all", "--explain", "u2", events, *MAP))
    assert "uk: no" in out.splitlines()
    assert 'last("country") == "UK" is false (last("country") = "FR")' in out
    # a key with a comma, in the table and in --explain
    out = ok(seg(persona, "--rules", f, "--explain", "x,y", events, *MAP))
    assert "buyer: yes" in out.splitlines()


def test_explain_unknown_user(persona, events, rules):
    r = seg(persona, "--rules", rules, "--explain", "stranger", events, *MAP)
    assert r.code == 0 and "big: no" in r.out.splitlines()
    assert r.err.startswith("persona: segment rules: note: 'stranger' is not a user")


def test_explain_follows_now_and_context(persona, events, tmp_path):
    f = write(tmp_path, "r.txt", "recent: count(\"*\", 2d) > 0\nuk: ctx.country == \"UK\"\n")
    out = ok(seg(persona, "--rules", f, "--mode", "all", "--explain", "u4", "--now",
                 "2024-03-06", "--context", "country=UK", events, *MAP))
    assert out.splitlines()[0] == "recent: yes" and "uk: yes" in out.splitlines()
    out = ok(seg(persona, "--rules", f, "--mode", "all", "--explain", "u4", events, *MAP))
    assert out.splitlines()[0] == "recent: no" and "uk: no" in out.splitlines()


# ---- errors ---------------------------------------------------------------------------

def test_parse_error_position_and_exit_code(persona, events, tmp_path):
    # line 2: "bad: count("x") == "y"" -- b1 a2 d3 :4 _5 count6-10 (11 "x"12-14 )15 _16 ==17
    f = write(tmp_path, "r.txt", "ok: value > 1\nbad: count(\"x\") == \"y\"\n")
    r = seg(persona, "--rules", f, events, *MAP)
    assert r.code == 1 and r.out == ""
    assert r.err == f"persona: {f}:2:17: segment 'bad': cannot compare a number with a string\n"
    f = write(tmp_path, "r2.txt", "# comment\n\nvip:\n    value > 10 and\n    cnt(\"x\") > 1\n")
    r = seg(persona, "--rules", f, events)
    assert r.code == 1 and r.err.startswith(f"persona: {f}:5:5: ") and "'cnt'" in r.err
    assert r.err.count("\n") == 1
    f = write(tmp_path, "empty.txt", "# nothing\n")
    r = seg(persona, "--rules", f, events)
    assert r.code == 1 and r.err.startswith(f"persona: {f}:")


def test_usage_errors(persona, events, rules, tmp_path):
    r = seg(persona, events)
    assert r.code == 2 and r.err.startswith("persona: segment rules: --rules") and \
        "required" in r.err
    r = seg(persona, "--rules", str(tmp_path / "nope.txt"), events)
    assert r.code == 1 and r.err.startswith("persona: ") and "nope.txt" in r.err
    for args, needle in [
        (["--mode", "some"], "--mode wants first or all"),
        (["--now", "yesterday"], "--now"),
        (["--threads", "x"], "--threads"),
        (["--threads", "5000"], "--threads"),
        (["--context", "country"], "--context wants NAME=VALUE"),
        (["--context", "hour=24"], "--context hour"),
        (["--context", "a=1,a=2"], "'a' is given twice"),
        (["--format", "text"], "--format wants csv or json"),
        (["--explain", "u1", "--summary"], "give one"),
        (["--explain", "u1", "--format", "json"], "--explain prints plain text"),
        (["--bogus"], "unknown option '--bogus'"),
    ]:
        r = seg(persona, "--rules", rules, *args, events)
        assert r.code == 2, (args, r.err)
        assert r.err.startswith("persona: ") and needle in r.err, (args, r.err)
    r = seg(persona, events, "--rules")
    assert r.code == 2 and "option --rules needs a value" in r.err
    r = seg(persona, "--rules", rules, "--rules", rules, events)
    assert r.code == 2 and "--rules is given twice" in r.err


def test_segment_kinds(persona):
    r = persona("segment")
    assert r.code == 2 and r.err.startswith("persona: segment: which kind?")
    r = persona("segment", "bogus")
    assert r.code == 2 and "unknown kind 'bogus'" in r.err
    r = persona("segment", "kmeans", "--help")  # available: test_cli_segment_kmeans.py
    assert r.code == 0 and "usage: persona segment kmeans" in r.out
    r = persona("segment", "--help")
    assert r.code == 0 and "usage: persona segment" in r.out and "rules" in r.out
    r = persona("segment", "rules", "--help")
    assert r.code == 0 and "usage: persona segment rules" in r.out
    assert "--summary" in r.out and "--explain KEY" in r.out and "--user COL" in r.out
    assert "segment rules" in persona("--help").out


# ---- --save / -m ----------------------------------------------------------------------

def test_save_and_load_round_trip(persona, events, rules, tmp_path):
    model = str(tmp_path / "model.seg")
    keys = write(tmp_path, "keys.txt", "u4\n")
    args = ["--mode", "all", "--list", "vips=" + keys]
    saved = ok(seg(persona, "--rules", rules, *args, "--save", model, events, *MAP))
    assert os.path.getsize(model) > 0
    assert rows(saved)[1:] == ALL[:7] + [["u4", "vips"], ["u3", "recent"]]
    assert ok(seg(persona, "-m", model, events, *MAP)) == saved
    assert ok(seg(persona, "--model", model, "--mode", "all", events, *MAP)) == saved
    s1 = ok(seg(persona, "--rules", rules, *args, "--summary", events, *MAP))
    assert ok(seg(persona, "--model=" + model, "--summary", events, *MAP)) == s1
    e1 = ok(seg(persona, "--rules", rules, *args, "--explain", "u2", events, *MAP))
    assert ok(seg(persona, "-m", model, "--explain", "u2", events, *MAP)) == e1
    # the mode was fixed when the model was compiled
    r = seg(persona, "-m", model, "--mode", "first", events, *MAP)
    assert r.code == 2 and "mode is all" in r.err
    r = seg(persona, "-m", model, "--rules", rules, events, *MAP)
    assert r.code == 2 and "not both" in r.err
    r = seg(persona, "-m", str(tmp_path / "none.seg"), events)
    assert r.code == 1 and r.err.startswith("persona: ") and "none.seg" in r.err
    r = seg(persona, "-m", rules, events)                 # not a snapshot
    assert r.code == 1 and r.err.startswith("persona: ")
    # a list added to a loaded model
    more = ok(seg(persona, "-m", model, "--list", "more=" + write(tmp_path, "k2", "u3\n"),
                  events, *MAP))
    assert rows(more)[-1] == ["u3", "more"] and rows(more)[:-1] == rows(saved)


def test_store_snapshot_input(persona, events, rules, tmp_path):
    snap = str(tmp_path / "s.snap")
    assert persona("stats", events, *MAP, "--save", snap).code == 0
    assert ok(seg(persona, "--rules", rules, "--store", snap)) == \
        ok(seg(persona, "--rules", rules, events, *MAP))


# ---- threads --------------------------------------------------------------------------

def test_threads_do_not_change_the_answer(persona, tmp_path):
    # 2,500 users (more than 1,024, so the scan is split): user i has i % 5 buys of value
    # i % 50 each, on the first days of 2024; "many" = 3+ buys, "rich" = value > 100.
    lines = ["user_id,timestamp,event,value"]
    expect_first, expect_all = [], []
    for i in range(2500):
        u = f"c{i:04d}"
        n = i % 5
        for k in range(n):
            lines.append(f"{u},2024-01-{1 + k:02d}T{i % 24:02d}:00:00Z,buy,{i % 50}")
        if n == 0:
            lines.append(f"{u},2024-01-01T00:00:00Z,view,")
        many, rich = n >= 3, n * (i % 50) > 100
        segs = [s for s, yes in (("many", many), ("rich", rich)) if yes]
        expect_all += [[u, s] for s in segs]
        expect_first += [[u, s] for s in segs[:1]]
    f = write(tmp_path, "many.csv", "\n".join(lines) + "\n")
    r = write(tmp_path, "r.txt", "many: count(\"buy\") >= 3\nrich: value > 100\n")
    outs = {}
    for mode in ("first", "all"):
        for t in ("1", "2", "3", "0"):
            outs[mode, t] = ok(seg(persona, "--rules", r, "--mode", mode, "--threads", t, f,
                                   "--value", "value"))
        assert len({outs[mode, t] for t in ("1", "2", "3", "0")}) == 1, mode
    # the rows come in user order: the store numbers users by first appearance, and
    # c0000 ... c2499 first appear in that order
    assert rows(outs["first", "1"])[1:] == expect_first
    assert rows(outs["all", "2"])[1:] == expect_all
    s1 = ok(seg(persona, "--rules", r, "--summary", "--threads", "1", f, "--value", "value"))
    s2 = ok(seg(persona, "--rules", r, "--summary", "--threads", "2", f, "--value", "value"))
    assert s1 == s2
    assert rows(s1)[1][:2] == ["many", str(sum(1 for x in expect_first if x[1] == "many"))]


# ---- the bundled sample ---------------------------------------------------------------

SAMPLE = os.path.join(ROOT, "examples", "data", "online_retail_sample.csv")
SAMPLE_RULES = (
    "big: value > 5000\n"
    "regular: orders >= 10\n"
    "uk: last(\"country\") == \"United Kingdom\"\n"
)


def sample_expected():
    """Independent answer: per CustomerID (rows without one are rejected by the store),
    value = sum of Quantity*UnitPrice, orders = distinct InvoiceNo, country of the latest
    row (ties by file order); users in order of first appearance."""
    users, order = {}, []
    with open(SAMPLE, newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            k = row["CustomerID"]
            if not k:
                continue
            if k not in users:
                users[k] = {"value": 0.0, "orders": set(), "last": None}
                order.append(k)
            u = users[k]
            u["value"] += float(row["Quantity"]) * float(row["UnitPrice"])
            u["orders"].add(row["InvoiceNo"])
            key = (row["InvoiceDate"], i)
            if u["last"] is None or key > u["last"][0]:
                u["last"] = (key, row["Country"])
    out = []
    for k in order:
        u = users[k]
        segs = [s for s, yes in (("big", u["value"] > 5000), ("regular", len(u["orders"]) >= 10),
                                 ("uk", u["last"][1] == "United Kingdom")) if yes]
        out.append((k, segs))
    return out


@pytest.fixture
def sample_rules(tmp_path):
    return write(tmp_path, "sample_rules.txt", SAMPLE_RULES)


def test_sample_memberships(persona, sample_rules):
    exp = sample_expected()
    out_all = ok(seg(persona, "--rules", sample_rules, "--mode", "all"))
    assert rows(out_all)[1:] == [[k, s] for k, segs in exp for s in segs]
    out_first = ok(seg(persona, "--rules", sample_rules))
    assert rows(out_first)[1:] == [[k, segs[0]] for k, segs in exp if segs]
    assert ok(seg(persona, "--rules", sample_rules, "--threads", "2")) == out_first


def test_sample_summary(persona, sample_rules):
    exp = sample_expected()
    n = len(exp)
    users = persona("stats", "--format", "json")
    assert json.loads(users.out)["users"] == n
    for mode in ("first", "all"):
        out = ok(seg(persona, "--rules", sample_rules, "--mode", mode, "--summary"))
        table = rows(out)
        assert table[0] == ["segment", "users", "share"]
        want = {}
        for _, segs in exp:
            for s in (segs[:1] if mode == "first" else segs):
                want[s] = want.get(s, 0) + 1
        none = sum(1 for _, segs in exp if not segs)
        assert [r[0] for r in table[1:]] == ["big", "regular", "uk", "(none)"]
        for name, count, share in table[1:]:
            c = none if name == "(none)" else want.get(name, 0)
            assert int(count) == c, (mode, name)
            assert float(share) == c / n, (mode, name)
        if mode == "first":
            assert sum(int(r[1]) for r in table[1:]) == n
        assert none > 0 and want["uk"] > want["big"] > 0


def test_sample_explain(persona, sample_rules):
    exp = dict(sample_expected())
    key = next(k for k, segs in exp.items() if segs and segs[0] == "regular")
    out = ok(seg(persona, "--rules", sample_rules, "--explain", key))
    lines = out.splitlines()
    assert lines[0] == "big: no" and lines[1].startswith("  value > 5000 is false (value = ")
    assert "regular: yes" in lines
    assert any(line.startswith("  orders >= 10 is true (orders = ") for line in lines)
    assert any(line.startswith("uk: not reached") for line in lines)
