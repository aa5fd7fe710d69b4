/* A brute-force reference for the rule language (docs/rules.md), written from the spec
 * alone and sharing no code with lib/segment: the raw events, attributes and consent of
 * one user as the test generated them, a rule AST with a printer to rule text, and an
 * evaluator that recomputes every trait and function from the raw event list on each call.
 * Used by test_rule_reference.c. Include after check.h. */
#ifndef PERSONA_TEST_RULE_REFERENCE_H
#define PERSONA_TEST_RULE_REFERENCE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RR_SEC INT64_C(1000)
#define RR_MIN INT64_C(60000)
#define RR_HOUR INT64_C(3600000)
#define RR_DAY INT64_C(86400000)
#define RR_WEEK (7 * RR_DAY)

#define RR_MAX_EV 320 /* > 256: the evaluator's allocating path for out-of-order users */
#define RR_MAX_ATTR 16
#define RR_NPURPOSE 2
#define RR_NCTX 3

/* ---- the raw data of one user ---- */

/* Event types: 0..4 are real; RR_T_ANY is "*"; RR_T_UNKNOWN a type nobody has. */
enum { RR_T_VIEW, RR_T_CART, RR_T_PURCHASE, RR_T_LOGIN, RR_T_REFUND, RR_NTYPES,
       RR_T_ANY = RR_NTYPES, RR_T_UNKNOWN };
static const char *const rr_type_names[] = { "view", "add_to_cart", "purchase", "login",
                                             "refund", "*", "wishlist" };

/* Property values (index into these pools; -1 = not on the event, -2 = given as "" which
 * the store treats as absent). */
static const char *const rr_cats[] = { "running shoes", "shoes", "running", "bags",
                                       "caf\xc3\xa9 cr\xc3\xa8me", "hats" };
#define RR_NCATS 6
static const char *const rr_chans[] = { "email", "ads", "social" };
#define RR_NCHANS 3
enum { RR_PROP_CATEGORY, RR_PROP_CHANNEL, RR_PROP_NEVER };
static const char *const rr_prop_names[] = { "category", "channel", "coupon" };

typedef struct rr_event {
    int64_t t;
    int type;
    double value;      /* NaN = absent */
    int basket;        /* -1 = none, else "b<N>" */
    int cat, chan;     /* pool index, -1 none, -2 "" */
    uint32_t arrival;  /* position in the store's ingestion order */
} rr_event;

typedef struct rr_attr {
    const char *name;
    int32_t type; /* PERSONA_NULL / _NUM / _STR / _BOOL / _TIME */
    double num;
    const char *str;
    int32_t b;
    int64_t time;
} rr_attr;

static const char *const rr_purposes[RR_NPURPOSE] = { "marketing", "analytics" };
static const char *const rr_ctx_names[RR_NCTX] = { "country", "device", "referrer" };

typedef struct rr_user {
    char key[24];
    rr_event ev[RR_MAX_EV]; /* in ingestion order */
    int nev;
    rr_attr attrs[RR_MAX_ATTR];
    int nattr;
    int consent[RR_NPURPOSE]; /* -1 never recorded, 0 denied, 1 granted (latest call) */
} rr_user;

static const rr_attr *rr_attr_find(const rr_user *u, const char *name)
{
    for (int i = 0; i < u->nattr; i++)
        if (strcmp(u->attrs[i].name, name) == 0)
            return &u->attrs[i];
    return NULL;
}

static void rr_attr_put(rr_user *u, const rr_attr *a)
{
    for (int i = 0; i < u->nattr; i++)
        if (strcmp(u->attrs[i].name, a->name) == 0) {
            u->attrs[i] = *a;
            return;
        }
    if (u->nattr < RR_MAX_ATTR)
        u->attrs[u->nattr++] = *a;
}

static void rr_attr_del(rr_user *u, const char *name)
{
    for (int i = 0; i < u->nattr; i++)
        if (strcmp(u->attrs[i].name, name) == 0) {
            u->attrs[i] = u->attrs[--u->nattr];
            return;
        }
}

/* ---- durations ---- */

typedef struct rr_dur {
    const char *text;
    int64_t ms;
} rr_dur;

