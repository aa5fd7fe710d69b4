/* Fuzz target: rule text -> persona_segment_model_compile / _add_rule, then evaluation of
 * what compiled on a fixed store (TESTING §4, docs/rules.md).
 *
 * Input: byte 0 = flags, byte 1 = context, then the text (UTF-8 or not; any bytes).
 *   byte 0 bit 0: the compiled rule set uses all-matches mode (else first-match)
 *          bit 1: save + load round trip of the compiled model (in-memory file system)
 *          bit 2: the member callback of the scan stops at the first membership
 *          bits 3-5: index into extra_now[] of the evaluation time for bit 6
 *          bit 6: evaluate at extra_now[bits 3-5] (else at the store's clock)
 *          bit 7: evaluate user "heavy" too (compiled rule sets only)
 *   byte 1: ctx.hour = byte % 25 - 1 (-1 = absent); bit 7 drops the ctx.* fields
 * Missing header bytes read as 0.
 *
 * The store (built once): five users whose events arrive in time order or out of it, with
 * equal times, several types, values, baskets, properties category / channel / referrer,
 * typed attributes (string, number, boolean, time, null), pref.* and score.* attributes,
 * consent granted, denied and withdrawn; and "heavy": 300 events out of time order (the
 * sorted pass of sequence() and past-time traits, which may allocate).
 *
 * Speed (TESTING §4 asks for >= 10 k exec/s): one evaluation time and, unless bit 7, no
 * "heavy" per input; a failed add_rule is compared with the base model's table sizes and
 * two users' answers only.
 *
 * Per input:
 *  1. compile(text) returns PERSONA_OK or PERSONA_EPARSE (never anything else for at most
 *     1 MiB); on EPARSE: *out NULL, persona_error_position() gives a line and column inside
 *     the text (column <= line length + 1), and the message starts with them.
 *  2. add_rule(text) on a model holding a rule segment "base" and a list segment "vips":
 *     OK or EPARSE with the same position checks; on failure the model is unchanged (count,
 *     internal table sizes) and still answers as before. When it succeeds and the rule has
 *     no in_segment(), the rule set "base: BASE\nfuzz: TEXT\n" compiles too, keeps the
 *     same rule source, and "fuzz" gives the same truth for every user.
 *  3. a compiled model, at the evaluation time (bits 3-6), for every user and an unknown
 *     one ("heavy" with bit 7): assign() agrees with test() of every segment under the model's mode (and gives
 *     PERSONA_EBUFS with the same count into no room); after a first call, assign() and
 *     test() allocate nothing (users with at most 256 events); describe() into 8 bytes and
 *     into a large buffer gives the same length, one "NAME: yes|no|not reached" line per
 *     segment that agrees with test(); scan() counts and memberships equal the assign()
 *     results of the store's users in index order, and a stopping callback gives
 *     PERSONA_ECALLBACK exactly when there is a membership.
 *  4. (bit 1) load(save(x)) == x: same mode, names, rule texts and answers; saving the
 *     loaded model gives the same bytes.
 * Everything allocated is freed (LeakSanitizer in the fuzz build). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_memfs.h"
#include "persona/segment.h"
#include "segment/rule_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T0 INT64_C(1717200000000) /* 2024-06-01 00:00 UTC */
#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

/* ---- allocation counting (wraps the pooling allocator of fuzz_common.h) -------------- */

static uint64_t alloc_calls;

static void *count_allocate(void *ctx, size_t size)
{
    alloc_calls++;
    return fuzz_allocate(ctx, size);
}

static void *count_reallocate(void *ctx, void *ptr, size_t size)
{
    alloc_calls++;
    return fuzz_reallocate(ctx, ptr, size);
}

static void count_deallocate(void *ctx, void *ptr)
{
    fuzz_deallocate(ctx, ptr);
}

/* ---- the store ----------------------------------------------------------------------- */

#define N_USERS 7 /* 6 in the store, then one it does not know */
static const char *const users[N_USERS] = { "u1", "u2", "u3", "u4", "u5", "heavy", "nobody" };
static int small_user[N_USERS] = { 1, 1, 1, 1, 1, 0, 1 }; /* evaluation must not allocate */
static persona_store *store;
/* Users of the store in index order (what scan reports in). */
static int user_by_index[N_USERS];
static size_t n_store_users;

static const int64_t extra_now[8] = {
    T0 - 3 * DAY_MS,          /* in the middle of the history */
    T0 - 40 * DAY_MS,         /* before most events */
    T0 + 400 * DAY_MS,        /* long after every event */
    T0 - 2 * DAY_MS + 1,      /* just after an event time */
    T0 - 2 * DAY_MS,          /* exactly at an event time */
    PERSONA_TIME_MIN,         /* the bounds of time: windows clamp */
    PERSONA_TIME_MAX,
    0,                        /* 1970 */
};

