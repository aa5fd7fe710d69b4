"""Rule segments (persona.Rules, Store.segments_of). Every expected membership below is
worked out by hand from docs/rules.md on the small store of this file."""
import datetime as dt
import gc
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest

import persona
from persona import segment as segment_module

UTC = dt.timezone.utc
M = 60_000
H = 60 * M
DAY = 24 * H
D0 = int(dt.datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)  # 2024-03-01 00:00 UTC


def day(n, hours=0, minutes=0):
    return D0 + n * DAY + hours * H + minutes * M


def ev(user, type, time, **fields):
    return {"user": user, "type": type, "time": time, **fields}


RULES = """
# segments in order; in first mode a user gets the first that holds
vip:       value > 1000 and orders >= 3
abandoner: sequence("view" -> "cart" -> not "purchase", within 1d)
lapsing:   stopped("purchase", 14d) and consent("marketing")
runner:    pref.topic == "running" or last("category") == "running"
night:     ctx.hour between 0 and 5 and plan in ["pro", "team"]
"german":  ctx.country == "DE"
"""
NAMES = ["vip", "abandoner", "lapsing", "runner", "night", "german"]

# The store's clock is its latest event: cy's view at day 30 00:00 (2024-03-31).
#   ann  purchases day 1 (400, o1), day 10 (500, o2), day 20 (300, o3): value 1200,
#        3 orders -> vip. Marketing consent, but a purchase on day 20 is inside the last
#        14 days -> not lapsing.
#   bob  purchase day 2 (50, o4): none in (day 16, day 30], one before -> stopped; consent
#        granted -> lapsing. View day 29 10:00, cart 10:05, no purchase after, inside
#        (day 29, day 30] -> abandoner. plan "pro".
#   cy   purchase day 5 (20, o5); consent granted day 0, withdrawn day 6 -> not lapsing.
#        View day 30 with category "running" -> runner (last("category")).
#   eve  view day 29 12:00, cart 12:05, purchase 12:10 (10, o6) -> the purchase after
#        the cart breaks the sequence; a purchase within 14 days -> not lapsing. Nothing.
#   dee  no events; attributes pref.topic = "running" (-> runner) and plan "team".
EVENTS = [
    ev("ann", "purchase", day(1), value=400.0, basket="o1"),
    ev("ann", "purchase", day(10), value=500.0, basket="o2"),
    ev("ann", "purchase", day(20), value=300.0, basket="o3"),
    ev("bob", "purchase", day(2), value=50.0, basket="o4"),
    ev("bob", "view", day(29, 10)),
    ev("bob", "cart", day(29, 10, 5)),
    ev("cy", "purchase", day(5), value=20.0, basket="o5"),
    ev("cy", "view", day(30), props={"category": "running"}),
    ev("eve", "view", day(29, 12)),
    ev("eve", "cart", day(29, 12, 5)),
    ev("eve", "purchase", day(29, 12, 10), value=10.0, basket="o6"),
]
USERS = ["ann", "bob", "cy", "eve", "dee"]  # order of first appearance

FIRST = {"ann": ["vip"], "bob": ["abandoner"], "cy": ["runner"], "eve": [],
         "dee": ["runner"]}
ALL = {"ann": ["vip"], "bob": ["abandoner", "lapsing"], "cy": ["runner"], "eve": [],
       "dee": ["runner"]}
# hour=3: night for the users with plan pro or team (bob, dee).
ALL_AT_3 = {"ann": ["vip"], "bob": ["abandoner", "lapsing", "night"], "cy": ["runner"],
            "eve": [], "dee": ["runner", "night"]}
# As of 2024-03-26 00:00 (day 25): ann already has her 3 orders -> vip; bob's view and
# cart are in the future -> not abandoner, but his day-2 purchase is before (day 11, day
# 25] -> lapsing; cy's running view is in the future -> not runner; dee keeps her
# preference.
ALL_AT_DAY_25 = {"ann": ["vip"], "bob": ["lapsing"], "cy": [], "eve": [], "dee": ["runner"]}