static const rr_dur rr_durs[] = {
    { "1h", RR_HOUR },       { "6h", 6 * RR_HOUR },    { "36h", 36 * RR_HOUR },
    { "1d", RR_DAY },        { "1.5d", 36 * RR_HOUR }, { "2d", 2 * RR_DAY },
    { "3d", 3 * RR_DAY },    { "7d", 7 * RR_DAY },     { "1w", RR_WEEK },
    { "14d", 14 * RR_DAY },  { "2w", 2 * RR_WEEK },    { "30d", 30 * RR_DAY },
    { "45d", 45 * RR_DAY },  { "60d", 60 * RR_DAY },   { "90d", 90 * RR_DAY },
    { "90m", 90 * RR_MIN },  { "3600s", RR_HOUR },     { "86400000ms", RR_DAY },
    { "0.5h", 30 * RR_MIN }, { "10d", 10 * RR_DAY },   { "20d", 20 * RR_DAY },
};
#define RR_NDURS ((int)(sizeof rr_durs / sizeof rr_durs[0]))

/* ---- the AST ---- */

enum rr_kind {
    RK_NUM,       /* number or duration literal: num, text */
    RK_STR,       /* string literal: str */
    RK_BOOL,      /* true / false: num */
    RK_NOW,
    RK_TRAIT,     /* op = RR_TR_* */
    RK_ATTR,      /* str = attribute name; form = RR_AF_* */
    RK_PREF,      /* str = NAME (attribute "pref.NAME") */
    RK_CTX,       /* op = context field index */
    RK_CTX_HOUR,
    RK_COUNT,     /* type, win (-1 = all time) */
    RK_SUM,
    RK_DAYS_SINCE,
    RK_FIRST_TIME, /* type, win */
    RK_STOPPED,
    RK_RESTARTED, /* type, win, gap (-1 = default) */
    RK_REGULARLY, /* type, k, n, unit, unit_sp */
    RK_SEQUENCE,  /* nsteps, steps, stepneg, win (-1 = no within) */
    RK_LAST,      /* op = property index */
    RK_CONSENT,   /* op = purpose index */
    RK_SCORE,     /* str = score name */
    RK_IN_SEGMENT, /* seg */
    RK_EXISTS,    /* a = reference node */
    RK_DATE,      /* str = text, num = value */
    RK_NEG,       /* a */
    RK_ARITH,     /* op = '+' '-' '*' '/' '%' */
    RK_CMP,       /* op = RR_CMP_* */
    RK_IN,        /* neg, a, list */
    RK_CONTAINS,  /* neg, a, b */
    RK_STARTS,
    RK_ENDS,
    RK_MATCHES,   /* a, str = glob (unescaped) */
    RK_BETWEEN,   /* neg, a, b, c */
    RK_AND,
    RK_OR,
    RK_NOT,
    RK_COUNT_KINDS
};

static const char *const rr_kind_names[RK_COUNT_KINDS] = {
    "number", "string", "bool", "now", "trait", "attr", "pref", "ctx", "ctx.hour",
    "count", "sum", "days_since", "first_time", "stopped", "restarted", "regularly",
    "sequence", "last", "consent", "score", "in_segment", "exists", "date", "neg", "arith",
    "cmp", "in", "contains", "starts_with", "ends_with", "matches", "between", "and", "or",
    "not"
};

enum { RR_TR_EVENTS, RR_TR_VALUE, RR_TR_ORDERS, RR_TR_SESSIONS, RR_TR_FIRST_SEEN,
       RR_TR_LAST_SEEN, RR_NTRAITS };
static const char *const rr_trait_names[] = { "events", "value", "orders", "sessions",
                                              "first_seen", "last_seen" };

enum { RR_AF_BARE, RR_AF_DOT, RR_AF_BRACKET };
enum { RR_CMP_EQ, RR_CMP_NE, RR_CMP_LT, RR_CMP_LE, RR_CMP_GT, RR_CMP_GE };
static const char *const rr_cmp_names[] = { "==", "!=", "<", "<=", ">", ">=" };
enum { RR_UNIT_HOURS, RR_UNIT_DAYS, RR_UNIT_WEEKS };

#define RR_MAX_LIST 8
#define RR_MAX_STEPS 16

typedef struct rr_node {
    int kind, op, neg, form;
    struct rr_node *a, *b, *c;
    double num;
    char text[64];     /* literal text of a number / duration */
    const char *str;   /* string literal, names, glob, date text */
    int type;          /* event type of a function */
    int win, gap;      /* indexes into rr_durs, -1 = none */
    int k, n, unit, unit_sp;
    int nsteps, steps[RR_MAX_STEPS], stepneg[RR_MAX_STEPS];
    int nlist;
    struct rr_node *list[RR_MAX_LIST];
    int seg;
} rr_node;

/* ---- printing a rule (every operator's operands parenthesized unless atomic) ---- */

typedef struct rr_buf {
    char *p;
    size_t len, cap;
} rr_buf;

