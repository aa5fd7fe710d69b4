/* Fuzz target: live segments against batch evaluation (TESTING §4, docs/rules.md "Live
 * segments"). The incremental state a store keeps per profile must give, after every
 * write, the memberships a batch evaluation of the same rules gives as of the store's
 * clock, and the callbacks must be exactly the changes.
 *
 * Input: the rule text up to the first NUL byte — one rule per line, each registered as
 * live segment s0, s1, … (at most 8; a rule that does not compile is skipped, the error
 * must be PERSONA_EPARSE) — then operations of 4 bytes [op, a, b, c]:
 *   op % 8 = 0..3: an event of user a % 5 of type b % 4 ("view", "buy", "other",
 *                  "consent" granting or withdrawing "marketing" by c bit 0), value
 *                  (c % 9) / 4 (c = 255: none), category "x" / "y" on c bit 6 / 7, at the
 *                  current time plus c minutes; op bit 3: late, an hour per unit of b
 *                  before the current time; op bit 4: a second event in the same batch,
 *                  for user a % 3, one minute later
 *   op % 8 = 4, 5: a tick a * b minutes on (a * 7 + b hours for 5)
 *   op % 8 = 6:    attribute plan = "pro" or "free" (c bit 0) of user a % 5 (silent: the
 *                  tracked memberships take the store's)
 *   op % 8 = 7:    the time jumps b days on (nothing is ingested)
 * at most 48 operations. Five events of history exist before the segments are registered.
 *
 * After every operation, for each user the store knows: persona_store_segments_of equals
 * persona_segment_model_test of every rule on a model holding the same rules, and the
 * memberships rebuilt from the callbacks (enter / exit applied to the memberships at
 * registration) equal persona_store_segments_of. Everything allocated is freed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "persona/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 INT64_C(1717200000000) /* 2024-06-01 00:00 UTC, a Saturday */
#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define MAX_RULES 8
#define N_USERS 5
#define MAX_OPS 48

static const char *const user_names[N_USERS] = { "u0", "u1", "u2", "u3", "u4" };
static const char *const type_names[4] = { "view", "buy", "other", "consent" };

typedef struct tracker {
    uint64_t mask[N_USERS]; /* memberships rebuilt from the callbacks */
    size_t n_rules;
} tracker;

static int on_change(void *ctx, const char *user, size_t len, const char *segment, int32_t entered,
                     int64_t at)
{
    (void)at;
    tracker *t = ctx;
    int u = -1;
    for (int k = 0; k < N_USERS; k++)
        if (strlen(user_names[k]) == len && memcmp(user_names[k], user, len) == 0)
            u = k;
    FUZZ_ASSERT(u >= 0, "callback for an unknown user %.*s", (int)len, user);
    FUZZ_ASSERT(segment[0] == 's', "callback for segment %s", segment);
    size_t k = (size_t)atoi(segment + 1);
    FUZZ_ASSERT(k < t->n_rules, "callback for segment %s", segment);
    uint64_t bit = (uint64_t)1 << k;
    FUZZ_ASSERT(((t->mask[u] & bit) != 0) != (entered != 0), "%s %s %s twice", user_names[u], segment,
                entered ? "entered" : "left");
    t->mask[u] ^= bit;
    return 0;
}

static uint64_t live_mask(const persona_store *s, int u)
{
    uint32_t segs[MAX_RULES];
    size_t n = 0;
    FUZZ_OK(persona_store_segments_of(segs, MAX_RULES, &n, s, user_names[u]));
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        m |= (uint64_t)1 << segs[i];
    return m;
}

static int known(const persona_store *s, int u)
{
    persona_profile_info info = PERSONA_PROFILE_INFO_INIT;
    return persona_store_profile_get(&info, s, user_names[u]) == PERSONA_OK;
}

static void check(const persona_store *s, const persona_segment_model *m, const tracker *t, int step)
{
    for (int u = 0; u < N_USERS; u++) {
        if (!known(s, u))
            continue;
        uint64_t want = 0;
        for (size_t k = 0; k < t->n_rules; k++) {
            int32_t r = 0;
            FUZZ_OK(persona_segment_model_test(&r, m, k, s, user_names[u], NULL));
            want |= (uint64_t)(r != 0) << k;
        }
        uint64_t live = live_mask(s, u);
        FUZZ_ASSERT(live == want, "step %d: %s live %llx, batch %llx", step, user_names[u],
                    (unsigned long long)live, (unsigned long long)want);
        FUZZ_ASSERT(t->mask[u] == live, "step %d: %s callbacks say %llx, live %llx", step,
                    user_names[u], (unsigned long long)t->mask[u], (unsigned long long)live);
    }
}