@pytest.fixture
def shop():
    with persona.Store() as store:
        store.ingest(EVENTS)
        for user in ("ann", "bob", "cy"):
            store.set_consent(user, "marketing", True, day(0))
        store.set_consent("cy", "marketing", False, day(6))
        store.set_attr("bob", "plan", "pro")
        store.set_attr("dee", "plan", "team")
        store.set_attr("dee", "pref.topic", "running")
        yield store


@pytest.fixture
def first():
    with persona.Rules(RULES) as rules:
        yield rules


@pytest.fixture
def every():
    with persona.Rules(RULES, mode="all") as rules:
        yield rules


def assignments(rules, store, users=USERS, **kw):
    return {u: rules.assign(store, u, **kw) for u in users}


# --------------------------------------------------------------------------- the set

def test_compiled_shape(first, every):
    assert first.names == NAMES and list(first) == NAMES
    assert len(first) == 6
    assert first.mode == "first" and every.mode == "all"
    assert first.rule("vip") == "value > 1000 and orders >= 3"
    assert first.rule("german") == 'ctx.country == "DE"'  # a quoted name
    assert first.index("lapsing") == 2
    assert "runner" in first and "nobody" not in first and 3 not in first
    assert repr(first) == "<persona.Rules first: vip, abandoner, lapsing, runner, night, ...>"
    with pytest.raises(KeyError, match="no segment named 'nobody'"):
        first.rule("nobody")


def test_empty_set_built_step_by_step(shop):
    rules = persona.Rules(mode="all")
    assert len(rules) == 0 and rules.names == [] and rules.mode == "all"
    assert rules.assign(shop, "ann") == []
    assert rules.counts(shop) == {None: 5}
    rules.add("big", "value >= 400")
    rules.add("loyal", 'in_segment("big") and orders >= 3')  # names an earlier segment
    rules.add_list("team", ["bob", "dee", "bob", "nobody"])
    assert rules.names == ["big", "loyal", "team"]
    assert rules.rule("team") == ""  # list segments have no rule text
    assert assignments(rules, shop) == {"ann": ["big", "loyal"], "bob": ["team"], "cy": [],
                                        "eve": [], "dee": ["team"]}
    assert rules.counts(shop) == {"big": 1, "loyal": 1, "team": 2, None: 2}


# --------------------------------------------------------------------------- assignment

def test_first_match(first, shop):
    assert assignments(first, shop) == FIRST
    # in first mode a user gets only the first match: bob is lapsing too
    assert first.test(shop, "bob", "lapsing") is True
    assert first.test(shop, "bob", "vip") is False
    assert first.test(shop, "cy", "lapsing") is False  # consent withdrawn
    assert first.test(shop, "ann", "lapsing") is False  # bought within 14 days


def test_all_matches(every, shop):
    assert assignments(every, shop) == ALL


def test_context_hour_and_fields(every, first, shop):
    assert assignments(every, shop, hour=3) == ALL_AT_3
    assert assignments(every, shop, hour=6) == ALL  # 6 is outside 0..5
    assert assignments(every, shop, hour=0)["dee"] == ["runner", "night"]  # inclusive
    # ctx.country applies to everyone; a missing field or another value does not match
    de = assignments(every, shop, context={"country": "DE"})
    assert de == {u: ALL[u] + ["german"] for u in USERS}
    assert assignments(every, shop, context={"country": "FR"}) == ALL
    assert assignments(every, shop, context={"country": None}) == ALL  # None = absent
    assert assignments(every, shop, context={"referrer": "x"}) == ALL
    # first mode: eve (in nothing else) is the only one for whom german is first
    assert assignments(first, shop, context={"country": "DE"}) == dict(FIRST, eve=["german"])


def test_unknown_key_is_an_empty_profile(every, shop):
    assert every.assign(shop, "visitor") == []
    assert every.assign(shop, "visitor", context={"country": "DE"}, hour=2) == ["german"]
    assert "german: yes" in every.explain(shop, "visitor", context={"country": "DE"})