typedef struct ev {
    const char *user;
    int64_t t;
    const char *type;
    double value; /* NaN: none */
    const char *basket, *category, *channel, *referrer;
} ev;

static void ingest_one(const ev *e)
{
    persona_event x = PERSONA_EVENT_INIT;
    const char *names[3], *values[3];
    size_t n = 0;
    if (e->category) {
        names[n] = "category";
        values[n++] = e->category;
    }
    if (e->channel) {
        names[n] = "channel";
        values[n++] = e->channel;
    }
    if (e->referrer) {
        names[n] = "referrer";
        values[n++] = e->referrer;
    }
    x.user = e->user;
    x.time_ms = e->t;
    x.type = e->type;
    x.value = e->value;
    x.basket = e->basket;
    x.prop_names = names;
    x.prop_values = values;
    x.n_props = n;
    persona_ingest_stats st = PERSONA_INGEST_STATS_INIT;
    FUZZ_OK(persona_store_ingest(&st, store, &x, 1, NULL));
    FUZZ_ASSERT(st.events_accepted == 1, "seed event of %s at %lld rejected", e->user,
                (long long)e->t);
}

static void build_store(void)
{
    persona_store_options o = PERSONA_STORE_OPTIONS_INIT;
    o.hash_seed = 20240601;
    o.session_gap_ms = 30 * MIN_MS;
    FUZZ_OK(persona_store_new(&store, &o));
    const double none = NAN;
    static ev evs[64];
    size_t n = 0;
#define E(u, t, ty, v, b, c, ch, r) evs[n++] = (ev){ u, t, ty, v, b, c, ch, r }
    /* u1: a buyer, in time order, with a cart abandoned at the end */
    E("u1", T0 - 30 * DAY_MS, "login", none, NULL, NULL, "web", "google.com");
    E("u1", T0 - 30 * DAY_MS + 5 * MIN_MS, "view", 0, NULL, "running shoes", "web", NULL);
    E("u1", T0 - 30 * DAY_MS + 9 * MIN_MS, "add_to_cart", 120, "b1", "running shoes", NULL, NULL);
    E("u1", T0 - 30 * DAY_MS + 12 * MIN_MS, "purchase", 120, "b1", "running shoes", NULL, NULL);
    E("u1", T0 - 9 * DAY_MS, "login", none, NULL, NULL, "app", NULL);
    E("u1", T0 - 2 * DAY_MS, "view", 0, NULL, "socks", "app", NULL);
    E("u1", T0 - 2 * DAY_MS, "view", 0, NULL, "socks", "app", NULL); /* equal time */
    E("u1", T0 - 1 * DAY_MS, "add_to_cart", 12.5, "b2", "socks", "app", NULL);
    /* u2: out of time order, regular logins, purchases */
    for (int w = 5; w >= 0; w--)
        E("u2", T0 - w * 7 * DAY_MS - 3 * HOUR_MS, "login", none, NULL, NULL, w % 2 ? "web" : "app", NULL);
    E("u2", T0 - 70 * DAY_MS, "purchase", 1500, "b7", "tents", "web", "news.example");
    E("u2", T0 - 80 * DAY_MS, "purchase", 250.25, "b6", "tents", "web", NULL);
    E("u2", T0 - 75 * DAY_MS, "view", 0, NULL, "tents", NULL, NULL);
    E("u2", T0 - 4 * DAY_MS, "view", 0, NULL, "caf\xc3\xa9", NULL, "t.co/abc*");
    /* u3: one early signup, then silence; restarted recently */
    E("u3", T0 - 120 * DAY_MS, "signup", none, NULL, NULL, NULL, NULL);
    E("u3", T0 - 119 * DAY_MS, "purchase", 40, "b9", "books", NULL, NULL);
    E("u3", T0 - 3 * HOUR_MS, "purchase", 60, "b10", "books", NULL, NULL);
    E("u3", T0 - 3 * HOUR_MS, "view", 0, NULL, "books", NULL, NULL);
    /* u4: events only after T0 - 1 day and one in the future of most evaluation times */
    E("u4", T0 - 20 * HOUR_MS, "view", 0, NULL, "ski\"s", "web", NULL);
    E("u4", T0, "purchase", -5, "b11", "ski\"s", "web", NULL);
    E("u4", T0 - 20 * HOUR_MS, "add_to_cart", 0, "b11", NULL, NULL, NULL);
    /* u5: no events of interest, one attribute-only profile */
    E("u5", T0 - 365 * DAY_MS, "event", none, NULL, NULL, NULL, NULL);
#undef E
    for (size_t i = 0; i < n; i++)
        ingest_one(&evs[i]);
    /* heavy: 300 events out of time order, several types */
    static const char *const types[5] = { "view", "add_to_cart", "purchase", "login", "view" };
    static const char *const cats[4] = { "running shoes", "socks", "tents", NULL };
    for (int i = 0; i < 300; i++) {
        int k = (i * 7919) % 300;
        ev e = { "heavy", T0 - (int64_t)k * 5 * HOUR_MS - (k % 3) * MIN_MS, types[k % 5],
                 (k % 4) ? (double)(k % 50) : NAN, (k % 6 == 2) ? (k % 12 ? "hb1" : "hb2") : NULL,
                 cats[k % 4], (k % 2) ? "web" : "app", NULL };
        ingest_one(&e);
    }
    /* attributes */
    FUZZ_OK(persona_store_attr_set_str(store, "u1", "plan", "pro"));
    FUZZ_OK(persona_store_attr_set_num(store, "u1", "age", 34));
    FUZZ_OK(persona_store_attr_set_bool(store, "u1", "vip", 1));
    FUZZ_OK(persona_store_attr_set_str(store, "u1", "pref.topic", "running"));
    FUZZ_OK(persona_store_attr_set_num(store, "u1", "score.churn", 0.25));
    FUZZ_OK(persona_store_attr_set_str(store, "u1", "city", "Z\xc3\xbcrich"));
    FUZZ_OK(persona_store_attr_set_str(store, "u2", "plan", "team"));
    FUZZ_OK(persona_store_attr_set_str(store, "u2", "age", "unknown"));
    FUZZ_OK(persona_store_attr_set_time(store, "u2", "signup_at", T0 - 200 * DAY_MS));
    FUZZ_OK(persona_store_attr_set_num(store, "u2", "score.churn", 0.9));
    FUZZ_OK(persona_store_attr_set_num(store, "u2", "score.ltv", 2400));
    FUZZ_OK(persona_store_attr_set_str(store, "u2", "pref.topic", "camping"));
    FUZZ_OK(persona_store_attr_set_bool(store, "u2", "vip", 0));
    FUZZ_OK(persona_store_attr_set_null(store, "u3", "plan"));
    FUZZ_OK(persona_store_attr_set_str(store, "u3", "score.churn", "high")); /* not a number */
    FUZZ_OK(persona_store_attr_set_num(store, "u3", "pref.size", 42));
    FUZZ_OK(persona_store_attr_set_str(store, "u3", "city", "line\nbreak \\ * ?"));
    FUZZ_OK(persona_store_attr_set_str(store, "u4", "plan", "free"));
    FUZZ_OK(persona_store_attr_set_str(store, "u4", "and", "keyword"));
    FUZZ_OK(persona_store_attr_set_num(store, "u4", "age", 19));
    FUZZ_OK(persona_store_attr_set_str(store, "u5", "plan", ""));
    FUZZ_OK(persona_store_attr_set_str(store, "heavy", "plan", "pro"));
    FUZZ_OK(persona_store_attr_set_num(store, "heavy", "score.ltv", 99.5));
    /* consent */
    FUZZ_OK(persona_store_consent_set(store, "u1", "marketing", 1, T0 - 50 * DAY_MS));
    FUZZ_OK(persona_store_consent_set(store, "u2", "marketing", 0, T0 - 50 * DAY_MS));
    FUZZ_OK(persona_store_consent_set(store, "u3", "analytics", 1, T0 - 100 * DAY_MS));
    FUZZ_OK(persona_store_consent_set(store, "u3", "analytics", 0, T0 - 10 * DAY_MS));
    FUZZ_OK(persona_store_consent_set(store, "heavy", "marketing", 1, T0 - 10 * DAY_MS));

    /* the users in index order */
    persona_store_info info = PERSONA_STORE_INFO_INIT;
    FUZZ_OK(persona_store_info_get(&info, store));
    FUZZ_ASSERT(info.users == N_USERS - 1, "store has %llu users", (unsigned long long)info.users);
    n_store_users = (size_t)info.users;
    for (size_t i = 0; i < n_store_users; i++) {
        char key[64];
        FUZZ_OK(persona_store_user_at(key, sizeof key, NULL, store, i));
        user_by_index[i] = -1;
        for (int u = 0; u < N_USERS; u++)
            if (strcmp(users[u], key) == 0)
                user_by_index[i] = u;
        FUZZ_ASSERT(user_by_index[i] >= 0, "unknown user %s", key);
    }
}