static void rr_puts(rr_buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap)
        n = b->cap - b->len - 1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void rr_putq(rr_buf *b, const char *s)
{
    char tmp[8];
    rr_puts(b, "\"");
    for (; *s; s++) {
        if (*s == '"')
            rr_puts(b, "\\\"");
        else if (*s == '\\')
            rr_puts(b, "\\\\");
        else if (*s == '\n')
            rr_puts(b, "\\n");
        else if (*s == '\t')
            rr_puts(b, "\\t");
        else {
            tmp[0] = *s;
            tmp[1] = 0;
            rr_puts(b, tmp);
        }
    }
    rr_puts(b, "\"");
}

static int rr_is_atomic(const rr_node *n)
{
    switch (n->kind) {
    case RK_NEG: case RK_ARITH: case RK_CMP: case RK_IN: case RK_CONTAINS: case RK_STARTS:
    case RK_ENDS: case RK_MATCHES: case RK_BETWEEN: case RK_AND: case RK_OR: case RK_NOT:
        return 0;
    case RK_NUM:
        return n->num >= 0; /* a negative literal prints with its sign */
    default:
        return 1;
    }
}

static void rr_print(rr_buf *b, const rr_node *n);

static void rr_wrap(rr_buf *b, const rr_node *n)
{
    if (rr_is_atomic(n)) {
        rr_print(b, n);
    } else {
        rr_puts(b, "(");
        rr_print(b, n);
        rr_puts(b, ")");
    }
}

static void rr_print_type_win(rr_buf *b, const char *fn, const rr_node *n)
{
    rr_puts(b, fn);
    rr_puts(b, "(");
    rr_putq(b, rr_type_names[n->type]);
    if (n->win >= 0) {
        rr_puts(b, ", ");
        rr_puts(b, rr_durs[n->win].text);
    }
    if (n->gap >= 0) {
        rr_puts(b, ", ");
        rr_puts(b, rr_durs[n->gap].text);
    }
    rr_puts(b, ")");
}

