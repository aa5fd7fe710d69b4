"""Store's identity graph (alias, unmerge, resolve, merge log, guards) against stores built
from the same events without any linking: a merged profile must equal one key that got all
the events, an unmerged part one key that got only its own."""
import pytest

import persona
from conftest import D0, D1, DAY, HOUR, MINUTE

# k1 and k2 interleaved in time and arriving out of order: sessions, orders, the last
# referrer, engagement and value sums all depend on which events a profile holds.
K1_K2_EVENTS = [
    {"user": "k1", "time": D0 + 10 * HOUR, "type": "view", "item": "sku1",
     "props": {"referrer": "google", "category": "shoes"}},
    {"user": "k2", "time": D0 + 10 * HOUR + 15 * MINUTE, "type": "view", "item": "sku2",
     "props": {"category": "bags"}},
    {"user": "k1", "time": D0 + 10 * HOUR + 20 * MINUTE, "type": "purchase", "value": 30.0,
     "basket": "o1", "props": {"referrer": "newsletter"}},
    {"user": "k2", "time": D1 + 9 * HOUR, "type": "purchase", "value": 7.25, "basket": "o2",
     "props": {"referrer": "ads", "category": "shoes"}},
    {"user": "k1", "time": D0 + 9 * HOUR, "type": "view", "props": {"category": "shoes"}},
    {"user": "k2", "time": D1 + 9 * HOUR + 40 * MINUTE, "type": "purchase", "value": 2.5,
     "basket": "o3"},
    {"user": "k1", "time": D1 + 9 * HOUR + 10 * MINUTE, "type": "view", "item": "sku2"},
]


def events_of(user, events=K1_K2_EVENTS):
    return [e for e in events if e["user"] == user]


def renamed(events, user):
    return [{**e, "user": user} for e in events]


def new_store():
    return persona.Store(half_life=DAY, seed=7)


def built(events):
    store = new_store()
    stats = store.ingest(events)
    assert stats.events_rejected == 0
    return store


def without_names(profile):
    """A profile without what names it: its key and its list of identifiers."""
    return {k: v for k, v in profile.items() if k not in ("user_id", "identifiers")}


@pytest.fixture
def graph():
    with built(K1_K2_EVENTS) as store:
        yield store


@pytest.fixture
def one_key():
    """All events of k1 and k2, in the same arrival order, sent to k1 alone."""
    with built(renamed(K1_K2_EVENTS, "k1")) as store:
        yield store


@pytest.fixture
def apart():
    """The same events with nothing linked: each key's own profile."""
    with built(K1_K2_EVENTS) as store:
        yield store


# ---------------------------------------------------------------- merging

def test_alias_merges_two_keys_like_one_key(graph, one_key):
    result = graph.alias(("key", "k1"), ("key", "k2"), at=D1 + DAY, source="login")
    assert result == persona.AliasResult(outcome="merged", merged=1, added=0, same=0,
                                         blocked=0, blocked_type=None,
                                         events_replayed=len(K1_K2_EVENTS))
    combined = one_key.profile_info("k1")
    assert combined["events"] == 7 and combined["value_sum"] == 39.75  # the scenario itself
    for key in ("k1", "k2"):
        assert graph.profile_info(key) == combined, key
        assert without_names(graph.profile(key)) == without_names(one_key.profile("k1"))
        assert graph.type_count(key, "purchase") == (3, 39.75)
        assert graph.last(key, "referrer") == one_key.last("k1", "referrer")
        assert graph.engagement(key, "shoes", D1 + DAY) == one_key.engagement(
            "k1", "shoes", D1 + DAY)
    assert graph.resolve("k1") == graph.resolve("k2") == "k1"  # equal priority: earliest


def test_alias_again_is_same(graph):
    graph.alias("k1", ("key", "k2"))  # a plain str is a user key
    again = graph.alias(("key", "k2"), ("key", "k1"))
    assert (again.outcome, again.merged, again.same, again.blocked) == ("same", 0, 1, 0)