static persona_event make_event(int user, int type, uint8_t c, int64_t at, const char **names,
                                const char **values)
{
    persona_event e = PERSONA_EVENT_INIT;
    e.user = user_names[user];
    e.type = type_names[type];
    e.time_ms = at;
    e.value = c == 255 ? NAN : (double)(c % 9) / 4.0;
    size_t n = 0;
    if (type == 3) {
        names[n] = "purpose";
        values[n++] = "marketing";
        names[n] = "granted";
        values[n++] = c & 1 ? "yes" : "no";
    } else if (c & 0xC0) {
        names[n] = "category";
        values[n++] = c & 0x40 ? "x" : "y";
    }
    e.prop_names = names;
    e.prop_values = values;
    e.n_props = n;
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int installed;
    if (!installed) {
        fuzz_install_allocator();
        installed = 1;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t text_len = nul ? (size_t)(nul - data) : size;
    const uint8_t *ops = nul ? nul + 1 : data + size;
    size_t n_ops = nul ? (size - text_len - 1) / 4 : 0;
    if (n_ops > MAX_OPS)
        n_ops = MAX_OPS;

    persona_store *s = NULL;
    FUZZ_OK(persona_store_new(&s, NULL));
    FUZZ_OK(persona_store_consent_rule(s, "consent", "purpose", "granted"));
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    persona_segment_model *m = NULL;
    FUZZ_OK(persona_segment_model_new(&m, &o));
    tracker t;
    memset(&t, 0, sizeof t);

    int64_t now = T0;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    for (int i = 0; i < 5; i++) { /* history */
        persona_event e = PERSONA_EVENT_INIT;
        e.user = user_names[i % 3];
        e.type = type_names[i % 2];
        e.time_ms = now + (int64_t)i * 5 * HOUR_MS;
        e.value = 1;
        FUZZ_OK(persona_store_ingest(&st, s, &e, 1, NULL));
    }
    now += 25 * HOUR_MS;

    /* the rules, one per line */
    const char *text = (const char *)data;
    for (size_t at = 0; at < text_len && t.n_rules < MAX_RULES;) {
        const char *eol = memchr(text + at, '\n', text_len - at);
        size_t len = eol ? (size_t)(eol - (text + at)) : text_len - at;
        char name[8];
        snprintf(name, sizeof name, "s%zu", t.n_rules);
        int rc = persona_store_add_segment(s, name, text + at, len, on_change, &t);
        FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EPARSE || rc == PERSONA_EINVAL,
                    "add_segment returned %d", rc);
        if (rc == PERSONA_OK) {
            FUZZ_OK(persona_segment_model_add_rule(m, name, text + at, len));
            t.n_rules++;
        }
        at += len + 1;
    }
    for (int u = 0; u < N_USERS; u++) /* registration is silent: start from what it found */
        t.mask[u] = known(s, u) ? live_mask(s, u) : 0;
    check(s, m, &t, -1);

    for (size_t i = 0; i < n_ops; i++) {
        uint8_t op = ops[4 * i], a = ops[4 * i + 1], b = ops[4 * i + 2], c = ops[4 * i + 3];
        switch (op % 8) {
        case 0: case 1: case 2: case 3: {
            const char *names[2][2], *values[2][2];
            persona_event evs[2];
            int64_t at = (op & 8) ? now - (int64_t)b * HOUR_MS : now + (int64_t)c * MIN_MS;
            evs[0] = make_event(a % N_USERS, b % 4, c, at, names[0], values[0]);
            size_t n = 1;
            if (op & 16)
                evs[n++] = make_event(a % 3, (b + 1) % 4, (uint8_t)(c ^ 0x41), at + MIN_MS, names[1], values[1]);
            FUZZ_OK(persona_store_ingest(&st, s, evs, n, NULL));
            if (!(op & 8) && at + MIN_MS > now)
                now = at + MIN_MS;
            break;
        }
        case 4:
        case 5:
            now += op % 8 == 4 ? (int64_t)a * b * MIN_MS : ((int64_t)a * 7 + b) * HOUR_MS;
            FUZZ_OK(persona_store_tick(s, now));
            break;
        case 6: /* host changes are applied silently: no callbacks to follow */
            FUZZ_OK(persona_store_attr_set_str(s, user_names[a % N_USERS], "plan", c & 1 ? "pro" : "free"));
            t.mask[a % N_USERS] = live_mask(s, a % N_USERS);
            break;
        default:
            now += (int64_t)b * DAY_MS;
            break;
        }
        int64_t clock = 0;
        FUZZ_OK(persona_store_clock(&clock, s));
        if (clock > now)
            now = clock;
        check(s, m, &t, (int)i);
    }
    persona_segment_model_free(m);
    persona_store_free(s);
    return 0;
}