static void rr_print(rr_buf *b, const rr_node *n)
{
    char tmp[64];
    switch (n->kind) {
    case RK_NUM: rr_puts(b, n->text); break;
    case RK_STR: rr_putq(b, n->str); break;
    case RK_BOOL: rr_puts(b, n->num != 0 ? "true" : "false"); break;
    case RK_NOW: rr_puts(b, "now"); break;
    case RK_TRAIT: rr_puts(b, rr_trait_names[n->op]); break;
    case RK_ATTR:
        if (n->form == RR_AF_BARE) {
            rr_puts(b, n->str);
        } else if (n->form == RR_AF_DOT) {
            rr_puts(b, "attr.");
            rr_puts(b, n->str);
        } else {
            rr_puts(b, "attr[");
            rr_putq(b, n->str);
            rr_puts(b, "]");
        }
        break;
    case RK_PREF: rr_puts(b, "pref."); rr_puts(b, n->str); break;
    case RK_CTX: rr_puts(b, "ctx."); rr_puts(b, rr_ctx_names[n->op]); break;
    case RK_CTX_HOUR: rr_puts(b, "ctx.hour"); break;
    case RK_COUNT: rr_print_type_win(b, "count", n); break;
    case RK_SUM: rr_print_type_win(b, "sum", n); break;
    case RK_DAYS_SINCE: rr_print_type_win(b, "days_since", n); break;
    case RK_FIRST_TIME: rr_print_type_win(b, "first_time", n); break;
    case RK_STOPPED: rr_print_type_win(b, "stopped", n); break;
    case RK_RESTARTED: rr_print_type_win(b, "restarted", n); break;
    case RK_REGULARLY: {
        static const char *const units[3][2] = { { "hours", "hour" }, { "days", "day" },
                                                 { "weeks", "week" } };
        rr_puts(b, "regularly(");
        rr_putq(b, rr_type_names[n->type]);
        snprintf(tmp, sizeof tmp, ", %d of %d %s)", n->k, n->n, units[n->unit][n->unit_sp]);
        rr_puts(b, tmp);
        break;
    }
    case RK_SEQUENCE:
        rr_puts(b, "sequence(");
        for (int i = 0; i < n->nsteps; i++) {
            if (i)
                rr_puts(b, " -> ");
            if (n->stepneg[i])
                rr_puts(b, "not ");
            rr_putq(b, rr_type_names[n->steps[i]]);
        }
        if (n->win >= 0) {
            rr_puts(b, ", within ");
            rr_puts(b, rr_durs[n->win].text);
        }
        rr_puts(b, ")");
        break;
    case RK_LAST: rr_puts(b, "last("); rr_putq(b, rr_prop_names[n->op]); rr_puts(b, ")"); break;
    case RK_CONSENT: rr_puts(b, "consent("); rr_putq(b, rr_purposes[n->op]); rr_puts(b, ")"); break;
    case RK_SCORE: rr_puts(b, "score("); rr_putq(b, n->str); rr_puts(b, ")"); break;
    case RK_IN_SEGMENT:
        snprintf(tmp, sizeof tmp, "in_segment(\"r%d\")", n->seg);
        rr_puts(b, tmp);
        break;
    case RK_EXISTS: rr_puts(b, "exists("); rr_print(b, n->a); rr_puts(b, ")"); break;
    case RK_DATE: rr_puts(b, "date("); rr_putq(b, n->str); rr_puts(b, ")"); break;
    case RK_NEG: rr_puts(b, "-"); rr_wrap(b, n->a); break;
    case RK_ARITH:
        rr_wrap(b, n->a);
        snprintf(tmp, sizeof tmp, " %c ", (char)n->op);
        rr_puts(b, tmp);
        rr_wrap(b, n->b);
        break;
    case RK_CMP:
        rr_wrap(b, n->a);
        rr_puts(b, " ");
        rr_puts(b, rr_cmp_names[n->op]);
        rr_puts(b, " ");
        rr_wrap(b, n->b);
        break;
    case RK_IN:
        rr_wrap(b, n->a);
        rr_puts(b, n->neg ? " not in [" : " in [");
        for (int i = 0; i < n->nlist; i++) {
            if (i)
                rr_puts(b, ", ");
            rr_print(b, n->list[i]);
        }
        rr_puts(b, "]");
        break;
    case RK_CONTAINS:
        rr_wrap(b, n->a);
        rr_puts(b, n->neg ? " not contains " : " contains ");
        rr_wrap(b, n->b);
        break;
    case RK_STARTS: rr_wrap(b, n->a); rr_puts(b, " starts_with "); rr_wrap(b, n->b); break;
    case RK_ENDS: rr_wrap(b, n->a); rr_puts(b, " ends_with "); rr_wrap(b, n->b); break;
    case RK_MATCHES: rr_wrap(b, n->a); rr_puts(b, " matches "); rr_putq(b, n->str); break;
    case RK_BETWEEN:
        rr_wrap(b, n->a);
        rr_puts(b, n->neg ? " not between " : " between ");
        rr_wrap(b, n->b);
        rr_puts(b, " and ");
        rr_wrap(b, n->c);
        break;
    case RK_AND: rr_wrap(b, n->a); rr_puts(b, " and "); rr_wrap(b, n->b); break;
    case RK_OR: rr_wrap(b, n->a); rr_puts(b, " or "); rr_wrap(b, n->b); break;
    case RK_NOT: rr_puts(b, "not "); rr_wrap(b, n->a); break;
    default: rr_puts(b, "<?>"); break;
    }
}

/* ---- evaluation ---- */

/* Deliberate reference bugs (RULE_CANARY=N): the comparison must then fail, which shows it
 * can see the difference. 1: windows include now - W; 2: ties ordered against arrival;
 * 3: a gap equal to the session gap starts a session; 4: days_since rounds up; 5: traits
 * count events after now; 6: != is true when an operand is missing. */
static int rr_canary;

enum { RV_MISS, RV_NUM, RV_STR, RV_BOOL };
typedef struct rr_val {
    int t;
    double n; /* number, or 0/1 for a boolean */
    const char *s;
} rr_val;

typedef struct rr_env {
    const rr_user *u;
    int64_t now;
    const rr_event *vis[RR_MAX_EV]; /* events with t <= now, in (time, arrival) order */
    int nvis;
    int32_t hour;                   /* -1 = absent */
    const char *ctx[RR_NCTX];       /* NULL = absent */
    int64_t session_gap;
    rr_node *const *rules;          /* the round's rules, for in_segment */
    int nrules;
    uint64_t (*stats)[2];           /* per kind: times false / true; NULL = don't count */
} rr_env;

static int rr_ev_cmp(const void *x, const void *y)
{
    const rr_event *a = *(const rr_event *const *)x, *b = *(const rr_event *const *)y;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    if (rr_canary == 2)
        return a->arrival > b->arrival ? -1 : a->arrival < b->arrival;
    return a->arrival < b->arrival ? -1 : a->arrival > b->arrival;
}

/* Fill the visible, ordered event list of env for its user and now. */
static void rr_env_prepare(rr_env *env)
{
    env->nvis = 0;
    for (int i = 0; i < env->u->nev; i++)
        if (env->u->ev[i].t <= env->now)
            env->vis[env->nvis++] = &env->u->ev[i];
    qsort(env->vis, (size_t)env->nvis, sizeof env->vis[0], rr_ev_cmp);
}