def test_alias_adds_new_identifiers(graph):
    result = graph.alias(("key", "k1"), ("cookie", " c-77 "), (persona.ID_HOST, "crm:5"))
    assert (result.outcome, result.merged, result.added, result.blocked) == ("added", 0, 2, 0)
    assert graph.profile_info("c-77") == graph.profile_info("k1")  # normalized: trimmed
    assert graph.profile_info("crm:5") == graph.profile_info("k1")


def test_attributes_follow_the_profile_and_stay_with_their_identifier(graph):
    graph.set_attr("k1", "tier", "gold")
    graph.set_attr("k2", "age", 41)
    graph.alias(("key", "k1"), ("key", "k2"))
    assert graph.attr("k2", "tier") == "gold"
    assert graph.attr("k1", "age") == 41.0
    assert graph.unmerge("k2") == 2
    assert graph.attr("k1", "tier") == "gold"
    assert graph.attr("k2", "age") == 41.0
    with pytest.raises(persona.NotFoundError):
        graph.attr("k2", "tier")
    with pytest.raises(persona.NotFoundError):
        graph.attr("k1", "age")


def test_opting_out_covers_the_merged_profile_and_every_part(graph):
    graph.set_tracking("k2", False)
    assert graph.tracking("k1")
    graph.alias(("key", "k1"), ("key", "k2"))
    assert not graph.tracking("k1")
    stats = graph.ingest([{"user": "k1", "time": D1 + DAY, "type": "view"}])
    assert (stats.events_accepted, stats.rejected) == (0, {"suppressed": 1})
    graph.unmerge("k2")
    assert not graph.tracking("k1") and not graph.tracking("k2")


# ---------------------------------------------------------------- unmerge

@pytest.mark.parametrize("which", [("key", "k2"), "k2", ("key", "k1")])
def test_unmerge_gives_each_key_its_own_profile(graph, apart, which):
    graph.alias(("key", "k1"), ("key", "k2"))
    assert graph.unmerge(which) == 2
    for key in ("k1", "k2"):
        assert graph.profile_info(key) == apart.profile_info(key), key
        assert graph.profile(key) == apart.profile(key), key
        assert graph.resolve(key) == key
    assert graph.profile_info("k1")["events"] == len(events_of("k1"))
    assert graph.profile_info("k2")["value_sum"] == 9.75


def test_unmerge_keeps_the_other_links(apart):
    # k1 <- cookie c1, k2 <- cookie c2, then k1 <-> k2; undoing k2's links leaves k1 + c1
    # and c2 alone (its only link was to k2).
    with built(K1_K2_EVENTS) as store:
        store.alias(("key", "k1"), ("cookie", "c1"))
        store.alias(("key", "k2"), ("cookie", "c2"))
        store.alias(("key", "k1"), ("key", "k2"))
        assert store.profile_info("c2") == store.profile_info("k1")
        assert store.unmerge("k2") == 3
        assert store.profile_info("c1") == apart.profile_info("k1")
        assert store.profile_info("k2") == apart.profile_info("k2")
        assert store.resolve("c1") == "k1"
        assert store.resolve("c2") == "c2"


def test_unmerge_without_links_is_one_part(graph):
    assert graph.unmerge("k1") == 1


# ---------------------------------------------------------------- resolve and priorities

def test_resolve_prefers_the_customer_id_over_a_cookie(graph):
    graph.ingest([{"user": "c-1", "time": D0, "type": "view"}])
    result = graph.alias(("cookie", "c-1"), ("customer", "cust-9"))
    assert graph.resolve("c-1") == "cust-9"
    assert graph.resolve("cust-9") == "cust-9"
    assert graph.profile_info("cust-9")["events"] == 1
    assert (result.outcome, result.merged, result.added) == ("added", 0, 1)  # cust-9 is new


def test_a_new_identifier_joins_as_added_whatever_its_priority(graph):
    # "added": a new identifier joined a profile -- also when the new one outranks the
    # existing one and so names the profile
    low = graph.alias(("key", "k1"), ("cookie", "c1"))     # new cookie below the key
    high = graph.alias(("key", "k2"), ("email", "b@x.org"))  # new email above the key
    assert [(r.outcome, r.merged, r.added) for r in (low, high)] == [
        ("added", 0, 1), ("added", 0, 1)]
    assert [e["outcome"] for e in graph.merge_log()] == ["added", "added"]