/* ---- the in-memory file system, readable (fuzz_memfs.h only writes) ------------------- */

static int rce_open(const char *path, int flags, mode_t mode)
{
    if ((flags & O_ACCMODE) == O_RDONLY)
        return MEMFS_FD; /* reading (or the directory): keep the file */
    return memfs_open(path, flags, mode);
}

static ssize_t rce_pread(int fd, void *buf, size_t n, off_t off)
{
    if (fd != MEMFS_FD || off < 0) {
        errno = EIO;
        return -1;
    }
    if ((size_t)off >= memfs_len)
        return 0;
    size_t k = memfs_len - (size_t)off < n ? memfs_len - (size_t)off : n;
    memcpy(buf, memfs_data + off, k);
    return (ssize_t)k;
}

static const persona__io_ops rce_ops = { rce_open,    memfs_write,  memfs_pwrite,
                                         rce_pread,   memfs_fstat,  memfs_ok_fd,
                                         memfs_ok_fd, memfs_rename, memfs_unlink };

static uint8_t *save_model(const persona_segment_model *m, size_t *len)
{
    persona__io_set(&rce_ops);
    int rc = persona_segment_model_save(m, "/memfs/model.snap");
    persona__io_set(NULL);
    return memfs_take(rc, len);
}

static persona_segment_model *load_model(const uint8_t *bytes, size_t len)
{
    FUZZ_ASSERT(memfs_reserve(len) == 0, "out of memory");
    memcpy(memfs_data, bytes, len);
    memfs_len = len;
    persona_segment_model *m = NULL;
    persona__io_set(&rce_ops);
    int rc = persona_segment_model_load(&m, "/memfs/model.snap");
    persona__io_set(NULL);
    FUZZ_ASSERT(rc == PERSONA_OK && m, "loading a saved model: %d (%s)", rc,
                rc ? persona_errmsg() : "no model");
    return m;
}