static rr_val rr_miss(void) { rr_val v = { RV_MISS, 0, NULL }; return v; }
static rr_val rr_num(double x) { rr_val v = { RV_NUM, x, NULL }; return v; }
static rr_val rr_str(const char *s) { rr_val v = { RV_STR, 0, s }; return v; }
static rr_val rr_bool(int b) { rr_val v = { RV_BOOL, b ? 1 : 0, NULL }; return v; }

static int rr_type_match(int want, int have) { return want == RR_T_ANY || want == have; }

/* In the window (now - w, now]; w < 0 means every visible event. */
static int rr_in_win(const rr_env *env, const rr_event *e, int64_t w)
{
    if (rr_canary == 1)
        return w < 0 || e->t >= env->now - w;
    return w < 0 || e->t > env->now - w;
}

static const char *rr_prop_value(const rr_event *e, int prop)
{
    int v = prop == RR_PROP_CATEGORY ? e->cat : prop == RR_PROP_CHANNEL ? e->chan : -1;
    if (v < 0)
        return NULL; /* none, or "" which is absent */
    return prop == RR_PROP_CATEGORY ? rr_cats[v] : rr_chans[v];
}

static rr_val rr_attr_value(const rr_attr *a)
{
    if (!a)
        return rr_miss();
    switch (a->type) {
    case PERSONA_NUM: return rr_num(a->num);
    case PERSONA_TIME: return rr_num((double)a->time);
    case PERSONA_STR: return rr_str(a->str);
    case PERSONA_BOOL: return rr_bool(a->b);
    default: return rr_miss();
    }
}

/* Decode one UTF-8 code point (input is valid UTF-8). */
static uint32_t rr_utf8_next(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    uint32_t c = s[0];
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n == 2) c &= 0x1F;
    else if (n == 3) c &= 0x0F;
    else if (n == 4) c &= 0x07;
    for (int i = 1; i < n; i++)
        c = (c << 6) | (s[i] & 0x3F);
    *p += n;
    return c;
}

/* Whole-string glob match by dynamic programming over code points. */
static int rr_glob(const char *text, const char *glob)
{
    uint32_t t[256], g[256];
    int lit[256];
    int nt = 0, ng = 0;
    while (*text && nt < 256)
        t[nt++] = rr_utf8_next(&text);
    while (*glob && ng < 256) {
        uint32_t c = rr_utf8_next(&glob);
        if (c == '\\' && *glob) {
            g[ng] = rr_utf8_next(&glob);
            lit[ng++] = 1;
        } else {
            g[ng] = c;
            lit[ng++] = 0;
        }
    }
    /* m[i][j]: t[0..i) matches g[0..j) */
    static unsigned char m[257][257];
    for (int i = 0; i <= nt; i++)
        for (int j = 0; j <= ng; j++)
            m[i][j] = 0;
    m[0][0] = 1;
    for (int j = 1; j <= ng; j++)
        m[0][j] = m[0][j - 1] && !lit[j - 1] && g[j - 1] == '*';
    for (int i = 1; i <= nt; i++)
        for (int j = 1; j <= ng; j++) {
            if (!lit[j - 1] && g[j - 1] == '*')
                m[i][j] = m[i - 1][j] || m[i][j - 1];
            else if (!lit[j - 1] && g[j - 1] == '?')
                m[i][j] = m[i - 1][j - 1];
            else
                m[i][j] = m[i - 1][j - 1] && t[i - 1] == g[j - 1];
        }
    return m[nt][ng];
}

/* Sequence by dynamic programming over the ordered window. */
static int rr_sequence_dp(const rr_node *n, const rr_event *const *ev, int ne)
{
    int pos[RR_MAX_STEPS], m = 0;
    int negs[RR_MAX_STEPS + 1][RR_MAX_STEPS], nneg[RR_MAX_STEPS + 1] = { 0 };
    for (int i = 0; i < n->nsteps; i++) {
        if (n->stepneg[i])
            negs[m][nneg[m]++] = n->steps[i];
        else
            pos[m++] = n->steps[i];
    }
    unsigned char ok[RR_MAX_STEPS][RR_MAX_EV];
    for (int k = 0; k < m; k++) {
        int carry = k == 0;
        for (int i = 0; i < ne; i++) {
            ok[k][i] = (unsigned char)(rr_type_match(pos[k], ev[i]->type) && carry);
            int hit = 0;
            for (int q = 0; q < nneg[k]; q++)
                hit |= rr_type_match(negs[k][q], ev[i]->type);
            if (hit)
                carry = 0;
            if (k > 0 && ok[k - 1][i])
                carry = 1;
        }
    }
    for (int i = ne - 1; i >= 0; i--) {
        if (ok[m - 1][i])
            return 1;
        for (int q = 0; q < nneg[m]; q++)
            if (rr_type_match(negs[m][q], ev[i]->type))
                return 0;
    }
    return 0;
}