def test_now_moves_the_evaluation_time(every, shop):
    assert assignments(every, shop, now=day(25)) == ALL_AT_DAY_25
    # before any of ann's orders: nothing but dee's preference
    assert assignments(every, shop, now=day(0)) == {"ann": [], "bob": [], "cy": [],
                                                    "eve": [], "dee": ["runner"]}
    # the store's clock is its latest event
    assert assignments(every, shop, now=day(30)) == ALL


@pytest.mark.parametrize("now", [
    day(25),
    dt.datetime(2024, 3, 26, tzinfo=UTC),
    dt.datetime(2024, 3, 26),  # naive = UTC
    dt.datetime(2024, 3, 26, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    "2024-03-26T00:00:00Z",
    "2024-03-26",
    b"2024-03-26 00:00:00",
])
def test_now_as_int_datetime_or_text(every, shop, now):
    assert assignments(every, shop, now=now) == ALL_AT_DAY_25
    assert every.counts(shop, now=now) == every.counts(shop, now=day(25))
    assert every.explain(shop, "bob", now=now) == every.explain(shop, "bob", now=day(25))


def test_store_segments_of_delegates(every, first, shop):
    for user in USERS:
        assert shop.segments_of(user, every) == ALL[user]
        assert shop.segments_of(user, first) == FIRST[user]
    assert shop.segments_of("bob", every, now="2024-03-26", hour=3) == ["lapsing", "night"]
    assert shop.segments_of("eve", every, context={"country": "DE"}) == ["german"]
    with pytest.raises(TypeError, match="persona.Rules"):
        shop.segments_of("ann", RULES)


# --------------------------------------------------------------------------- explain

def test_explain_shows_the_deciding_clause(first, every, shop):
    text = first.explain(shop, "ann")
    assert text.splitlines()[:3] == ["vip: yes", "  value > 1000 is true (value = 1200)",
                                     "  orders >= 3 is true (orders = 3)"]
    assert "abandoner: not reached" in text and "german: not reached" in text
    # as of day 15 ann has 900: the first clause decides, the second is not evaluated
    early = first.explain(shop, "ann", now=day(15))
    assert "vip: no\n  value > 1000 is false (value = 900)\n" in early
    assert "orders >= 3" not in early
    # cy: consent withdrawn decides lapsing
    text = every.explain(shop, "cy")
    assert "lapsing: no" in text
    assert 'consent("marketing") is false' in text
    assert "runner: yes" in text
    assert 'last("category") == "running" is true' in text
    # the context hour shows with its value
    night = every.explain(shop, "dee", hour=3)
    assert "night: yes" in night and "ctx.hour between 0 and 5 is true" in night
    assert "(ctx.hour = 3" in night
    assert "ctx.hour = missing" in every.explain(shop, "dee")


def test_explain_of_a_list_segment(shop):
    rules = persona.Rules()
    rules.add_list("team", ["bob", "dee"])
    assert rules.explain(shop, "bob") == "team: yes\n  the user is one of the 2 keys of the list\n"
    assert rules.explain(shop, "ann").startswith("team: no\n  the user is none")


# --------------------------------------------------------------------------- scan

def test_scan_hand_checked(every, first, shop):
    assert every.scan(shop, frame=False) == [
        ("ann", "vip"), ("bob", "abandoner"), ("bob", "lapsing"), ("cy", "runner"),
        ("dee", "runner")]
    assert first.scan(shop, frame=False) == [
        ("ann", "vip"), ("bob", "abandoner"), ("cy", "runner"), ("dee", "runner")]
    assert every.counts(shop) == {"vip": 1, "abandoner": 1, "lapsing": 1, "runner": 2,
                                  "night": 0, "german": 0, None: 1}
    assert list(every.counts(shop)) == NAMES + [None]  # set order, None last


@pytest.mark.parametrize("mode", ["first", "all"])
@pytest.mark.parametrize("kw", [{}, {"hour": 3}, {"context": {"country": "DE"}},
                                {"now": day(25), "hour": 1}, {"now": day(0)}])
def test_scan_equals_assign_for_every_user(shop, mode, kw):
    rules = persona.Rules(RULES, mode=mode)
    rows = rules.scan(shop, frame=False, **kw)
    expected = [(u, s) for u in shop.users() for s in rules.assign(shop, u, **kw)]
    assert rows == expected
    counts = rules.counts(shop, **kw)
    for name in NAMES:
        assert counts[name] == sum(1 for _, s in rows if s == name)
    assert counts[None] == sum(1 for u in USERS if not rules.assign(shop, u, **kw))
    if mode == "first":
        assert sum(counts.values()) == len(USERS)
    else:
        assert sum(v for k, v in counts.items() if k is not None) == len(rows)


def test_scan_lists_a_merged_profile_once():
    with persona.Store() as store:
        store.ingest([ev("cookie1", "view", day(1)),
                      ev("cust9", "purchase", day(2), value=5.0)])
        store.alias("cookie1", ("customer", "c9"))
        store.alias("cust9", ("customer", "c9"))  # one profile, named c9
        rules = persona.Rules('both: count("view") >= 1 and count("purchase") >= 1')
        assert list(store.users()) == ["cookie1", "cust9", "c9"]
        assert {u: rules.assign(store, u) for u in store.users()} == {
            "cookie1": ["both"], "cust9": ["both"], "c9": ["both"]}
        assert rules.scan(store, frame=False) == [("c9", "both")]
        assert rules.counts(store) == {"both": 1, None: 0}


def test_scan_as_dataframe(every, shop):
    pd = pytest.importorskip("pandas")
    frame = every.scan(shop)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["user", "segment"]
    assert list(frame.itertuples(index=False, name=None)) == every.scan(shop, frame=False)
    assert frame["user"].dtype == object and frame["segment"].dtype == object
    nobody = persona.Rules("rich: value > 1000000")
    empty = nobody.scan(shop, frame=True)
    assert list(empty.columns) == ["user", "segment"] and len(empty) == 0


def test_scan_without_pandas(every, shop, hide_numpy):
    rows = every.scan(shop)
    assert isinstance(rows, list) and rows[0] == ("ann", "vip")
    with pytest.raises(ImportError, match="pandas"):
        every.scan(shop, frame=True)


class Boom(Exception):
    pass


@pytest.mark.parametrize("frame", [None, False])
def test_exception_in_the_member_callback_is_reraised(every, shop, monkeypatch, frame):
    calls = []
    real = segment_module._member_row

    def failing(names, user, size, segment):
        calls.append(segment)
        if len(calls) == 2:
            raise Boom("stop here")
        return real(names, user, size, segment)

    monkeypatch.setattr(segment_module, "_member_row", failing)
    with pytest.raises(Boom, match="stop here") as info:
        every.scan(shop, frame=frame)
    assert isinstance(info.value.__cause__, persona.CallbackError)
    assert len(calls) == 2  # the scan stopped at the first failure
    monkeypatch.setattr(segment_module, "_member_row", real)
    assert len(every.scan(shop, frame=False)) == 5  # nothing stale afterwards


def test_keyboard_interrupt_in_the_callback_stops_the_scan(every, shop, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(segment_module, "_member_row", interrupted)
    with pytest.raises(KeyboardInterrupt):
        every.scan(shop, frame=False)


def big_store(n=3000):
    """n users with a spread of traits: enough profiles for several scan parts (the scan
    uses one part per 1,024 profiles at most)."""
    store = persona.Store()
    events = []
    for i in range(n):
        user = f"user{i:05d}"
        for k in range(i % 7):
            events.append(ev(user, "purchase", day(k * 5 + i % 3), value=float(100 + i % 500),
                             basket=f"o{i}-{k}"))
        if i % 4 == 0:
            events.append(ev(user, "view", day(29, 9)))
            events.append(ev(user, "cart", day(29, 9, 30)))
        if i % 11 == 0:
            events.append(ev(user, "view", day(30), props={"category": "running"}))
    store.ingest(events)
    for i in range(0, n, 3):
        store.set_consent(f"user{i:05d}", "marketing", True, day(0))
    for i in range(0, n, 5):
        store.set_attr(f"user{i:05d}", "plan", "pro" if i % 2 else "team")
    return store


def test_threads_do_not_change_the_result():
    with big_store() as store, persona.Rules(RULES, mode="all") as rules:
        one = rules.scan(store, threads=1, frame=False, hour=2)
        two = rules.scan(store, threads=2, frame=False, hour=2)
        default = rules.scan(store, frame=False, hour=2)
        assert one == two == default
        assert len({s for _, s in one}) == 5  # every segment but german has members
        counts = rules.counts(store, threads=2, hour=2)
        assert counts == rules.counts(store, threads=1, hour=2)
        users = list(store.users())
        assert len(users) > 2048  # three parts with two threads or more
        assert counts[None] + len({u for u, _ in one}) == len(users)
        expected = [(u, s) for u in store.users() for s in rules.assign(store, u, hour=2)]
        assert one == expected


def test_python_threads_share_one_rule_set(every, shop):
    """Immutable once built: evaluations from many threads at once (the GIL is released
    during each call), also while the store takes new events for another user."""
    def work(i):
        if i % 4 == 0:
            shop.ingest([ev(f"new{i}", "view", day(1))])
        return assignments(every, shop, hour=3), every.counts(shop, hour=3, threads=2)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))
    for memberships, counts in results:
        assert memberships == ALL_AT_3
        assert counts["night"] == 2 and counts["runner"] == 2


