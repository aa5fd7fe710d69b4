"""The persona CLI contract (shared/docs/CLI.md): exit codes, errors, formats, mapping flags.
Expected outputs are worked out by hand from the small inputs written here."""
import csv
import io
import json
import os

from conftest import ROOT

EVENTS = (
    "user_id,timestamp,event,value\n"
    "7,2023-01-01 10:00:00,view,\n"
    "7,2023-01-01 10:05:00,buy,12.5\n"
    "10,2023-01-02 00:00:00,view,\n"
    ",2023-01-02 00:00:00,view,\n"          # line 5: missing user
    "8,2023-13-02 00:00:00,view,\n"         # line 6: bad time
    "8,2023-01-02 00:00:00,view,abc\n"      # line 7: bad number
    "8,2023-01-02 00:00:00,view\n"          # line 8: field count
    "9,2023-01-03 00:00:00.250,buy,-2.5\n"
)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_version(persona):
    r = persona("version")
    assert r.code == 0 and r.out.startswith("persona 1.0.0 (libpersona 1.0.0, openmp=")


def test_help_everywhere(persona):
    assert persona("--help").code == 0
    for cmd in ("version", "stats", "profiles", "profile"):
        r = persona(cmd, "--help")
        assert r.code == 0 and f"usage: persona {cmd}" in r.out


def test_usage_errors(persona):
    r = persona()
    assert r.code == 2 and "usage: persona" in r.err
    r = persona("frobnicate")
    assert r.code == 2 and r.err.startswith("persona: unknown command 'frobnicate'")
    r = persona("stats", "--bogus")
    assert r.code == 2 and "unknown option '--bogus'" in r.err
    r = persona("stats", "--user")
    assert r.code == 2 and "needs a value" in r.err
    r = persona("stats", "--format", "xml")
    assert r.code == 2 and "--format wants csv, json or text" in r.err
    r = persona("profile")
    assert r.code == 2 and "which user?" in r.err


def test_missing_file_is_runtime_error(persona, tmp_path):
    r = persona("stats", str(tmp_path / "nope.csv"))
    assert r.code == 1 and r.err.startswith("persona: ") and "nope.csv" in r.err
    assert r.err.count("\n") == 1


def test_missing_column_lists_header(persona, tmp_path):
    f = write(tmp_path, "e.csv", EVENTS)
    r = persona("stats", f, "--user", "CustomerID")
    assert r.code == 2
    assert "user column 'CustomerID' is not in the header (columns: user_id, timestamp, event, value)" in r.err


def test_stats_counts_bad_rows_by_reason(persona, tmp_path):
    f = write(tmp_path, "e.csv", EVENTS)
    r = persona("stats", f, "--format", "json")
    assert r.code == 0, r.err
    assert r.err == ""  # no progress on a pipe
    s = json.loads(r.out)
    assert s["rows_read"] == 8 and s["events_accepted"] == 4 and s["events_rejected"] == 4
    assert s["rejected_missing_user"] == 1 and s["rejected_bad_time"] == 1
    assert s["rejected_bad_number"] == 1 and s["rejected_field_count"] == 1
    assert s["rejected_examples"] == {"missing_user": [5], "bad_time": [6], "bad_number": [7],
                                      "field_count": [8]}
    assert s["users"] == 3 and s["event_types"] == 2
    assert s["first_time"] == "2023-01-01 10:00:00" and s["last_time"] == "2023-01-03 00:00:00.250"
    text = persona("stats", f).out
    assert "rejected_bad_time          1  (lines 6)\n" in text
    rows = list(csv.reader(io.StringIO(persona("stats", f, "--format", "csv").out)))
    assert rows[0] == ["metric", "value"] and ["events_accepted", "4"] in rows


def test_profiles_exact(persona, tmp_path):
    f = write(tmp_path, "e.csv", EVENTS)
    r = persona("profiles", f)
    assert r.code == 0, r.err
    assert r.out == (
        "user_id,events,buy,view,value_sum,first_ts,last_ts\n"
        "7,2,1,1,12.5,2023-01-01 10:00:00,2023-01-01 10:05:00\n"
        "9,1,1,0,-2.5,2023-01-03 00:00:00.250,2023-01-03 00:00:00.250\n"
        "10,1,0,1,0,2023-01-02 00:00:00,2023-01-02 00:00:00\n")
    out = tmp_path / "p.csv"
    assert persona("profiles", f, "-o", str(out)).code == 0
    assert out.read_text() == r.out


def test_strict_names_the_line(persona, tmp_path):
    f = write(tmp_path, "e.csv", EVENTS)
    r = persona("stats", f, "--strict")
    assert r.code == 1 and "line 5" in r.err and "missing_user" in r.err


def test_stdin_and_jsonl(persona, tmp_path):
    r = persona("profiles", "-", stdin=EVENTS)
    assert r.code == 0 and r.out.splitlines()[1].startswith("7,2,1,1,12.5")
    jl = ('{"uid": "a", "ts": 1672567200000, "type": "view", "cat": "shoes"}\n'
          '\n'
          '{"uid": "a", "ts": "2023-01-01T10:30:00Z", "type": "buy", "amount": 3}\n'
          '{"uid": "b", "ts": 1672567200, "type": "view"}\n'
          'not json\n')
    f = write(tmp_path, "e.jsonl", jl)
    r = persona("stats", f, "--user", "uid", "--time", "ts", "--event", "type", "--value", "amount",
                "--prop", "category=cat", "--format", "json")
    assert r.code == 0, r.err
    s = json.loads(r.out)
    assert s["events_accepted"] == 3 and s["rejected_bad_json"] == 1
    assert s["rejected_examples"]["bad_json"] == [5]
    person = json.loads(persona("profile", "a", f, "--user", "uid", "--time", "ts", "--event",
                                "type", "--value", "amount", "--prop", "category=cat").out)
    assert person["format"] == "persona-person-1"
    assert person["events"] == [
        {"time": "2023-01-01 10:00:00", "type": "view", "props": {"category": "shoes"}},
        {"time": "2023-01-01 10:30:00", "type": "buy", "value": 3}]
    p = person["profile"]
    assert p["events"] == 2 and p["value_sum"] == 3 and p["first_seen"] == "2023-01-01 10:00:00"
    # one shoes event 30 minutes before the last event, half-life 30 days: 2^(-1/1440)
    assert abs(p["engagement"]["shoes"] - 2 ** (-1 / 1440)) < 1e-12