/* Sequence by enumerating every choice of events for the positive steps (small inputs). */
static int rr_sequence_enum_rec(const rr_node *n, const rr_event *const *ev, int ne, int step,
                                int prev)
{
    /* gap before this positive step: negations from the steps since the last positive */
    int s = step;
    while (s < n->nsteps && n->stepneg[s])
        s++;
    if (s == n->nsteps) { /* trailing negations: nothing after prev may match them */
        for (int i = prev + 1; i < ne; i++)
            for (int q = step; q < n->nsteps; q++)
                if (rr_type_match(n->steps[q], ev[i]->type))
                    return 0;
        return 1;
    }
    for (int i = prev + 1; i < ne; i++) {
        if (rr_type_match(n->steps[s], ev[i]->type)) {
            int bad = 0;
            for (int j = prev + 1; j < i && !bad; j++)
                for (int q = step; q < s; q++)
                    if (rr_type_match(n->steps[q], ev[j]->type))
                        bad = 1;
            if (!bad && rr_sequence_enum_rec(n, ev, ne, s + 1, i))
                return 1;
        }
    }
    return 0;
}

static int rr_sequence(const rr_env *env, const rr_node *n)
{
    const rr_event *ev[RR_MAX_EV];
    int ne = 0;
    int64_t w = n->win >= 0 ? rr_durs[n->win].ms : -1;
    for (int i = 0; i < env->nvis; i++)
        if (rr_in_win(env, env->vis[i], w))
            ev[ne++] = env->vis[i];
    int dp = rr_sequence_dp(n, ev, ne);
    if (ne <= 14) { /* self-check of the reference: enumeration agrees with the DP */
        int en = rr_sequence_enum_rec(n, ev, ne, 0, -1);
        if (en != dp) {
            fprintf(stderr, "reference self-check: sequence DP %d != enumeration %d\n", dp, en);
            abort();
        }
    }
    return dp;
}

static int rr_truthy(rr_val v) { return v.t == RV_BOOL && v.n != 0; }

static int rr_cmp_vals(int op, rr_val x, rr_val y)
{
    if (rr_canary == 6 && op == RR_CMP_NE && (x.t == RV_MISS || y.t == RV_MISS))
        return 1;
    if (x.t == RV_MISS || y.t == RV_MISS || x.t != y.t)
        return 0;
    if (x.t == RV_BOOL) {
        if (op == RR_CMP_EQ) return x.n == y.n;
        if (op == RR_CMP_NE) return x.n != y.n;
        return 0;
    }
    int c;
    if (x.t == RV_NUM)
        c = x.n < y.n ? -1 : x.n > y.n ? 1 : 0;
    else
        c = strcmp(x.s, y.s); /* strcmp compares as unsigned char: byte order */
    switch (op) {
    case RR_CMP_EQ: return c == 0;
    case RR_CMP_NE: return c != 0;
    case RR_CMP_LT: return c < 0;
    case RR_CMP_LE: return c <= 0;
    case RR_CMP_GT: return c > 0;
    default: return c >= 0;
    }
}

static rr_val rr_eval(const rr_env *env, const rr_node *n);

static int rr_eval_rule(const rr_env *env, int index)
{
    return rr_truthy(rr_eval(env, env->rules[index]));
}