# --------------------------------------------------------------------------- files

def test_save_and_load_round_trip(tmp_path, shop):
    rules = persona.Rules(RULES, mode="all")
    rules.add_list("team", ["bob", "dee"])
    path = tmp_path / "rules.seg"
    rules.save(path)
    with persona.Rules.load(path) as loaded:
        assert loaded.names == NAMES + ["team"]
        assert loaded.mode == "all"
        assert [loaded.rule(n) for n in loaded.names] == [rules.rule(n) for n in rules.names]
        assert loaded.assign(shop, "bob", hour=3) == ["abandoner", "lapsing", "night", "team"]
        for kw in ({}, {"hour": 4, "context": {"country": "DE"}}, {"now": day(25)}):
            assert loaded.scan(shop, frame=False, **kw) == rules.scan(shop, frame=False, **kw)
    first = persona.Rules(RULES)
    first.save(str(path))  # a str path replaces the file
    assert persona.Rules.load(str(path)).mode == "first"


def test_load_errors(tmp_path, shop):
    with pytest.raises(OSError):  # PersonaIOError
        persona.Rules.load(tmp_path / "missing.seg")
    store_file = tmp_path / "store.snap"
    shop.save(store_file)
    with pytest.raises(persona.CorruptError):  # another kind of snapshot
        persona.Rules.load(store_file)
    junk = tmp_path / "junk.seg"
    junk.write_bytes(b"not a snapshot at all")
    with pytest.raises(persona.PersonaError):
        persona.Rules.load(junk)


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("text, line, column, message", [
    ('vip: value > 1000\n\nbad:  count("view") == "a"\n', 3, 21,
     "cannot compare a number with a string"),
    ('a: cnt("x") > 1', 1, 4, "unknown function 'cnt'"),
    ('a: count("x", 7d and orders > 1)', 1, 18, r"expected '\)' to close the arguments"),
    # the error is at the reference that closes the cycle, and names both segments
    ('a: value > 1\nb: in_segment("c")\nc: in_segment("b")', 3, 4,
     r"segment 'c'\): in_segment\('b'\) makes a cycle"),
    ('a: value > 1\na: value > 2', 2, 1, "two segments are named 'a'"),
    ('', 1, 1, "no segments"),
])
def test_parse_error_position(text, line, column, message):
    with pytest.raises(persona.ParseError, match=message) as info:
        persona.Rules(text)
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert isinstance(err, ValueError) and err.code == -5
    assert f"line {line}, column {column}" in str(err)