/* ---- checks -------------------------------------------------------------------------- */

/* A parse error names a line and column inside text, and the message starts with them. */
static void check_parse_error(const char *what, const char *text, size_t len)
{
    uint64_t line = 0, col = 0;
    int prc = persona_error_position(&line, &col);
    const char *msg = persona_errmsg();
    FUZZ_ASSERT(prc == PERSONA_OK && line >= 1 && col >= 1, "%s: EPARSE without a position (%s)",
                what, msg);
    /* The line's start and length. */
    uint64_t l = 1;
    size_t start = 0;
    for (size_t i = 0; i < len && l < line; i++)
        if (text[i] == '\n') {
            l++;
            start = i + 1;
        }
    FUZZ_ASSERT(l == line, "%s: line %llu of a text with %llu lines (%s)", what,
                (unsigned long long)line, (unsigned long long)l, msg);
    size_t end = start;
    while (end < len && text[end] != '\n')
        end++;
    FUZZ_ASSERT(col <= end - start + 1, "%s: column %llu of a line of %zu bytes (%s)", what,
                (unsigned long long)col, end - start, msg);
    char prefix[64];
    int n = snprintf(prefix, sizeof prefix, "line %llu, column %llu", (unsigned long long)line,
                     (unsigned long long)col);
    FUZZ_ASSERT(strncmp(msg, prefix, (size_t)n) == 0 && (msg[n] == ':' || msg[n] == ' '),
                "%s: message \"%s\" does not start with \"%s\"", what, msg, prefix);
    FUZZ_ASSERT(strlen(msg) > (size_t)n + 2, "%s: message without text", what);
}

typedef struct answers {
    size_t n_segs;
    int32_t mode;
    /* per time (2) and user: test() of every segment (up to 64 kept) and the assign list */
    uint8_t truth[2][N_USERS][64];
    uint32_t assigned[2][N_USERS][64];
    size_t n_assigned[2][N_USERS];
} answers;

#define MAX_KEPT 64

typedef struct scan_seen {
    size_t n, cap;
    int *user;
    uint32_t *seg;
    int stop;
} scan_seen;

static int on_member(void *ctx, const char *user, size_t user_len, uint32_t seg)
{
    scan_seen *s = ctx;
    int u = -1;
    for (int i = 0; i < N_USERS; i++)
        if (strlen(users[i]) == user_len && memcmp(users[i], user, user_len) == 0)
            u = i;
    FUZZ_ASSERT(u >= 0 && u < N_USERS - 1, "scan reported user %.*s", (int)user_len, user);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->user = realloc(s->user, s->cap * sizeof *s->user);
        s->seg = realloc(s->seg, s->cap * sizeof *s->seg);
        FUZZ_ASSERT(s->user && s->seg, "out of memory");
    }
    s->user[s->n] = u;
    s->seg[s->n] = seg;
    s->n++;
    return s->stop ? -1 : 0;
}

/* Whether line `verdict` for segment name appears at a line start from *pos on; moves
 * *pos past it. */