static rr_val rr_eval_inner(const rr_env *env, const rr_node *n)
{
    int64_t now = env->now;
    int64_t w = n->win >= 0 ? rr_durs[n->win].ms : -1;
    switch (n->kind) {
    case RK_NUM: return rr_num(n->num);
    case RK_STR: return rr_str(n->str);
    case RK_BOOL: return rr_bool(n->num != 0);
    case RK_NOW: return rr_num((double)now);
    case RK_DATE: return rr_num(n->num);
    case RK_TRAIT:
        switch (n->op) {
        case RR_TR_EVENTS: return rr_num(rr_canary == 5 ? env->u->nev : env->nvis);
        case RR_TR_VALUE: {
            double s = 0;
            for (int i = 0; i < env->nvis; i++)
                if (!isnan(env->vis[i]->value))
                    s += env->vis[i]->value;
            return rr_num(s);
        }
        case RR_TR_ORDERS: {
            int seen[64] = { 0 }, c = 0;
            for (int i = 0; i < env->nvis; i++) {
                int b = env->vis[i]->basket;
                if (b >= 0 && !seen[b]) {
                    seen[b] = 1;
                    c++;
                }
            }
            return rr_num(c);
        }
        case RR_TR_SESSIONS: {
            int c = env->nvis > 0;
            for (int i = 1; i < env->nvis; i++)
                if (env->vis[i]->t - env->vis[i - 1]->t > env->session_gap - (rr_canary == 3))
                    c++;
            return rr_num(c);
        }
        case RR_TR_FIRST_SEEN:
            return env->nvis ? rr_num((double)env->vis[0]->t) : rr_miss();
        default:
            return env->nvis ? rr_num((double)env->vis[env->nvis - 1]->t) : rr_miss();
        }
    case RK_ATTR: return rr_attr_value(rr_attr_find(env->u, n->str));
    case RK_PREF: {
        char name[64];
        snprintf(name, sizeof name, "pref.%s", n->str);
        return rr_attr_value(rr_attr_find(env->u, name));
    }
    case RK_CTX: return env->ctx[n->op] ? rr_str(env->ctx[n->op]) : rr_miss();
    case RK_CTX_HOUR: return env->hour >= 0 ? rr_num(env->hour) : rr_miss();
    case RK_COUNT: {
        int c = 0;
        for (int i = 0; i < env->nvis; i++)
            c += rr_type_match(n->type, env->vis[i]->type) && rr_in_win(env, env->vis[i], w);
        return rr_num(c);
    }
    case RK_SUM: {
        double s = 0;
        for (int i = 0; i < env->nvis; i++)
            if (rr_type_match(n->type, env->vis[i]->type) && rr_in_win(env, env->vis[i], w) &&
                !isnan(env->vis[i]->value))
                s += env->vis[i]->value;
        return rr_num(s);
    }
    case RK_DAYS_SINCE: {
        int64_t latest = INT64_MIN;
        for (int i = 0; i < env->nvis; i++)
            if (rr_type_match(n->type, env->vis[i]->type) && env->vis[i]->t > latest)
                latest = env->vis[i]->t;
        if (latest == INT64_MIN)
            return rr_miss();
        if (rr_canary == 4)
            return rr_num((double)((now - latest + RR_DAY - 1) / RR_DAY));
        return rr_num((double)((now - latest) / RR_DAY)); /* now >= latest: floor */
    }
    case RK_FIRST_TIME: {
        int64_t first = INT64_MAX;
        for (int i = 0; i < env->nvis; i++)
            if (rr_type_match(n->type, env->vis[i]->type) && env->vis[i]->t < first)
                first = env->vis[i]->t;
        return rr_bool(first != INT64_MAX && first > now - w);
    }
    case RK_STOPPED: {
        int in = 0, before = 0;
        for (int i = 0; i < env->nvis; i++) {
            if (!rr_type_match(n->type, env->vis[i]->type))
                continue;
            if (env->vis[i]->t > now - w) in = 1;
            else before = 1;
        }
        return rr_bool(!in && before);
    }
    case RK_RESTARTED: {
        int64_t g = n->gap >= 0 ? rr_durs[n->gap].ms : w;
        int in = 0, gap = 0, before = 0;
        for (int i = 0; i < env->nvis; i++) {
            int64_t t = env->vis[i]->t;
            if (!rr_type_match(n->type, env->vis[i]->type))
                continue;
            if (t > now - w) in = 1;
            else if (t > now - w - g) gap = 1;
            else before = 1;
        }
        return rr_bool(in && !gap && before);
    }
    case RK_REGULARLY: {
        int64_t p = n->unit == RR_UNIT_HOURS ? RR_HOUR : n->unit == RR_UNIT_DAYS ? RR_DAY : RR_WEEK;
        /* Calendar periods: UTC hours and days, weeks from Monday (1970-01-05 was one). */
        int64_t origin = p == RR_WEEK ? 4 * RR_DAY : 0;
        int64_t cur = (int64_t)floor((double)(now - origin) / (double)p);
        int hits = 0;
        for (int j = 0; j < n->n; j++) {
            int64_t lo = origin + (cur - j) * p - 1, hi = origin + (cur - j + 1) * p - 1;
            int any = 0;
            for (int i = 0; i < env->nvis && !any; i++)
                any = rr_type_match(n->type, env->vis[i]->type) && env->vis[i]->t > lo &&
                      env->vis[i]->t <= hi;
            hits += any;
        }
        return rr_bool(hits >= n->k);
    }
    case RK_SEQUENCE: return rr_bool(rr_sequence(env, n));
    case RK_LAST: {
        for (int i = env->nvis - 1; i >= 0; i--) { /* latest by (time, arrival) */
            const char *v = rr_prop_value(env->vis[i], n->op);
            if (v)
                return rr_str(v);
        }
        return rr_miss();
    }
    case RK_CONSENT: return rr_bool(env->u->consent[n->op] == 1);
    case RK_SCORE: {
        char name[64];
        snprintf(name, sizeof name, "score.%s", n->str);
        const rr_attr *a = rr_attr_find(env->u, name);
        if (a && a->type == PERSONA_NUM)
            return rr_num(a->num);
        return rr_miss();
    }
    case RK_IN_SEGMENT: return rr_bool(rr_eval_rule(env, n->seg));
    case RK_EXISTS: {
        const rr_node *r = n->a;
        if (r->kind == RK_CTX)
            return rr_bool(env->ctx[r->op] != NULL);
        char name[64];
        if (r->kind == RK_PREF)
            snprintf(name, sizeof name, "pref.%s", r->str);
        else
            snprintf(name, sizeof name, "%s", r->str);
        return rr_bool(rr_attr_find(env->u, name) != NULL);
    }
    case RK_NEG: {
        rr_val x = rr_eval(env, n->a);
        return x.t == RV_NUM ? rr_num(-x.n) : rr_miss();
    }
    case RK_ARITH: {
        rr_val x = rr_eval(env, n->a), y = rr_eval(env, n->b);
        if (x.t != RV_NUM || y.t != RV_NUM)
            return rr_miss();
        switch (n->op) {
        case '+': return rr_num(x.n + y.n);
        case '-': return rr_num(x.n - y.n);
        case '*': return rr_num(x.n * y.n);
        case '/': return y.n == 0 ? rr_miss() : rr_num(x.n / y.n);
        default: return y.n == 0 ? rr_miss() : rr_num(fmod(x.n, y.n));
        }
    }
    case RK_CMP: return rr_bool(rr_cmp_vals(n->op, rr_eval(env, n->a), rr_eval(env, n->b)));
    case RK_IN: {
        rr_val x = rr_eval(env, n->a);
        if (x.t == RV_MISS)
            return rr_bool(0);
        int same = 0, found = 0;
        for (int i = 0; i < n->nlist; i++) {
            rr_val y = rr_eval(env, n->list[i]);
            if (y.t == x.t) {
                same = 1;
                if (rr_cmp_vals(RR_CMP_EQ, x, y))
                    found = 1;
            }
        }
        return rr_bool(n->neg ? same && !found : found);
    }
    case RK_CONTAINS: case RK_STARTS: case RK_ENDS: {
        rr_val x = rr_eval(env, n->a), y = rr_eval(env, n->b);
        if (x.t != RV_STR || y.t != RV_STR)
            return rr_bool(0);
        int r;
        size_t lx = strlen(x.s), ly = strlen(y.s);
        if (n->kind == RK_CONTAINS)
            r = strstr(x.s, y.s) != NULL;
        else if (n->kind == RK_STARTS)
            r = lx >= ly && memcmp(x.s, y.s, ly) == 0;
        else
            r = lx >= ly && memcmp(x.s + lx - ly, y.s, ly) == 0;
        return rr_bool(n->neg ? !r : r);
    }
    case RK_MATCHES: {
        rr_val x = rr_eval(env, n->a);
        return rr_bool(x.t == RV_STR && rr_glob(x.s, n->str));
    }
    case RK_BETWEEN: {
        rr_val x = rr_eval(env, n->a), lo = rr_eval(env, n->b), hi = rr_eval(env, n->c);
        if (x.t == RV_MISS || x.t != lo.t || x.t != hi.t || x.t == RV_BOOL)
            return rr_bool(0);
        int in = rr_cmp_vals(RR_CMP_GE, x, lo) && rr_cmp_vals(RR_CMP_LE, x, hi);
        return rr_bool(n->neg ? !in : in);
    }
    case RK_AND: return rr_bool(rr_truthy(rr_eval(env, n->a)) && rr_truthy(rr_eval(env, n->b)));
    case RK_OR: return rr_bool(rr_truthy(rr_eval(env, n->a)) || rr_truthy(rr_eval(env, n->b)));
    case RK_NOT: return rr_bool(!rr_truthy(rr_eval(env, n->a)));
    default:
        fprintf(stderr, "reference: unknown node kind %d\n", n->kind);
        abort();
    }
}

static rr_val rr_eval(const rr_env *env, const rr_node *n)
{
    rr_val v = rr_eval_inner(env, n);
    if (env->stats && v.t == RV_BOOL)
        env->stats[n->kind][v.n != 0]++;
    return v;
}

#endif