def test_add_errors_leave_the_set_unchanged():
    rules = persona.Rules("vip: value > 1000")
    with pytest.raises(persona.ParseError) as info:
        rules.add("bad", "orders >=\n  and value > 1")
    assert (info.value.line, info.value.column) == (2, 3)  # position within the expression
    with pytest.raises(persona.InvalidArgumentError, match="two segments are named 'vip'"):
        rules.add("vip", "orders > 1")
    with pytest.raises(persona.InvalidArgumentError):
        rules.add("", "orders > 1")
    with pytest.raises(persona.ParseError):
        rules.add("x", 'in_segment("later")')  # add() may only name earlier segments
    with pytest.raises(persona.InvalidArgumentError, match="list key 1"):
        rules.add_list("team", ["bob", ""])
    with pytest.raises(TypeError, match="iterable"):
        rules.add_list("team", "bob")
    with pytest.raises(TypeError):
        rules.add("x", 42)
    assert rules.names == ["vip"]


@pytest.mark.parametrize("mode", ["any", "FIRST", 0, None])
def test_unknown_mode(mode):
    with pytest.raises(ValueError, match="mode"):
        persona.Rules(RULES, mode=mode)
    with pytest.raises(ValueError, match="mode"):
        persona.Rules(mode=mode)


@pytest.mark.parametrize("hour, error", [(24, ValueError), (-1, ValueError),
                                         (100, ValueError), ("3", TypeError),
                                         (True, TypeError), (3.0, TypeError)])
