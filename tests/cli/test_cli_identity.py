"""persona alias / unmerge / merge-log on a saved store (include/persona/identity.h, "The
identity graph of a store"). Expected values are worked out by hand from the small input
below, or taken from a reference store in which the two users were one key from the start."""
import json

EVENTS = (
    "user_id,timestamp,event,value,country\n"
    "7,2023-01-01 10:00:00,view,,FR\n"
    "9,2023-01-01 10:02:00,view,,DE\n"
    "7,2023-01-01 10:05:00,buy,12.5,FR\n"
    "10,2023-01-02 00:00:00,view,,UK\n"
    "9,2023-01-03 00:00:00,buy,-2.5,DE\n"
)
MAPPING = ["--prop", "country=country"]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def make_store(persona, tmp_path, text=EVENTS, name="s.snap"):
    snap = str(tmp_path / name)
    r = persona("stats", "--save", snap, write(tmp_path, name + ".csv", text), *MAPPING)
    assert r.code == 0, r.err
    return snap


def person(persona, key, snap):
    r = persona("profile", key, "--store", snap)
    assert r.code == 0, r.err
    return json.loads(r.out)


def merge_log(persona, snap, *key):
    r = persona("merge-log", "--store", snap, *key)
    assert r.code == 0, r.err
    assert r.out.endswith("\n") and r.out.count("\n") == 1
    return json.loads(r.out)


def test_help_and_usage(persona):
    top = persona("--help").out
    for cmd in ("alias", "unmerge", "merge-log"):
        assert f"  {cmd} " in top
        r = persona(cmd, "--help")
        assert r.code == 0 and r.out.startswith(f"usage: persona {cmd}"), r.out
    assert "TYPE:VALUE" in persona("alias", "--help").out
    assert "TYPE:VALUE" in persona("unmerge", "--help").out


def test_alias_merges_and_unmerge_restores(persona, tmp_path):
    snap = make_store(persona, tmp_path)
    before_profiles = persona("profiles", "--store", snap).out
    before = {k: person(persona, k, snap) for k in ("7", "9", "10")}
    assert before["7"]["profile"]["events"] == 2 and before["9"]["profile"]["events"] == 2

    r = persona("alias", "--store", snap, "--source", "login", "--at", "2024-05-01T12:00:00Z",
                "7", "key:9")
    assert r.code == 0, r.err
    assert r.out.count("\n") == 1
    assert json.loads(r.out) == {"outcome": "merged", "merged": 1, "added": 0, "same": 0,
                                 "blocked": 0, "events_replayed": 4}

    # Both keys reach one profile holding the events of both, in arrival order, with the
    # traits of a store in which user 9 had been user 7 from the start.
    merged = person(persona, "7", snap)
    assert person(persona, "9", snap) == merged
    assert [(e["time"], e["type"]) for e in merged["events"]] == [
        ("2023-01-01 10:00:00", "view"), ("2023-01-01 10:02:00", "view"),
        ("2023-01-01 10:05:00", "buy"), ("2023-01-03 00:00:00", "buy")]
    p = merged["profile"]
    assert p["events"] == 4 and p["value_sum"] == 10
    assert p["first_seen"] == "2023-01-01 10:00:00" and p["last_seen"] == "2023-01-03 00:00:00"
    ref_snap = make_store(persona, tmp_path, EVENTS.replace("\n9,", "\n7,"), "ref.snap")
    ref = person(persona, "7", ref_snap)
    assert merged["events"] == ref["events"]
    for k, v in ref["profile"].items():
        if k != "user_id":
            assert p.get(k) == v, k
    assert sorted((i["type"], i["id"]) for i in p["identifiers"]) == [("key", "7"), ("key", "9")]
    assert person(persona, "10", snap) == before["10"]          # untouched

    log = merge_log(persona, snap)
    assert len(log) == 1
    e = log[0]
    assert e["time"] == "2024-05-01 12:00:00" and e["source"] == "login"
    assert e["outcome"] == "merged" and "undone" not in e
    assert {(e["a"]["type"], e["a"]["id"]), (e["b"]["type"], e["b"]["id"])} == {
        ("key", "7"), ("key", "9")}
    assert merge_log(persona, snap, "9") == log                  # the profile's links
    assert merged["merge_log"] == log                            # also in the access export
    assert merge_log(persona, snap, "10") == []                  # a profile without links
    r = persona("alias", "--store", snap, "9", "7")              # again: nothing to do
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"outcome": "same", "merged": 0, "added": 0, "same": 1,
                                 "blocked": 0, "events_replayed": 0}

    r = persona("unmerge", "9", "--store", snap)
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"parts": 2}
    # each part is exactly what it was before the link
    assert persona("profiles", "--store", snap).out == before_profiles
    log = merge_log(persona, snap)
    assert len(log) == 2 and all(e.get("undone") is True for e in log)
    for k in ("7", "9", "10"):
        now = person(persona, k, snap)
        assert now.pop("merge_log", []) == (log if k != "10" else []), k  # kept, undone
        assert now == before[k], k
    assert [e["outcome"] for e in log] == ["merged", "same"]
    assert log[0]["seq"] < log[1]["seq"]

    r = persona("unmerge", "10", "--store", snap)                # no links: one part
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"parts": 1}
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_save_elsewhere_leaves_the_store(persona, tmp_path):
    snap = make_store(persona, tmp_path)
    original = open(snap, "rb").read()
    other = str(tmp_path / "other.snap")
    r = persona("alias", "7", "9", "--store", snap, "--save", other)
    assert r.code == 0, r.err
    assert open(snap, "rb").read() == original
    assert person(persona, "9", other)["profile"]["events"] == 4
    assert person(persona, "9", snap)["profile"]["events"] == 2
    assert merge_log(persona, snap) == [] and len(merge_log(persona, other)) == 1
    third = str(tmp_path / "third.snap")
    r = persona("unmerge", "7", "--store", other, "--save", third)
    assert r.code == 0 and json.loads(r.out) == {"parts": 2}, r.err
    assert person(persona, "9", other)["profile"]["events"] == 4
    assert person(persona, "9", third)["profile"]["events"] == 2