static int find_verdict(const char *text, size_t *pos, const char *name, const char *verdict)
{
    size_t nl = strlen(name), vl = strlen(verdict);
    const char *p = text + *pos;
    while (*p) {
        if ((p == text || p[-1] == '\n') && strncmp(p, name, nl) == 0 && p[nl] == ':' &&
            p[nl + 1] == ' ' && strncmp(p + nl + 2, verdict, vl) == 0 &&
            (p[nl + 2 + vl] == '\n' || p[nl + 2 + vl] == ' ')) {
            *pos = (size_t)(p - text) + nl + 2 + vl;
            return 1;
        }
        p++;
    }
    return 0;
}

static void check_describe(const persona_segment_model *m, const answers *a, int t, int u,
                           const persona_eval_context *ctx)
{
    char small[8];
    size_t need = 0, got = 0;
    int rc = persona_segment_model_describe(small, sizeof small, &need, m, store, users[u], ctx);
    FUZZ_ASSERT(rc == PERSONA_OK || rc == PERSONA_EBUFS, "describe (8 bytes): %d (%s)", rc,
                persona_errmsg());
    FUZZ_ASSERT((rc == PERSONA_OK) == (need < sizeof small), "describe: rc %d for %zu bytes", rc,
                need);
    static char big[1 << 16];
    char *buf = need < sizeof big ? big : malloc(need + 1);
    FUZZ_ASSERT(buf != NULL, "out of memory");
    rc = persona_segment_model_describe(buf, need + 1, &got, m, store, users[u], ctx);
    FUZZ_ASSERT(rc == PERSONA_OK && got == need && strlen(buf) == need,
                "describe: rc %d, %zu bytes then %zu", rc, need, got);
    /* One verdict line per segment, in order. */
    size_t pos = 0;
    int matched = 0;
    for (size_t i = 0; i < a->n_segs && i < MAX_KEPT; i++) {
        char name[PERSONA_SEGMENT_MAX_NAME + 1];
        FUZZ_OK(persona_segment_model_name(name, sizeof name, NULL, m, i));
        const char *verdict = matched && a->mode == PERSONA_SEGMENT_FIRST_MATCH ? "not reached"
                              : a->truth[t][u][i]                               ? "yes"
                                                                                : "no";
        matched |= a->truth[t][u][i];
        if (name[0] == ' ')
            continue; /* could be taken for a clause line */
        FUZZ_ASSERT(find_verdict(buf, &pos, name, verdict),
                    "describe of %s lacks \"%s: %s\" after byte %zu:\n%s", users[u], name, verdict,
                    pos, buf);
    }
    if (buf != big)
        free(buf);
}

/* Evaluate m for every user at the time flags choose, checking assign / test / describe against each
 * other and scan against assign; fills a. */