def test_identity_priority_changes_the_name(graph):
    graph.identity_priority("cookie", 99)
    graph.alias(("customer", "cust-9"), ("cookie", "c-1"))
    assert graph.resolve("cust-9") == "c-1"


# ---------------------------------------------------------------- guards

@pytest.mark.parametrize("value", ["null", "Anonymous"])
def test_blocked_values_are_never_linked(graph, apart, value):
    graph.ingest([{"user": value, "time": D0, "type": "view", "value": 1.0}])
    result = graph.alias(("key", "k1"), ("key", value))
    assert (result.outcome, result.merged, result.added, result.blocked) == (
        "blocked-value", 0, 0, 1)
    assert result.blocked_type == "key"
    assert graph.profile_info("k1") == apart.profile_info("k1")
    assert graph.profile_info(value)["events"] == 1
    assert graph.resolve("k1") == "k1"
    assert graph.merge_log()[-1]["outcome"] == "blocked-value"


@pytest.mark.parametrize("blocked", [("cookie", "null"), ("customer", "anonymous")])
def test_blocked_value_among_others_blocks_only_its_link(graph, one_key, blocked):
    # k2 links to k1 (merged); the blocked one, whatever its priority, is never the anchor
    # and its link comes last
    result = graph.alias(blocked, ("key", "k1"), ("key", "k2"))
    assert (result.outcome, result.merged, result.blocked, result.blocked_type) == (
        "blocked-value", 1, 1, blocked[0])
    assert graph.resolve("k2") == "k1"
    assert graph.profile_info("k2") == one_key.profile_info("k1")


def test_a_second_email_is_blocked_by_the_limit(graph):
    graph.alias(("key", "k1"), ("email", "Ann@X.org"))
    assert graph.resolve("k1") == "ann@x.org"
    result = graph.alias(("key", "k1"), ("email", "bob@x.org"))
    assert (result.outcome, result.merged, result.added, result.blocked) == (
        "blocked-limit", 0, 0, 1)
    assert result.blocked_type == "email"
    assert graph.resolve("k1") == "ann@x.org"
    last = graph.merge_log()[-1]
    assert (last["outcome"], last["limit_type"]) == ("blocked-limit", "email")


def test_a_limit_blocks_merging_two_profiles_with_an_email_each(graph, apart):
    graph.alias(("key", "k1"), ("email", "ann@x.org"))
    graph.alias(("key", "k2"), ("email", "bob@x.org"))
    result = graph.alias(("key", "k1"), ("key", "k2"))
    assert (result.outcome, result.blocked, result.blocked_type) == (
        "blocked-limit", 1, "email")
    assert graph.profile_info("k1") == apart.profile_info("k1")
    assert graph.profile_info("k2") == apart.profile_info("k2")


def test_identity_limit_raises_or_removes_the_limit(graph):
    def link(kind, value):
        return graph.alias(("key", "k1"), (kind, value)).outcome

    def identifiers():
        return {(i["type"], i["id"]) for i in graph.profile("k1")["identifiers"]}

    graph.identity_limit("email", 2)
    outcomes = [link("email", "ann@x.org"), link("email", "bob@x.org"),
                link("email", "cid@x.org")]
    assert identifiers() == {("key", "k1"), ("email", "ann@x.org"), ("email", "bob@x.org")}
    assert graph.profile_info("bob@x.org") == graph.profile_info("k1")
    graph.identity_limit("email", None)  # unlimited
    graph.alias(("key", "k1"), ("email", "cid@x.org"))
    assert ("email", "cid@x.org") in identifiers()
    graph.identity_limit(persona.ID_COOKIE, 1)
    outcomes += [link("cookie", "c1"), link("cookie", "c2")]
    assert ("cookie", "c2") not in identifiers()
    with pytest.raises(persona.NotFoundError):
        graph.resolve("c2")  # a new cookie below the key: it stays out entirely
    assert outcomes == ["added", "added", "blocked-limit", "added", "blocked-limit"]