def test_identifier_types_and_guards(persona, tmp_path):
    snap = make_store(persona, tmp_path)
    # a new email joins 7's profile, which is then named after it (email outranks key)
    r = persona("alias", "--store", snap, "7", "email: Ann@Example.ORG ", "--source", "crm")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    out.pop("events_replayed")               # the profile's own events may be replayed
    assert out == {"outcome": "added", "merged": 0, "added": 1, "same": 0, "blocked": 0}
    assert person(persona, "ann@example.org", snap) == person(persona, "7", snap)
    # a second email for the same profile: the per-type limit (one email) blocks it
    r = persona("alias", "--store", snap, "key:7", "email:bob@example.org")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out.pop("blocked_type") in ("email", "key")   # the type of the blocked link
    assert out == {"outcome": "blocked-limit", "merged": 0, "added": 0, "same": 0,
                   "blocked": 1, "events_replayed": 0}
    # a placeholder value is never linked
    r = persona("alias", "--store", snap, "10", "cookie:undefined")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["outcome"] == "blocked-value" and out["blocked"] == 1
    assert out["blocked_type"] == "cookie"
    # a host type, a national phone number with a country code
    r = persona("alias", "--store", snap, "10", "100:device-1", "phone:06 12 34 56 78",
                "--country", "33")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["added"] == 2 and out["blocked"] == 0 and out["outcome"] == "added"
    log = merge_log(persona, snap)
    assert [e["outcome"] for e in log] == ["added", "blocked-limit", "blocked-value",
                                           "added", "added"]
    assert log[0]["source"] == "crm" and log[1]["source"] is None
    assert log[1]["limit_type"] == "email"
    ids = {(s["type"], s["id"]) for e in log for s in (e["a"], e["b"])}
    assert {("email", "ann@example.org"), ("email", "bob@example.org"), ("100", "device-1"),
            ("phone", "+33612345678"), ("cookie", "undefined")} <= {
        (str(t), i) for t, i in ids}
    # either side an identifier of the profile: 10's blocked link is one of its links too
    assert [e["outcome"] for e in merge_log(persona, snap, "+33612345678")] == [
        "blocked-value", "added", "added"]
    assert len(merge_log(persona, snap, "ann@example.org")) == 2