def test_delimiter_and_product(persona, tmp_path):
    f = write(tmp_path, "e.csv", "c;d;q;p\nx;2021-03-04 05:06:07;3;1.1\nx;2021-03-04 05:06:08;2;0.45\n")
    r = persona("profiles", f, "--delimiter", ";", "--user", "c", "--time", "d",
                "--value", "q*p", "--event-const", "purchase")
    assert r.code == 0, r.err
    assert r.out.splitlines()[1] == "x,2,2,4.2,2021-03-04 05:06:07,2021-03-04 05:06:08"


def test_bundled_sample(persona):
    """With no FILE the sample is used; its counts are recomputed here with the csv module."""
    path = os.path.join(ROOT, "examples", "data", "online_retail_sample.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with_user = [r for r in rows if r["CustomerID"]]
    r = persona("stats", "--format", "json")
    assert r.code == 0, r.err
    s = json.loads(r.out)
    assert s["rows_read"] == len(rows)
    assert s["events_accepted"] == len(with_user)
    assert s["rejected_missing_user"] == len(rows) - len(with_user)
    assert s["users"] == len({r["CustomerID"] for r in with_user})
    assert s["items"] == len({r["StockCode"] for r in with_user})


def test_save_then_reuse_the_store(persona, tmp_path):
    f = write(tmp_path, "e.csv", EVENTS)
    snap = str(tmp_path / "s.snap")
    first = persona("profiles", f, "--save", snap)
    assert first.code == 0, first.err
    again = persona("profiles", "--store", snap)       # nothing ingested: the saved store
    assert again.code == 0, again.err
    assert again.out == first.out
    assert '"user_id":"7"' in persona("profile", "7", "--store", snap).out
    # a store plus a file: the file is added (its events again, so counts double)
    more = persona("stats", "--store", snap, f, "--save", snap, "--format", "json")
    assert more.code == 0, more.err
    assert persona("profiles", "--store", snap).out.splitlines()[1].startswith("7,4,2,2,25,")
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_damaged_or_missing_store_is_runtime_error(persona, tmp_path):
    snap = tmp_path / "s.snap"
    assert persona("stats", "--save", str(snap), write(tmp_path, "e.csv", EVENTS)).code == 0
    data = bytearray(snap.read_bytes())
    data[200] ^= 1
    snap.write_bytes(bytes(data))
    r = persona("profiles", "--store", str(snap))
    assert r.code == 1 and r.err.startswith("persona: ") and "s.snap" in r.err
    r = persona("profiles", "--store", str(tmp_path / "none.snap"))
    assert r.code == 1 and "none.snap" in r.err
    r = persona("profiles", "--save", str(tmp_path / "no-dir" / "x.snap"), str(tmp_path / "e.csv"))
    assert r.code == 1 and "no-dir" in r.err


def test_erase_from_a_saved_store(persona, tmp_path):
    snap = str(tmp_path / "s.snap")
    assert persona("stats", "--save", snap, write(tmp_path, "e.csv", EVENTS)).code == 0
    r = persona("erase", "7", "--store", snap)
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"events": 2, "identifiers": 1, "attributes": 0,
                                 "consents": 0, "stale_models": 0}
    profiles = persona("profiles", "--store", snap).out
    assert "\n7," not in profiles and profiles.count("\n") == 3   # header + users 9 and 10
    r = persona("erase", "7", "--store", snap)
    assert r.code == 1 and "no user" in r.err
    assert persona("erase", "7").code == 2                          # --store is required
    assert persona("erase", "--help").code == 0


def test_consent_and_do_not_track_in_a_saved_store(persona, tmp_path):
    snap = str(tmp_path / "s.snap")
    f = write(tmp_path, "e.csv", EVENTS)
    assert persona("stats", "--save", snap, f).code == 0
    r = persona("consent", "7", "--purpose", 'mark"eting', "--grant", "no",
                "--at", "2024-05-01T12:00:00Z", "--store", snap)
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"purpose": 'mark"eting', "granted": False,
                                 "time": "2024-05-01 12:00:00"}
    person = json.loads(persona("profile", "7", "--store", snap).out)
    assert person["profile"]["consent"] == {'mark"eting': {"granted": False,
                                                           "time": "2024-05-01 12:00:00"}}
    r = persona("consent", "9", "--tracking", "off", "--store", snap)
    assert r.code == 0 and json.loads(r.out) == {"tracking": False}
    s = json.loads(persona("stats", "--store", snap, f, "--format", "json").out)
    assert s["rejected_suppressed"] == 1 and s["events_accepted"] == 3
    assert persona("consent", "7", "--store", snap).code == 2            # nothing to record
    assert persona("consent", "7", "--purpose", "x", "--grant", "maybe",
                   "--store", snap).code == 2
    assert persona("consent", "7", "--purpose", "x", "--grant", "yes", "--at", "soon",
                   "--store", snap).code == 2