def test_identity_block_adds_a_blocked_value(graph):
    ids = (("key", "k1"), ("email", "Guest@Example.com"))
    with built(K1_K2_EVENTS) as control:
        control.alias(*ids)
        assert control.resolve("k1") == "guest@example.com"
    graph.identity_block("guest@example.com")
    result = graph.alias(*ids)  # compared after normalization, case ignored
    assert (result.outcome, result.blocked, result.blocked_type) == ("blocked-value", 1, "email")
    with pytest.raises(persona.NotFoundError):
        graph.resolve("guest@example.com")


def test_identity_country_for_national_phone_numbers(graph):
    with pytest.raises(persona.InvalidArgumentError):
        graph.alias(("key", "k1"), ("phone", "06 12 34 56 78"))
    graph.identity_country("33")
    graph.alias(("key", "k1"), ("phone", "06 12 34 56 78"))
    assert graph.resolve("k1") == "+33612345678"  # phone 30 > key 20
    assert graph.profile_info("+33612345678") == graph.profile_info("k1")
    graph.identity_country(None)
    with pytest.raises(persona.InvalidArgumentError):
        graph.alias(("key", "k2"), ("phone", "06 99 88 77 66"))


# ---------------------------------------------------------------- merge log

def test_merge_log_records_links_and_unmerge(graph):
    graph.alias(("key", "k1"), ("key", "k2"), at="2021-03-05T08:00:00Z", source="login")
    graph.alias(("key", "k1"), ("cookie", "c1"), at=D1)
    log = graph.merge_log()
    assert [e["outcome"] for e in log] == ["merged", "added"]
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    first = log[0]
    assert {first["a"]["id"], first["b"]["id"]} == {"k1", "k2"}
    assert first["a"]["type"] == first["b"]["type"] == "key"
    assert first["source"] == "login" and log[1]["source"] is None
    assert first["time"].startswith("2021-03-05")
    assert not any(e.get("undone") for e in log)

    graph.unmerge("k2")
    log = graph.merge_log()
    assert log[0]["undone"] is True
    assert not log[1].get("undone")  # k1 - c1 does not involve k2
    assert graph.merge_log("c1") == log  # both links have k1, now in c1's profile, on a side
    assert [e["outcome"] for e in graph.merge_log("k2")] == ["merged"]


def test_merge_log_of_a_user_without_links(graph):
    assert graph.merge_log() == []
    assert graph.merge_log("k1") == []


# ---------------------------------------------------------------- snapshots

def test_save_and_open_keep_the_graph(graph, one_key, tmp_path):
    graph.alias(("key", "k1"), ("key", "k2"), source="login")
    graph.identity_block("guest@example.com")
    graph.identity_limit("email", 2)
    log = graph.merge_log()
    path = tmp_path / "graph.persona"
    graph.save(path)
    with persona.Store.open(path) as reopened:
        assert reopened.resolve("k2") == "k1"
        assert reopened.profile_info("k2") == one_key.profile_info("k1")
        assert reopened.merge_log() == log
        blocked = reopened.alias(("key", "k1"), ("email", "guest@example.com"))
        assert blocked.outcome == "blocked-value"
        reopened.alias(("key", "k1"), ("email", "ann@x.org"))
        reopened.alias(("key", "k1"), ("email", "bob@x.org"))  # the limit of 2 was kept
        assert reopened.resolve("bob@x.org") == reopened.resolve("k1")
        assert reopened.unmerge("k2") == 2
        assert reopened.profile_info("k2")["events"] == len(events_of("k2"))


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("ids", [(), (("key", "k1"),)])
def test_fewer_than_two_ids_is_invalid(graph, ids):
    with pytest.raises(persona.InvalidArgumentError) as err:
        graph.alias(*ids)
    assert isinstance(err.value, ValueError)
    assert err.value.code == -1
    assert err.value.function == "persona_store_alias"