def test_bad_identifiers_are_usage_errors(persona, tmp_path):
    snap = make_store(persona, tmp_path)
    original = open(snap, "rb").read()
    cases = [
        (["fax:123", "7"], "unknown type 'fax'"),
        (["7", "email:"], "'email:' has no value"),
        (["7", ":x"], "unknown type ''"),
        (["7", "5:x"], "type 5 is not a host type"),
        (["7", ""], "empty identifier"),
        (["7", "email:not-an-address"], ""),      # refused by the library's normalization
        (["7", "phone:06 12 34 56 78"], ""),      # national, and the store has no country code
    ]
    for ids, msg in cases:
        r = persona("alias", "--store", snap, *ids)
        assert r.code == 2, (ids, r.code, r.err)
        assert r.err.startswith("persona: alias: ") and msg in r.err, (ids, r.err)
        assert r.err.count("\n") == 1 and r.out == ""
    r = persona("alias", "--store", snap, "7", "9", "--at", "soon")
    assert r.code == 2 and "--at" in r.err
    r = persona("alias", "--store", snap, "7", "9", "--country", "+33x")
    assert r.code == 2 and "--country" in r.err
    assert persona("alias", "--store", snap, "7").code == 2          # one identifier
    assert persona("alias", "7", "9").code == 2                      # no --store
    assert persona("alias", "--store", snap, "7", "9", "--bogus", "x").code == 2
    r = persona("unmerge", "fax:1", "--store", snap)
    assert r.code == 2 and r.err.startswith("persona: unmerge: ") and "unknown type 'fax'" in r.err
    assert persona("unmerge", "--store", snap).code == 2
    assert persona("unmerge", "7").code == 2
    assert persona("unmerge", "7", "9", "--store", snap).code == 2
    assert persona("merge-log").code == 2
    assert persona("merge-log", "--store", snap, "7", "9").code == 2
    assert open(snap, "rb").read() == original                   # nothing was saved


def test_not_found_is_a_runtime_error(persona, tmp_path):
    snap = make_store(persona, tmp_path)
    original = open(snap, "rb").read()
    r = persona("unmerge", "nobody", "--store", snap)
    assert r.code == 1 and r.err.startswith("persona: unmerge: ") and r.err.count("\n") == 1
    assert "nobody" in r.err
    r = persona("unmerge", "email:nobody@example.org", "--store", snap)
    assert r.code == 1 and "nobody@example.org" in r.err
    r = persona("merge-log", "nobody", "--store", snap)
    assert r.code == 1 and r.err.startswith("persona: merge-log: ") and "nobody" in r.err
    assert open(snap, "rb").read() == original
    r = persona("alias", "7", "9", "--store", str(tmp_path / "none.snap"))
    assert r.code == 1 and "none.snap" in r.err
    r = persona("merge-log", "--store", str(tmp_path / "none.snap"))
    assert r.code == 1 and "none.snap" in r.err


def test_identify_and_consent_rows_in_a_csv(persona, tmp_path):
    """--identify and --consent-event make rows of those event types link identifiers and
    set consent while loading; bad ones are counted by reason; the rules stay in the store."""
    rows = (
        "user_id,timestamp,event,value,email,purpose,granted\n"
        "c1,2023-01-01 10:00:00,view,3,,,\n"
        "c1,2023-01-01 10:01:00,identify,,Ann@X.org,,\n"
        "c2,2023-01-01 10:02:00,identify,,ann@x.org,,\n"
        "c2,2023-01-01 10:03:00,consent,,,marketing,yes\n"
        "c2,2023-01-01 10:04:00,identify,,not-an-email,,\n"
        "c2,2023-01-01 10:05:00,consent,,,marketing,maybe\n"
    )
    snap = str(tmp_path / "rules.snap")
    r = persona("stats", "--format", "json", "--save", snap, write(tmp_path, "r.csv", rows),
                "--prop", "email=email", "--prop", "purpose=purpose", "--prop", "granted=granted",
                "--identify", "identify=email:email",
                "--consent-event", "consent=purpose:granted")
    assert r.code == 0, r.err
    assert '"bad_identifier"' in r.out and '"bad_consent"' in r.out, r.out
    p = person(persona, "c2", snap)["profile"]
    assert p["user_id"] == "ann@x.org" and p["events"] == 4
    assert p["consent"]["marketing"]["granted"] is True
    assert [e["source"] for e in merge_log(persona, snap)] == ["event:identify"] * 2
    r = persona("stats", "--identify", "identify", write(tmp_path, "x.csv", rows))
    assert r.code == 2 and "--identify wants EVENT=TYPE:PROPERTY" in r.err
    r = persona("stats", "--consent-event", "consent=purpose", write(tmp_path, "y.csv", rows))
    assert r.code == 2 and "--consent-event wants" in r.err