static void evaluate(const persona_segment_model *m, answers *a, uint8_t flags, uint8_t ctxb,
                     int full)
{
    memset(a, 0, sizeof *a);
    FUZZ_OK(persona_segment_model_count(&a->n_segs, m));
    FUZZ_OK(persona_segment_model_mode(&a->mode, m));
    FUZZ_ASSERT(a->n_segs >= 1 && a->n_segs <= PERSONA_SEGMENT_MAX, "%zu segments", a->n_segs);
    static const char *const names[] = { "referrer", "country", "device", "" };
    static const char *const values[] = { "google.com", "CH", NULL, "empty name" };
    persona_eval_context ctx = PERSONA_EVAL_CONTEXT_INIT;
    ctx.hour = (int32_t)(ctxb % 25) - 1;
    if (!(ctxb & 0x80)) {
        ctx.count = 4;
        ctx.names = names;
        ctx.values = values;
    }
    static uint32_t out[PERSONA_SEGMENT_MAX];
    for (int t = 0; t < 2; t++) {
        if (t != ((flags >> 6) & 1))
            continue; /* one time per input */
        ctx.now_ms = t == 0 ? PERSONA_NOW_STORE : extra_now[(flags >> 3) & 7];
        for (int u = 0; u < N_USERS; u++) {
            /* heavy (300 events) is slow to evaluate: only when asked for */
            if (!small_user[u] && (!full || !(flags & 0x80)))
                continue;
            if (!full) {
                /* the truth of every segment only */
                for (size_t i = 0; i < a->n_segs && i < MAX_KEPT; i++) {
                    int32_t v = -1;
                    FUZZ_OK(persona_segment_model_test(&v, m, i, store, users[u], &ctx));
                    FUZZ_ASSERT(v == 0 || v == 1, "test gave %d", v);
                    a->truth[t][u][i] = (uint8_t)v;
                }
                continue;
            }
            size_t cnt = 0, cnt0 = 99;
            /* the first call binds the model to the store (may allocate) */
            FUZZ_OK(persona_segment_model_assign(out, a->n_segs, &cnt, m, store, users[u], &ctx));
            uint64_t before = alloc_calls;
            int rc = persona_segment_model_assign(NULL, 0, &cnt0, m, store, users[u], &ctx);
            FUZZ_ASSERT(rc == (cnt ? PERSONA_EBUFS : PERSONA_OK) && cnt0 == cnt,
                        "assign into no room: rc %d, count %zu (want %zu)", rc, cnt0, cnt);
            FUZZ_ASSERT(a->mode == PERSONA_SEGMENT_ALL_MATCHES || cnt <= 1,
                        "first-match assign gave %zu segments", cnt);
            int first = -1;
            size_t members = 0;
            for (size_t i = 0; i < a->n_segs; i++) {
                int32_t v = -1;
                FUZZ_OK(persona_segment_model_test(&v, m, i, store, users[u], &ctx));
                FUZZ_ASSERT(v == 0 || v == 1, "test gave %d", v);
                if (i < MAX_KEPT)
                    a->truth[t][u][i] = (uint8_t)v;
                if (v && first < 0)
                    first = (int)i;
                if (a->mode == PERSONA_SEGMENT_ALL_MATCHES && v) {
                    FUZZ_ASSERT(members < cnt && out[members] == i,
                                "%s: segment %zu holds but assign listed otherwise", users[u], i);
                    members++;
                }
            }
            if (a->mode == PERSONA_SEGMENT_ALL_MATCHES)
                FUZZ_ASSERT(members == cnt, "%s: %zu segments hold, assign gave %zu", users[u],
                            members, cnt);
            else
                FUZZ_ASSERT(first < 0 ? cnt == 0 : (cnt == 1 && out[0] == (uint32_t)first),
                            "%s: first true segment %d, assign gave %zu (%u)", users[u], first, cnt,
                            cnt ? out[0] : 0);
            FUZZ_ASSERT(!small_user[u] || alloc_calls == before,
                        "evaluating %s allocated %llu times", users[u],
                        (unsigned long long)(alloc_calls - before));
            a->n_assigned[t][u] = cnt;
            for (size_t i = 0; i < cnt && i < MAX_KEPT; i++)
                a->assigned[t][u][i] = out[i];
            check_describe(m, a, t, u, &ctx);
        }
        if (!full)
            continue;
        /* scan: counts and memberships in user index order */
        uint64_t *counts = calloc(a->n_segs, sizeof *counts), none = 99;
        FUZZ_ASSERT(counts != NULL, "out of memory");
        scan_seen seen = { 0, 0, NULL, NULL, 0 };
        FUZZ_OK(persona_segment_model_scan(counts, a->n_segs, &none, m, store, &ctx, on_member,
                                           &seen, 1));
        size_t k = 0;
        uint64_t want_none = 0;
        for (size_t i = 0; i < n_store_users; i++) {
            int u = user_by_index[i];
            if (!small_user[u] && !(flags & 0x80)) {
                /* not evaluated above: take scan's word (checked at the other time) */
                while (k < seen.n && seen.user[k] == u)
                    a->assigned[t][u][a->n_assigned[t][u]++ % MAX_KEPT] = seen.seg[k++];
                want_none += a->n_assigned[t][u] == 0;
                continue;
            }
            want_none += a->n_assigned[t][u] == 0;
            for (size_t j = 0; j < a->n_assigned[t][u] && j < MAX_KEPT; j++, k++)
                FUZZ_ASSERT(k < seen.n && seen.user[k] == u && seen.seg[k] == a->assigned[t][u][j],
                            "scan membership %zu differs from assign of %s", k, users[u]);
        }
        FUZZ_ASSERT(k == seen.n || a->n_segs > MAX_KEPT, "scan gave %zu memberships, assign %zu",
                    seen.n, k);
        FUZZ_ASSERT(none == want_none, "scan: %llu users in no segment, assign %llu",
                    (unsigned long long)none, (unsigned long long)want_none);
        for (size_t s = 0; s < a->n_segs && s < MAX_KEPT; s++) {
            uint64_t c = 0;
            for (size_t i = 0; i < n_store_users; i++) {
                int u = user_by_index[i];
                for (size_t j = 0; j < a->n_assigned[t][u] && j < MAX_KEPT; j++)
                    c += a->assigned[t][u][j] == s;
            }
            FUZZ_ASSERT(counts[s] == c, "scan counted %llu in segment %zu, assign %llu",
                        (unsigned long long)counts[s], s, (unsigned long long)c);
        }
        if (flags & 4) {
            scan_seen stop = { 0, 0, NULL, NULL, 1 };
            int rc = persona_segment_model_scan(NULL, 0, NULL, m, store, &ctx, on_member, &stop, 2);
            FUZZ_ASSERT(rc == (seen.n ? PERSONA_ECALLBACK : PERSONA_OK) && stop.n == (seen.n ? 1u : 0u),
                        "stopping scan: rc %d after %zu calls (%zu memberships)", rc, stop.n, seen.n);
            free(stop.user);
            free(stop.seg);
        }
        free(seen.user);
        free(seen.seg);
        free(counts);
    }
}