def test_an_invalid_identifier_changes_nothing(graph, apart):
    with pytest.raises(persona.InvalidArgumentError):
        graph.alias(("key", "k1"), ("key", "k2"), ("email", "not-an-email"))
    assert graph.profile_info("k2") == apart.profile_info("k2")
    assert graph.resolve("k2") == "k2"
    assert graph.merge_log() == []


def test_an_identifier_keeps_its_type(graph):
    graph.alias(("key", "k1"), ("cookie", "c1"))
    with pytest.raises(persona.InvalidArgumentError):
        graph.alias(("key", "k2"), ("customer", "c1"))


def test_unknown_identifiers_are_not_found(graph):
    with pytest.raises(persona.NotFoundError):
        graph.unmerge(("email", "nobody@x.org"))
    with pytest.raises(persona.NotFoundError):
        graph.resolve("nobody")
    with pytest.raises(persona.NotFoundError):
        graph.merge_log("nobody")


def test_invalid_guard_settings(graph):
    for call in (lambda: graph.identity_limit(-1, 1),
                 lambda: graph.identity_priority(-3, 1),
                 lambda: graph.identity_country("1234"),
                 lambda: graph.identity_country("4a"),
                 lambda: graph.identity_block("x" * 5000)):
        with pytest.raises(persona.InvalidArgumentError):
            call()
    with pytest.raises(persona.InvalidArgumentError):
        graph.alias(("key", "k1"), (-2, "k2"))


def test_python_side_argument_checks(graph):
    with pytest.raises(ValueError, match="unknown identifier type 'mail'"):
        graph.alias(("mail", "a@x.org"), ("key", "k1"))
    with pytest.raises(TypeError):
        graph.alias(("key", "k1"), ("key",))
    with pytest.raises(TypeError):
        graph.alias(("key", "k1"), (True, "k2"))
    with pytest.raises(OverflowError):
        graph.identity_limit("email", -1)
    with pytest.raises(ValueError, match="NUL"):
        graph.alias(("key", "k1"), ("key", "k\0"))
    graph.close()
    with pytest.raises(ValueError, match="closed"):
        graph.alias(("key", "k1"), ("key", "k2"))


def test_constants():
    assert (persona.ID_KEY, persona.ID_COOKIE, persona.ID_EMAIL, persona.ID_PHONE,
            persona.ID_CUSTOMER, persona.ID_HOST) == (0, 1, 2, 3, 4, 100)
    assert persona.LINK_OUTCOMES == {1: "merged", 2: "added", 3: "same",
                                     4: "blocked-value", 5: "blocked-limit"}


def test_identify_and_consent_events():
    store = new_store()
    store.identify_rule("identify", "email", "email")
    store.consent_rule("consent", "purpose", "granted")
    stats = store.ingest([
        {"user": "ck1", "time": D0, "type": "view", "value": 3.0},
        {"user": "ck1", "time": D0 + MINUTE, "type": "identify", "props": {"email": "Ann@X.org"}},
        {"user": "ck2", "time": D0 + 2 * MINUTE, "type": "identify",
         "props": {"email": "ann@x.org"}},
        {"user": "ck2", "time": D0 + 3 * MINUTE, "type": "consent",
         "props": {"purpose": "marketing", "granted": "yes"}},
        {"user": "ck2", "time": D0 + 4 * MINUTE, "type": "identify", "props": {"email": "nope"}},
        {"user": "ck2", "time": D0 + 5 * MINUTE, "type": "consent",
         "props": {"purpose": "marketing", "granted": "perhaps"}},
    ])
    assert stats.events_accepted == 4
    assert stats.rejected == {"bad_identifier": 1, "bad_consent": 1}
    assert store.resolve("ck1") == store.resolve("ck2") == "ann@x.org"
    assert store.profile_info("ck2")["events"] == 4
    log = store.merge_log()
    assert [e["source"] for e in log] == ["event:identify"] * 2
    with pytest.raises(persona.InvalidArgumentError):
        store.identify_rule("identify", "email", "phone")
