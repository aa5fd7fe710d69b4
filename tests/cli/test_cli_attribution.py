"""persona attribution: the hand-worked loop set of tests/unit/attribution/test_attribution.c
as a CSV of events (every model, Markov orders 1 and 2, JSON output), saved journeys, and
usage errors (order 0 and 5, bad weights, unknown model, missing flags)."""
import csv
import io
import json

import pytest

EVENTS = '''user,time,event,campaign,value
u1,2024-01-01T00:00:01Z,visit,A,
u1,2024-01-01T00:00:02Z,visit,B,
u1,2024-01-01T00:00:03Z,purchase,,10
u1,2024-01-01T00:00:04Z,visit,A,
u1,2024-01-01T00:00:05Z,visit,A,
u2,2024-01-01T00:00:01Z,visit,C,
u2,2024-01-01T00:00:02Z,purchase,,20
u3,2024-01-01T00:00:01Z,visit,B,
u3,2024-01-01T00:00:02Z,visit,"C, ""quoted""",
u4,2024-01-01T00:00:09Z,purchase,,5
'''
MAPPING = ["--user", "user", "--time", "time", "--event", "event", "--value", "value",
           "--channel", "campaign", "--conversion", "purchase"]


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS)
    return str(path)


def table(text):
    return {r["channel"]: r for r in csv.DictReader(io.StringIO(text))}


def test_models(persona, events):
    # u3's C is another channel here ("C, \"quoted\""), only in a null journey
    r = persona("attribution", *MAPPING, events)
    assert r.code == 0, r.err
    t = table(r.out)
    assert list(t) == ["A", "B", "C", 'C, "quoted"']
    assert r.out.splitlines()[0] == \
        "channel,conversions,value,share,removal_effect,removal_effect_value"
    total = sum(float(x["conversions"]) for x in t.values())
    assert total == pytest.approx(2)  # u4's conversion has no touchpoint: not attributed
    r = persona("attribution", *MAPPING, "--model", "last", events)
    assert r.out.splitlines()[0] == "channel,conversions,value,share"
    t = table(r.out)
    assert float(t["B"]["conversions"]) == 1 and float(t["C"]["value"]) == 20
    assert float(t["B"]["share"]) == 0.5
    r = persona("attribution", *MAPPING, "--model", "position", "--weights", "0.3,0.1,0.6",
                "--format", "json", events)
    rows = {x["channel"]: x for x in json.loads(r.out)}
    assert rows["A"]["conversions"] == pytest.approx(0.35)
    assert rows["B"]["value"] == pytest.approx(6.5)


def test_saved_journeys(persona, events, tmp_path):
    snap = str(tmp_path / "j.snap")
    a = persona("attribution", *MAPPING, "--order", "2", "--save-journeys", snap, events)
    assert a.code == 0, a.err
    b = persona("attribution", "--journeys", snap, "--order", "2")
    assert b.code == 0, b.err
    assert b.out == a.out
    c = persona("attribution", "--journeys", snap, "--channel", "x")
    assert c.code == 2 and "fixed when they were built" in c.err


@pytest.mark.parametrize("args,phrase", [
    (["--order", "0"], "order 1 to 4"),
    (["--order", "5"], "order 1 to 4"),
    (["--model", "shapley"], "--model wants"),
    (["--model", "position", "--weights", "0.5,0.5,0.5"], "sum 1"),
    (["--model", "position", "--weights", "0.5,x"], "--weights wants"),
    (["--half-life", "-1"], "--half-life wants"),
])
def test_usage_errors(persona, events, args, phrase):
    r = persona("attribution", *MAPPING, *args, events)
    assert r.code == 2, (r.out, r.err)
    assert phrase in r.err


def test_required(persona, events):
    r = persona("attribution", "--conversion", "purchase", events)
    assert r.code == 2 and "--channel PROP and --conversion EVENT are required" in r.err
    assert persona("attribution", "--help").code == 0