/* Names and rule texts of two models are the same. */
static void check_same_texts(const persona_segment_model *a, const persona_segment_model *b)
{
    size_t na = 0, nb = 0;
    FUZZ_OK(persona_segment_model_count(&na, a));
    FUZZ_OK(persona_segment_model_count(&nb, b));
    FUZZ_ASSERT(na == nb, "%zu segments, then %zu", na, nb);
    static char x[PERSONA_RULE_MAX_TEXT + 1], y[PERSONA_RULE_MAX_TEXT + 1];
    for (size_t i = 0; i < na; i++) {
        FUZZ_OK(persona_segment_model_name(x, sizeof x, NULL, a, i));
        FUZZ_OK(persona_segment_model_name(y, sizeof y, NULL, b, i));
        FUZZ_ASSERT(strcmp(x, y) == 0, "segment %zu named %s, then %s", i, x, y);
        size_t at = 99;
        FUZZ_OK(persona_segment_model_find(&at, b, x));
        FUZZ_ASSERT(at <= i, "find(%s) = %zu, it is segment %zu", x, at, i);
        FUZZ_OK(persona_segment_model_rule(x, sizeof x, NULL, a, i));
        FUZZ_OK(persona_segment_model_rule(y, sizeof y, NULL, b, i));
        FUZZ_ASSERT(strcmp(x, y) == 0, "segment %zu rule \"%s\", then \"%s\"", i, x, y);
    }
}

static void check_same_answers(const answers *a, const answers *b, const char *what)
{
    FUZZ_ASSERT(a->n_segs == b->n_segs && a->mode == b->mode, "%s: shape differs", what);
    for (int t = 0; t < 2; t++)
        for (int u = 0; u < N_USERS; u++)
            FUZZ_ASSERT(!small_user[u] ||
                            memcmp(a->truth[t][u], b->truth[t][u], sizeof a->truth[t][u]) == 0,
                        "%s: %s answers differently (time %d)", what, users[u], t);
}

/* ---- the base model of add_rule ------------------------------------------------------ */

static const char base_rule[] = "count(\"purchase\", 90d) >= 1 and consent(\"marketing\")";

static persona_segment_model *base_model(void)
{
    persona_segment_model *m = NULL;
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = PERSONA_SEGMENT_ALL_MATCHES;
    FUZZ_OK(persona_segment_model_new(&m, &o));
    FUZZ_OK(persona_segment_model_add_rule(m, "base", base_rule, sizeof base_rule - 1));
    const char *keys[] = { "u3", "nobody" };
    FUZZ_OK(persona_segment_model_add_list(m, "vips", keys, 2));
    return m;
}

static answers base_answers;
static persona_eval_context base_ctx = PERSONA_EVAL_CONTEXT_INIT;

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    persona_allocator a = { sizeof a, 0, NULL, count_allocate, count_reallocate, count_deallocate };
    if (persona_set_allocator(&a) != PERSONA_OK) {
        fprintf(stderr, "fuzz: persona_set_allocator failed: %s\n", persona_errmsg());
        abort();
    }
    build_store();
    persona_segment_model *m = base_model();
    evaluate(m, &base_answers, 0, 0x80, 0);
    FUZZ_ASSERT(base_answers.truth[0][0][0] == 1 && base_answers.truth[0][1][0] == 0 &&
                    base_answers.truth[0][1][1] == 0 && base_answers.truth[0][2][1] == 1,
                "the base model answers wrongly");
    persona_segment_model_free(m);
}

static int mentions(const char *text, size_t len, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(text + i, word, n) == 0)
            return 1;
    return 0;
}