def test_bad_hour(every, shop, hour, error):
    with pytest.raises(error, match="hour"):
        every.assign(shop, "ann", hour=hour)
    with pytest.raises(error, match="hour"):
        every.scan(shop, hour=hour)


def test_bad_arguments(every, shop):
    with pytest.raises(TypeError, match="mapping"):
        every.assign(shop, "ann", context=[("country", "DE")])
    with pytest.raises(TypeError, match="str or None"):
        every.assign(shop, "ann", context={"country": 49})
    with pytest.raises(ValueError, match="hour= argument"):
        every.assign(shop, "ann", context={"hour": "3"})
    with pytest.raises(ValueError, match="NUL"):
        every.assign(shop, "ann", context={"country": "D\0E"})
    with pytest.raises(persona.ParseError):
        every.assign(shop, "ann", now="not a date")
    with pytest.raises(TypeError, match="time"):
        every.assign(shop, "ann", now=1.5)
    with pytest.raises(persona.InvalidArgumentError, match="now_ms"):
        every.assign(shop, "ann", now=10 ** 16)  # past year 9999
    with pytest.raises(ValueError, match="threads"):
        every.scan(shop, threads=-1)
    with pytest.raises(ValueError, match="threads"):
        every.counts(shop, threads=5000)
    with pytest.raises(TypeError, match="persona.Store"):
        every.assign("not a store", "ann")
    with pytest.raises(KeyError):
        every.test(shop, "ann", "nobody")
    with pytest.raises(TypeError):
        persona.Rules(42)


# --------------------------------------------------------------------------- lifecycle

def test_close_and_context_manager(shop):
    with persona.Rules(RULES) as rules:
        assert rules.assign(shop, "ann") == ["vip"]
    assert rules.closed and repr(rules) == "<persona.Rules closed>"
    rules.close()  # idempotent
    for call in (lambda: rules.assign(shop, "ann"), lambda: len(rules),
                 lambda: rules.scan(shop), lambda: rules.names, lambda: rules.add("x", "1 > 0")):
        with pytest.raises(ValueError, match="closed rule set"):
            call()


def test_rules_outlive_the_store_and_vice_versa():
    store = persona.Store()
    store.ingest(EVENTS)
    rules = persona.Rules(RULES)
    ref = weakref.ref(rules)
    assert rules.assign(store, "ann") == ["vip"]
    del rules
    gc.collect()
    assert ref() is None  # freed by its finalizer
    rules = persona.Rules(RULES)
    store.close()
    assert rules.names == NAMES  # the model does not borrow from any store
    with pytest.raises(ValueError, match="closed store"):
        rules.assign(store, "ann")