/* The single-rule path: add_rule into the base model. */
static void single_rule(const char *text, size_t len, uint8_t flags, uint8_t ctxb)
{
    persona_segment_model *m = base_model();
    model_mark before, after;
    persona__model_mark(m, &before);
    int rc = persona_segment_model_add_rule(m, "fuzz", text, len);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_EPARSE, "add_rule returned %d (%s)", rc, persona_errmsg());
        check_parse_error("add_rule", text, len);
        persona__model_mark(m, &after);
        size_t n = 0;
        FUZZ_OK(persona_segment_model_count(&n, m));
        FUZZ_ASSERT(n == 2 && memcmp(&before, &after, sizeof before) == 0,
                    "a failed add_rule changed the model");
        /* it still answers as before (two users at the store's clock: the full comparison
         * made every input 3 times slower and found nothing the table sizes miss) */
        for (int u = 0; u < 2; u++)
            for (size_t i = 0; i < 2; i++) {
                int32_t v = -1;
                FUZZ_OK(persona_segment_model_test(&v, m, i, store, users[u], &base_ctx));
                FUZZ_ASSERT(v == base_answers.truth[0][u][i],
                            "after a failed add_rule segment %zu is %d for %s, was %d", i, v,
                            users[u], base_answers.truth[0][u][i]);
            }
        persona_segment_model_free(m);
        return;
    }
    answers single;
    evaluate(m, &single, flags, ctxb, 0);
    /* The same rule in a rule set (without in_segment, which may name the list). */
    if (!mentions(text, len, "in_segment")) {
        static char set[1024];
        static const char head[] = "base: ";
        size_t k = 0;
        memcpy(set + k, head, sizeof head - 1);
        k += sizeof head - 1;
        memcpy(set + k, base_rule, sizeof base_rule - 1);
        k += sizeof base_rule - 1;
        memcpy(set + k, "\nfuzz: ", 7);
        k += 7;
        FUZZ_ASSERT(k + len + 1 <= sizeof set || len > 512, "set buffer");
        if (k + len + 1 <= sizeof set) {
            memcpy(set + k, text, len);
            k += len;
            set[k++] = '\n';
            persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
            o.mode = PERSONA_SEGMENT_ALL_MATCHES;
            persona_segment_model *s = NULL;
            rc = persona_segment_model_compile(&s, set, k, &o);
            FUZZ_ASSERT(rc == PERSONA_OK, "a rule add_rule takes fails in a rule set: %s",
                        persona_errmsg());
            static char r1[1024], r2[1024];
            FUZZ_OK(persona_segment_model_rule(r1, sizeof r1, NULL, m, 2));
            FUZZ_OK(persona_segment_model_rule(r2, sizeof r2, NULL, s, 1));
            FUZZ_ASSERT(strcmp(r1, r2) == 0, "rule text \"%s\" alone, \"%s\" in a set", r1, r2);
            answers in_set;
            evaluate(s, &in_set, flags, ctxb, 0);
            for (int t = 0; t < 2; t++)
                for (int u = 0; u < N_USERS; u++)
                    FUZZ_ASSERT(single.truth[t][u][2] == in_set.truth[t][u][1],
                                "%s: the rule is %d alone, %d in a set (time %d)", users[u],
                                single.truth[t][u][2], in_set.truth[t][u][1], t);
            persona_segment_model_free(s);
        }
    }
    persona_segment_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    uint8_t flags = size > 0 ? data[0] : 0, ctxb = size > 1 ? data[1] : 0;
    const char *text = size > 2 ? (const char *)data + 2 : "";
    size_t len = size > 2 ? size - 2 : 0;
    if (len > PERSONA_RULE_MAX_TEXT)
        return 0;

    /* 1. the rule set */
    persona_segment_options o = PERSONA_SEGMENT_OPTIONS_INIT;
    o.mode = (flags & 1) ? PERSONA_SEGMENT_ALL_MATCHES : PERSONA_SEGMENT_FIRST_MATCH;
    persona_segment_model *m = (persona_segment_model *)&o;
    int rc = persona_segment_model_compile(&m, text, len, &o);
    if (rc != PERSONA_OK) {
        FUZZ_ASSERT(rc == PERSONA_EPARSE, "compile returned %d (%s)", rc, persona_errmsg());
        FUZZ_ASSERT(m == NULL, "a failed compile left a model");
        check_parse_error("compile", text, len);
    } else {
        answers a;
        evaluate(m, &a, flags, ctxb, 1);
        if (flags & 2) {
            size_t l1 = 0, l2 = 0;
            uint8_t *b1 = save_model(m, &l1);
            persona_segment_model *g = load_model(b1, l1);
            check_same_texts(m, g);
            answers b;
            evaluate(g, &b, flags, ctxb, 0);
            check_same_answers(&a, &b, "the reloaded model");
            uint8_t *b2 = save_model(g, &l2);
            FUZZ_ASSERT(l1 == l2 && memcmp(b1, b2, l1) == 0, "saving the reloaded model gives other bytes");
            free(b1);
            free(b2);
            persona_segment_model_free(g);
        }
        persona_segment_model_free(m);
    }

    /* 2. the single rule */
    single_rule(text, len, flags, ctxb);
    return 0;
}
