/* Timestamp parsing, formatting and calendar bucketing in UTC shifted by a fixed offset.
 * Everything is integer arithmetic on the proleptic Gregorian calendar, so results do not
 * depend on the C library's time zone, locale or time_t range. */
#include "timeparse.h"

#include <string.h>

#include "error.h"

/* The hot parsing path is a small leaf: helpers are forced inline there, and the general
 * parser is kept out of it. */
#if defined(__GNUC__) || defined(__clang__)
#define HOT_INLINE inline __attribute__((always_inline))
#define OUT_OF_LINE __attribute__((noinline))
#else
#define HOT_INLINE inline
#define OUT_OF_LINE
#endif

#define MS_PER_SEC INT64_C(1000)
#define MS_PER_MIN INT64_C(60000)
#define MS_PER_HOUR INT64_C(3600000)
#define MS_PER_DAY INT64_C(86400000)
#define MAX_OFFSET_MIN 1440
/* Plain integers below this magnitude are unix seconds in auto mode, others milliseconds. */
#define UNIX_S_LIMIT INT64_C(100000000000)
/* Stop accumulating integer digits past this: such values are out of range anyway, and it
 * keeps the accumulator far from overflow. */
#define UNIX_DIGITS_CAP INT64_C(100000000000000000)

/* ------------------------------------------------------------------------------------ */
/* Calendar (after Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms").       */

/* C division truncates toward zero; times before 1970 need the floor. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const unsigned char len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 ? 28 + is_leap(y) : len[m - 1];
}

int64_t persona__days_from_civil(int64_t y, int m, int d)
{
    /* Count years from March so the leap day is the last day of the (shifted) year. */
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* persona__days_from_civil for years 1..9999 only: all-positive unsigned arithmetic keeps
 * the divisions cheap on the parsing hot path. */
static HOT_INLINE int64_t days_from_civil_ad(int y, int m, int d)
{
    unsigned ym = (unsigned)y - (m <= 2);
    unsigned doy = (153u * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
    return (int64_t)(ym * 365 + ym / 4 - ym / 100 + ym / 400 + doy) - 719468;
}

void persona__civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468; /* days since 0000-03-01 */
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = month;
    *y = yoe + era * 400 + (month <= 2);
}

/* 0 = Monday ... 6 = Sunday; 1970-01-01 was a Thursday. */
static int weekday_mon0(int64_t days)
{
    return (int)floor_mod(days + 3, 7);
}

int persona__iso_week(int64_t days, int64_t *iso_year, int *week)
{
    /* A week belongs to the year that holds its Thursday. */
    int64_t thursday = days - weekday_mon0(days) + 3;
    int64_t y;
    int m, d;
    persona__civil_from_days(thursday, &y, &m, &d);
    int w = (int)((thursday - persona__days_from_civil(y, 1, 1)) / 7 + 1);
    *iso_year = y;
    *week = w;
    return w;
}

/* ------------------------------------------------------------------------------------ */
/* Parsing.                                                                              */

enum { F_YEAR, F_MONTH, F_DAY, F_HOUR, F_MINUTE, F_SECOND, F_FRAC, F_COUNT };
#define OP_FIELD 256 /* ops[i] = OP_FIELD + F_* */

/* The reasons name the offending value, yet stay static: one string per possible 1–2
 * digit value of each field, in fixed-size arrays so the shared library needs no
 * relocations for them. Index [field - F_MONTH][value], fields F_MONTH..F_SECOND. */
#define RANGE_1(w, t, u) w " " t u " out of range"
#define RANGE_10(w, t)                                                                     \
    RANGE_1(w, t, "0"), RANGE_1(w, t, "1"), RANGE_1(w, t, "2"), RANGE_1(w, t, "3"),        \
        RANGE_1(w, t, "4"), RANGE_1(w, t, "5"), RANGE_1(w, t, "6"), RANGE_1(w, t, "7"),    \
        RANGE_1(w, t, "8"), RANGE_1(w, t, "9")
#define RANGE_100(w)                                                                       \
    {RANGE_10(w, ""), RANGE_10(w, "1"), RANGE_10(w, "2"), RANGE_10(w, "3"),                \
     RANGE_10(w, "4"), RANGE_10(w, "5"), RANGE_10(w, "6"), RANGE_10(w, "7"),               \
     RANGE_10(w, "8"), RANGE_10(w, "9")}
static const char range_reason[5][100][24] = {
    RANGE_100("month"), RANGE_100("day"),    RANGE_100("hour"),
    RANGE_100("minute"), RANGE_100("second"),
};

/* Broken-down time as read from the text, with the position of each field for errors. */
typedef struct fields {
    int v[F_COUNT]; /* F_FRAC holds milliseconds */
    const size_t *at; /* position of each field: a constant table for ISO, else at_buf */
    size_t at_buf[F_COUNT];
    int zone_min; /* explicit zone offset in minutes, valid when has_zone */
    int has_zone;
} fields;

/* The text being parsed, already trimmed of spaces; `lead` counts the trimmed leading
 * spaces so columns refer to the caller's text. */
typedef struct cursor {
    const unsigned char *s;
    size_t len;
    size_t lead;
    const char *why;
    size_t at;
} cursor;

static int fail(cursor *c, size_t at, const char *why)
{
    c->why = why;
    c->at = at;
    return -1;
}

static inline unsigned digit_at(const cursor *c, size_t i)
{
    return i < c->len ? (unsigned)c->s[i] - '0' : 10u; /* >= 10 means "not a digit" */
}

static inline int char_at(const cursor *c, size_t i)
{
    return i < c->len ? c->s[i] : -1;
}

/* Exactly n digits at *pos; on failure the column is the first non-digit. */
static int read_fixed(cursor *c, size_t *pos, int n, int *value, const char *why)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        unsigned dg = digit_at(c, *pos + (size_t)k);
        if (dg >= 10)
            return fail(c, *pos + (size_t)k, why);
        v = v * 10 + (int)dg;
    }
    *pos += (size_t)n;
    *value = v;
    return 0;
}

/* 1 or 2 digits (greedy) at *pos. */
static int read_1or2(cursor *c, size_t *pos, int *value, const char *why)
{
    unsigned d0 = digit_at(c, *pos);
    if (d0 >= 10)
        return fail(c, *pos, why);
    unsigned d1 = digit_at(c, *pos + 1);
    if (d1 >= 10) {
        *value = (int)d0;
        *pos += 1;
    } else {
        *value = (int)(d0 * 10 + d1);
        *pos += 2;
    }
    return 0;
}

static int expect_char(cursor *c, size_t *pos, int ch, const char *why)
{
    if (char_at(c, *pos) != ch)
        return fail(c, *pos, why);
    *pos += 1;
    return 0;
}

/* 1..9 fraction digits at *pos, truncated to milliseconds; *below_ms says whether any
 * digit after the third is non-zero (negative unix times round down with it). */
static int read_fraction(cursor *c, size_t *pos, int *ms, int *below_ms)
{
    size_t start = *pos, i = start;
    int v = 0, rest = 0;
    while (digit_at(c, i) < 10) {
        size_t k = i - start;
        if (k >= 9)
            return fail(c, i, "fraction longer than 9 digits");
        if (k < 3)
            v = v * 10 + (int)digit_at(c, i);
        else if (c->s[i] != '0')
            rest = 1;
        i++;
    }
    if (i == start)
        return fail(c, i, "expected fraction digits after '.'");
    for (size_t k = i - start; k < 3; k++)
        v *= 10;
    *pos = i;
    *ms = v;
    *below_ms = rest;
    return 0;
}

/* Zone after the time: Z, ±hh:mm, ±hhmm or ±hh. Absent zone leaves has_zone 0. */
static int read_zone(cursor *c, size_t *pos, fields *f)
{
    int ch = char_at(c, *pos);
    if (ch == 'Z' || ch == 'z') {
        *pos += 1;
        f->has_zone = 1;
        f->zone_min = 0;
        return 0;
    }
    if (ch != '+' && ch != '-')
        return 0;
    size_t start = *pos;
    int hh, mm = 0;
    *pos += 1;
    if (read_fixed(c, pos, 2, &hh, "expected a 2-digit zone hour") != 0)
        return -1;
    if (char_at(c, *pos) == ':') {
        *pos += 1;
        if (read_fixed(c, pos, 2, &mm, "expected 2-digit zone minutes after ':'") != 0)
            return -1;
    } else if (digit_at(c, *pos) < 10) {
        if (read_fixed(c, pos, 2, &mm, "expected 2-digit zone minutes") != 0)
            return -1;
    }
    if (hh > 23 || mm > 59)
        return fail(c, start, "zone offset out of range");
    f->has_zone = 1;
    f->zone_min = (ch == '-' ? -1 : 1) * (hh * 60 + mm);
    return 0;
}

static int at_end(cursor *c, size_t pos)
{
    return pos == c->len ? 0 : fail(c, pos, "unexpected text after the timestamp");
}

/* Digit value of s[i]; `acc` collects v | (v + 6), which stays below 16 exactly when every
 * byte seen was an ASCII digit (a non-digit gives v >= 10, or wraps around). */
static HOT_INLINE unsigned digit_acc(const unsigned char *s, int i, unsigned *acc)
{
    unsigned v = (unsigned)s[i] - '0';
    *acc |= v | (v + 6);
    return v;
}

static HOT_INLINE int pair_acc(const unsigned char *s, int i, unsigned *acc)
{
    return (int)(digit_acc(s, i, acc) * 10 + digit_acc(s, i + 1, acc));
}

static inline int four_digits(const unsigned char *s)
{
    unsigned acc = 0;
    for (int i = 0; i < 4; i++)
        digit_acc(s, i, &acc);
    return acc < 16;
}

/* The ISO prefix up to the seconds at fixed offsets, without per-byte bounds checks.
 * Returns the length parsed (10, 16 or 19) with the fields in v, or 0 when the text has
 * any other shape (iso_prefix_slow then says what is wrong). */
static HOT_INLINE size_t iso_prefix_fast(const unsigned char *s, size_t n, int v[F_COUNT])
{
    size_t end = 10;
    unsigned acc = 0;
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return 0;
    v[F_YEAR] = pair_acc(s, 0, &acc) * 100 + pair_acc(s, 2, &acc);
    v[F_MONTH] = pair_acc(s, 5, &acc);
    v[F_DAY] = pair_acc(s, 8, &acc);
    if (n > 10) {
        if (n < 16 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':')
            return 0;
        v[F_HOUR] = pair_acc(s, 11, &acc);
        v[F_MINUTE] = pair_acc(s, 14, &acc);
        end = 16;
        if (n > 16 && s[16] == ':') {
            if (n < 19)
                return 0;
            v[F_SECOND] = pair_acc(s, 17, &acc);
            end = 19;
        }
    }
    return acc < 16 ? end : 0;
}

/* The same prefix byte by byte, naming the first problem. */
static int iso_prefix_slow(cursor *c, fields *f, size_t *pos)
{
    size_t p = 0;
    if (read_fixed(c, &p, 4, &f->v[F_YEAR], "expected a 4-digit year (YYYY-MM-DD)") ||
        expect_char(c, &p, '-', "expected '-' after the year (YYYY-MM-DD)") ||
        read_fixed(c, &p, 2, &f->v[F_MONTH], "expected a 2-digit month") ||
        expect_char(c, &p, '-', "expected '-' after the month") ||
        read_fixed(c, &p, 2, &f->v[F_DAY], "expected a 2-digit day"))
        return -1;
    *pos = p;
    if (p == c->len)
        return 0;
    int sep = char_at(c, p);
    if (sep != 'T' && sep != 't' && sep != ' ')
        return fail(c, p, "expected 'T' or a space after the date");
    p++;
    if (read_fixed(c, &p, 2, &f->v[F_HOUR], "expected a 2-digit hour") ||
        expect_char(c, &p, ':', "expected ':' after the hour") ||
        read_fixed(c, &p, 2, &f->v[F_MINUTE], "expected 2-digit minutes"))
        return -1;
    if (char_at(c, p) == ':') {
        p++;
        if (read_fixed(c, &p, 2, &f->v[F_SECOND], "expected 2-digit seconds"))
            return -1;
    }
    *pos = p;
    return 0;
}

/* YYYY-MM-DD[(T|t| )HH:MM[:SS[.f]][zone]] */
static int parse_iso(cursor *c, fields *f)
{
    /* Field positions are fixed in ISO text; they locate range errors. */
    static const size_t at[F_COUNT] = {0, 5, 8, 11, 14, 17, 20};
    f->at = at;
    size_t p = iso_prefix_fast(c->s, c->len, f->v);
    if (p == 0 && iso_prefix_slow(c, f, &p) != 0)
        return -1;
    if (p == 19 && char_at(c, p) == '.') { /* a fraction only follows seconds */
        int below;
        p++;
        if (read_fraction(c, &p, &f->v[F_FRAC], &below))
            return -1;
    }
    if (p > 10 && read_zone(c, &p, f))
        return -1;
    return at_end(c, p);
}

/* Compiled pattern: literals match themselves, fields read digits. */
static int parse_pattern(cursor *c, const persona__time_format *fmt, fields *f)
{
    static const char *const expect[F_COUNT] = {
        "expected a 4-digit year (%Y)", "expected a month (%m)",    "expected a day (%d)",
        "expected an hour (%H)",        "expected minutes (%M)",    "expected seconds (%S)",
        "expected fraction digits (%f)",
    };
    size_t p = 0;
    f->at = f->at_buf;
    for (unsigned i = 0; i < fmt->n_ops; i++) {
        unsigned op = fmt->ops[i];
        if (op < OP_FIELD) {
            if (char_at(c, p) != (int)op)
                return fail(c, p, "text does not match the pattern");
            p++;
            continue;
        }
        unsigned fld = op - OP_FIELD;
        int below, rc;
        f->at_buf[fld] = p;
        if (fld == F_YEAR)
            rc = read_fixed(c, &p, 4, &f->v[fld], expect[fld]);
        else if (fld == F_FRAC)
            rc = digit_at(c, p) < 10 ? read_fraction(c, &p, &f->v[fld], &below)
                                     : fail(c, p, expect[fld]);
        else
            rc = read_1or2(c, &p, &f->v[fld], expect[fld]);
        if (rc)
            return -1;
    }
    return at_end(c, p);
}

/* The first field out of range (F_YEAR..F_SECOND), or -1. */
static HOT_INLINE int bad_field(const int v[F_COUNT])
{
    if (v[F_YEAR] < 1)
        return F_YEAR;
    if (v[F_MONTH] < 1 || v[F_MONTH] > 12)
        return F_MONTH;
    if (v[F_DAY] < 1 || v[F_DAY] > days_in_month(v[F_YEAR], v[F_MONTH]))
        return F_DAY;
    if (v[F_HOUR] > 23)
        return F_HOUR;
    if (v[F_MINUTE] > 59)
        return F_MINUTE;
    if (v[F_SECOND] > 59) /* no leap seconds: 60 has no unix time of its own */
        return F_SECOND;
    return -1;
}

/* Valid fields at a zone offset to ms UTC; -1 when outside the accepted range. */
static HOT_INLINE int valid_fields_to_ms(const int v[F_COUNT], int zone_min, int64_t *out)
{
    int64_t ms = days_from_civil_ad(v[F_YEAR], v[F_MONTH], v[F_DAY]) * MS_PER_DAY +
                 v[F_HOUR] * MS_PER_HOUR + v[F_MINUTE] * MS_PER_MIN + v[F_SECOND] * MS_PER_SEC +
                 v[F_FRAC] - zone_min * MS_PER_MIN;
    if (ms < PERSONA_TIME_MIN || ms > PERSONA_TIME_MAX)
        return -1;
    *out = ms;
    return 0;
}

/* Range checks and conversion of a broken-down time to ms UTC. */
static int fields_to_ms(cursor *c, const fields *f, int32_t offset_minutes, int64_t *out)
{
    int bad = bad_field(f->v);
    if (bad == F_YEAR)
        return fail(c, f->at[F_YEAR], "year 0000 out of range");
    if (bad >= 0)
        return fail(c, f->at[bad], range_reason[bad - F_MONTH][f->v[bad]]);
    if (valid_fields_to_ms(f->v, f->has_zone ? f->zone_min : offset_minutes, out) != 0)
        return fail(c, 0, "out of range (0001-01-01 to 9999-12-31 UTC)");
    return 0;
}

/* [-]digits[.fraction]; `kind` decides the unit (auto: by magnitude). */
static int parse_unix(cursor *c, int kind, int64_t *out)
{
    size_t p = char_at(c, 0) == '-';
    size_t start = p;
    int64_t v = 0;
    int big = 0;
    while (digit_at(c, p) < 10) {
        if (v >= UNIX_DIGITS_CAP)
            big = 1;
        else
            v = v * 10 + (int64_t)digit_at(c, p);
        p++;
    }
    if (p == start)
        return fail(c, p, "expected digits");
    int frac = 0, below = 0, has_frac = char_at(c, p) == '.';
    if (has_frac) {
        if (kind == PERSONA__TIME_UNIX_MS)
            return fail(c, p, "unix milliseconds must be an integer");
        p++;
        if (read_fraction(c, &p, &frac, &below))
            return -1;
    }
    if (at_end(c, p))
        return -1;
    int seconds = kind == PERSONA__TIME_UNIX_S || has_frac ||
                  (kind == PERSONA__TIME_AUTO && v < UNIX_S_LIMIT);
    /* Compare before scaling so the multiplication cannot overflow. */
    int64_t limit = seconds ? PERSONA_TIME_MAX / MS_PER_SEC + 1 : PERSONA_TIME_MAX;
    if (big || v > limit)
        return fail(c, 0, "out of range (0001-01-01 to 9999-12-31 UTC)");
    int64_t ms = seconds ? v * MS_PER_SEC + frac : v;
    if (start) /* negative: the instant is below the written ms when digits remain */
        ms = -ms - below;
    if (ms < PERSONA_TIME_MIN || ms > PERSONA_TIME_MAX)
        return fail(c, 0, "out of range (0001-01-01 to 9999-12-31 UTC)");
    *out = ms;
    return 0;
}

/* `03/04/2021`, `3.4.2021`, `04-03-21`: two 1–2 digit numbers and a year, with the same
 * separator. Whether 03 is the day or the month cannot be known from the text. */
static int looks_like_dmy(const cursor *c, size_t n_lead)
{
    int sep = char_at(c, n_lead);
    if (sep != '/' && sep != '.' && sep != '-')
        return 0;
    size_t p = n_lead + 1, k = 0;
    while (digit_at(c, p + k) < 10)
        k++;
    if (k < 1 || k > 2 || char_at(c, p + k) != sep)
        return 0;
    return digit_at(c, p + k + 1) < 10 && digit_at(c, p + k + 2) < 10;
}

/* Fields absent from the text are 0. Positions come from the parser (a table for ISO), so
 * the struct is not zeroed whole: that would cost as much as the parse itself. */
static inline void fields_init(fields *f)
{
    memset(f->v, 0, sizeof f->v);
    f->zone_min = f->has_zone = 0;
}

static int iso_to_ms(cursor *c, int32_t offset_minutes, int64_t *out)
{
    fields f;
    fields_init(&f);
    return parse_iso(c, &f) ? -1 : fields_to_ms(c, &f, offset_minutes, out);
}

static int pattern_to_ms(cursor *c, const persona__time_format *fmt, int32_t offset_minutes,
                         int64_t *out)
{
    fields f;
    fields_init(&f);
    return parse_pattern(c, fmt, &f) ? -1 : fields_to_ms(c, &f, offset_minutes, out);
}

static int parse_auto(cursor *c, int32_t offset_minutes, int64_t *out)
{
    /* The common case first: ISO dates start with four digits and a dash. */
    if (c->len > 4 && c->s[4] == '-' && four_digits(c->s))
        return iso_to_ms(c, offset_minutes, out);
    size_t sign = char_at(c, 0) == '-', n = 0;
    while (digit_at(c, sign + n) < 10)
        n++;
    int next = char_at(c, sign + n);
    if (!sign && (n == 1 || n == 2) && looks_like_dmy(c, n))
        return fail(c, 0, "ambiguous day/month order; pass a pattern such as %d/%m/%Y");
    if (n > 0 && (next < 0 || next == '.'))
        return parse_unix(c, PERSONA__TIME_AUTO, out);
    if (!sign && n == 4)
        return fail(c, 4, "expected '-' after the year (YYYY-MM-DD)");
    return fail(c, sign + n, "not a timestamp (expected ISO 8601 or unix time)");
}

/* The shapes ingest sees most, in one pass over locals: the ISO prefix, optionally a
 * fraction after the seconds, and Z or ±hh:mm. Anything else, including every error,
 * returns -1 and goes to the careful parser, so this path never has to explain a failure. */
static HOT_INLINE int iso_quick(const unsigned char *s, size_t n, int32_t offset_minutes,
                                int64_t *out)
{
    int v[F_COUNT] = {0, 0, 0, 0, 0, 0, 0};
    size_t p = iso_prefix_fast(s, n, v);
    if (p == 0)
        return -1;
    if (p == 19 && p < n && s[p] == '.') {
        size_t start = ++p;
        int scale = 100;
        while (p < n && (unsigned)s[p] - '0' < 10 && p - start < 9) {
            v[F_FRAC] += scale * (s[p] - '0'); /* digits after the third add 0 */
            scale /= 10;
            p++;
        }
        if (p == start || (p < n && (unsigned)s[p] - '0' < 10))
            return -1;
    }
    if (p < n && (s[p] | 0x20) == 'z') { /* 'Z' or 'z', and only those */
        offset_minutes = 0;
        p++;
    } else if (n - p == 6 && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
        unsigned acc = 0;
        int hh = pair_acc(s, (int)p + 1, &acc), mm = pair_acc(s, (int)p + 4, &acc);
        if (acc > 15 || hh > 23 || mm > 59)
            return -1;
        offset_minutes = (s[p] == '-' ? -1 : 1) * (hh * 60 + mm);
        p = n;
    }
    if (p != n || bad_field(v) >= 0)
        return -1;
    return valid_fields_to_ms(v, offset_minutes, out);
}

static void trim_spaces(cursor *c, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t lead = 0;
    while (lead < len && u[lead] == ' ')
        lead++;
    while (len > lead && u[len - 1] == ' ')
        len--;
    c->s = u + lead;
    c->len = len - lead;
    c->lead = lead;
}

/* Everything but the quick ISO shapes: trims, dispatches on the kind, explains failures.
 * Kept out of line so the quick path stays a small leaf function. */
OUT_OF_LINE static int parse_general(const persona__time_format *f, const char *s,
                                     size_t len, int32_t offset_minutes, int64_t *out,
                                     const char **why, size_t *err_col)
{
    cursor c;
    int rc;
    trim_spaces(&c, s, len);
    if (offset_minutes < -MAX_OFFSET_MIN || offset_minutes > MAX_OFFSET_MIN)
        rc = fail(&c, 0, "offset out of range");
    else if (c.len == 0)
        rc = fail(&c, 0, "empty timestamp");
    else if (f->kind == PERSONA__TIME_AUTO)
        rc = parse_auto(&c, offset_minutes, out);
    else if (f->kind == PERSONA__TIME_ISO)
        rc = iso_to_ms(&c, offset_minutes, out);
    else if (f->kind == PERSONA__TIME_PATTERN)
        rc = pattern_to_ms(&c, f, offset_minutes, out);
    else
        rc = parse_unix(&c, f->kind, out);
    if (rc == 0)
        return 0;
    if (why)
        *why = c.why;
    if (err_col)
        *err_col = c.lead + c.at + 1;
    return -1;
}

int persona__time_parse_fast(const persona__time_format *f, const char *s, size_t len,
                             int32_t offset_minutes, int64_t *out, const char **why,
                             size_t *err_col)
{
    if (f->kind <= PERSONA__TIME_ISO && len >= 10 && s[4] == '-' &&
        offset_minutes >= -MAX_OFFSET_MIN && offset_minutes <= MAX_OFFSET_MIN &&
        iso_quick((const unsigned char *)s, len, offset_minutes, out) == 0)
        return 0;
    return parse_general(f, s, len, offset_minutes, out, why, err_col);
}

/* ------------------------------------------------------------------------------------ */
/* Format compilation.                                                                   */

static int field_of(char spec)
{
    switch (spec) {
    case 'Y': return F_YEAR;
    case 'm': return F_MONTH;
    case 'd': return F_DAY;
    case 'H': return F_HOUR;
    case 'M': return F_MINUTE;
    case 'S': return F_SECOND;
    case 'f': return F_FRAC;
    default: return -1;
    }
}

static int compile_pattern(persona__time_format *f, const char *pat)
{
    size_t n = strlen(pat), i = 0;
    unsigned seen = 0;
    if (n > PERSONA__TIME_PATTERN_MAX)
        return persona__fail(PERSONA_EINVAL,
                             "time pattern \"%.64s...\" is longer than %d bytes", pat,
                             PERSONA__TIME_PATTERN_MAX);
    f->kind = PERSONA__TIME_PATTERN;
    f->n_ops = 0;
    /* The parser ignores spaces around the text, so spaces around the pattern go too. */
    while (i < n && pat[i] == ' ')
        i++;
    while (n > i && pat[n - 1] == ' ')
        n--;
    for (; i < n; i++) {
        unsigned op = (unsigned char)pat[i];
        if (op == '%') {
            if (++i == n)
                return persona__fail(PERSONA_EINVAL,
                                     "time pattern \"%s\" ends with a lone '%%'", pat);
            int fld = pat[i] == '%' ? -2 : field_of(pat[i]);
            if (fld == -1)
                return persona__fail(PERSONA_EINVAL,
                                     "time pattern \"%s\": unknown field %%%c (use %%Y %%m "
                                     "%%d %%H %%M %%S %%f %%%%)",
                                     pat, pat[i]);
            if (fld >= 0 && (seen & (1u << fld)))
                return persona__fail(PERSONA_EINVAL, "time pattern \"%s\" repeats %%%c", pat,
                                     pat[i]);
            if (fld >= 0)
                seen |= 1u << fld;
            op = fld >= 0 ? OP_FIELD + (unsigned)fld : '%';
        }
        f->ops[f->n_ops++] = (uint16_t)op;
    }
    /* Without a full date the text cannot name an instant. */
    const unsigned need = (1u << F_YEAR) | (1u << F_MONTH) | (1u << F_DAY);
    if ((seen & need) != need)
        return persona__fail(PERSONA_EINVAL,
                             "time pattern \"%s\" needs %%Y, %%m and %%d (formats: auto, iso, "
                             "unix_s, unix_ms or a pattern)", pat);
    return PERSONA_OK;
}

int persona__time_format_compile(persona__time_format *f, const char *format)
{
    static const struct {
        const char *name;
        int kind;
    } named[] = {
        {"", PERSONA__TIME_AUTO},         {"auto", PERSONA__TIME_AUTO},
        {"iso", PERSONA__TIME_ISO},       {"unix_s", PERSONA__TIME_UNIX_S},
        {"unix_ms", PERSONA__TIME_UNIX_MS},
    };
    if (!f)
        return persona__fail(PERSONA_EINVAL, "time format: NULL destination");
    memset(f, 0, sizeof *f);
    if (!format)
        format = "";
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strcmp(format, named[i].name) == 0) {
            f->kind = named[i].kind;
            return PERSONA_OK;
        }
    }
    return compile_pattern(f, format);
}

/* ------------------------------------------------------------------------------------ */
/* Public API.                                                                           */

static int check_offset(int32_t offset_minutes)
{
    if (offset_minutes < -MAX_OFFSET_MIN || offset_minutes > MAX_OFFSET_MIN)
        return persona__fail(PERSONA_EINVAL, "offset_minutes %ld out of range [-1440, 1440]",
                             (long)offset_minutes);
    return PERSONA_OK;
}

static int check_time(int64_t time_ms, int32_t offset_minutes)
{
    if (time_ms < PERSONA_TIME_MIN || time_ms > PERSONA_TIME_MAX)
        return persona__fail(PERSONA_EINVAL,
                             "time %lld ms out of range (0001-01-01 to 9999-12-31 UTC)",
                             (long long)time_ms);
    return check_offset(offset_minutes);
}

static int check_period(int32_t period)
{
    if (period < PERSONA_PERIOD_HOUR || period > PERSONA_PERIOD_YEAR)
        return persona__fail(PERSONA_EINVAL, "unknown period %ld", (long)period);
    return PERSONA_OK;
}

/* Copy of the text for a message: at most 48 bytes, unprintable bytes as '?'. */
static void quote_for_message(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = len < 48 ? len : 48, k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        dst[k++] = (ch < 0x20 || ch >= 0x7F || ch == '"') ? '?' : (char)ch;
    }
    if (n < len && k + 4 < cap) {
        memcpy(dst + k, "...", 3);
        k += 3;
    }
    dst[k] = '\0';
}

PERSONA_API int persona_time_parse(int64_t *out, const char *text, size_t len,
                                   const char *format, int32_t offset_minutes)
{
    persona__time_format f;
    const char *why = "";
    size_t col = 0;
    if (!out || !text)
        return persona__fail(PERSONA_EINVAL, "persona_time_parse: %s is NULL",
                             out ? "text" : "out");
    int rc = check_offset(offset_minutes);
    if (rc == PERSONA_OK)
        rc = persona__time_format_compile(&f, format);
    if (rc != PERSONA_OK)
        return rc;
    if (persona__time_parse_fast(&f, text, len, offset_minutes, out, &why, &col) != 0) {
        char shown[56];
        quote_for_message(shown, sizeof shown, text, len);
        return persona__fail_at(PERSONA_EPARSE, 1, col, "cannot parse time \"%s\": %s", shown,
                                why);
    }
    return PERSONA_OK;
}

/* Local calendar fields of a time at a fixed offset. */
typedef struct local_time {
    int64_t days; /* local days since 1970-01-01 */
    int64_t year;
    int month, day;
    int64_t ms_of_day;
} local_time;

static local_time to_local(int64_t time_ms, int32_t offset_minutes)
{
    local_time lt;
    int64_t local = time_ms + offset_minutes * MS_PER_MIN;
    lt.days = floor_div(local, MS_PER_DAY);
    lt.ms_of_day = local - lt.days * MS_PER_DAY;
    persona__civil_from_days(lt.days, &lt.year, &lt.month, &lt.day);
    return lt;
}

/* Start of the period in local ms (days since the epoch times MS_PER_DAY, plus hours). */
static int64_t local_period_start(const local_time *lt, int32_t period)
{
    switch (period) {
    case PERSONA_PERIOD_HOUR:
        return lt->days * MS_PER_DAY + lt->ms_of_day / MS_PER_HOUR * MS_PER_HOUR;
    case PERSONA_PERIOD_DAY: return lt->days * MS_PER_DAY;
    case PERSONA_PERIOD_WEEK: return (lt->days - weekday_mon0(lt->days)) * MS_PER_DAY;
    case PERSONA_PERIOD_MONTH:
        return persona__days_from_civil(lt->year, lt->month, 1) * MS_PER_DAY;
    case PERSONA_PERIOD_QUARTER:
        return persona__days_from_civil(lt->year, (lt->month - 1) / 3 * 3 + 1, 1) * MS_PER_DAY;
    default: return persona__days_from_civil(lt->year, 1, 1) * MS_PER_DAY;
    }
}

PERSONA_API int persona_time_bucket(int64_t *out, int64_t time_ms, int32_t period,
                                    int32_t offset_minutes)
{
    if (!out)
        return persona__fail(PERSONA_EINVAL, "persona_time_bucket: out is NULL");
    int rc = check_period(period);
    if (rc == PERSONA_OK)
        rc = check_time(time_ms, offset_minutes);
    if (rc != PERSONA_OK)
        return rc;
    local_time lt = to_local(time_ms, offset_minutes);
    /* Near the ends of the range the start may lie just outside it: still the right
     * instant, so it is returned as is. */
    *out = local_period_start(&lt, period) - offset_minutes * MS_PER_MIN;
    return PERSONA_OK;
}

/* Zero-padded decimal of v >= 0 with at least `width` digits; returns the end. */
static char *put_num(char *p, int64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < width)
        tmp[n++] = '0';
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *put_date(char *p, const local_time *lt)
{
    p = put_num(p, lt->year, 4);
    *p++ = '-';
    p = put_num(p, lt->month, 2);
    *p++ = '-';
    return put_num(p, lt->day, 2);
}

/* Common tail of the text-returning functions: EBUFS contract of common.h. */
static int copy_out(char *buf, size_t capacity, size_t *out_len, const char *text, size_t n)
{
    if (out_len)
        *out_len = n;
    if (n >= capacity) {
        if (capacity > 0)
            buf[0] = '\0';
        return persona__fail(PERSONA_EBUFS, "buffer of %zu bytes too small for %zu bytes and "
                                            "the NUL", capacity, n);
    }
    memcpy(buf, text, n);
    buf[n] = '\0';
    return PERSONA_OK;
}

static int check_buf(const char *buf, size_t capacity, const char *fn)
{
    if (!buf && capacity > 0)
        return persona__fail(PERSONA_EINVAL, "%s: buf is NULL but capacity is %zu", fn,
                             capacity);
    return PERSONA_OK;
}

PERSONA_API int persona_time_format(char *buf, size_t capacity, size_t *out_len,
                                    int64_t time_ms, int32_t offset_minutes)
{
    int rc = check_buf(buf, capacity, "persona_time_format");
    if (rc == PERSONA_OK)
        rc = check_time(time_ms, offset_minutes);
    if (rc != PERSONA_OK)
        return rc;
    local_time lt = to_local(time_ms, offset_minutes);
    /* The text must read back with persona_time_parse, which takes years 0001-9999 only
     * (and this keeps the promised 24-byte buffer enough). */
    if (lt.year < 1 || lt.year > 9999)
        return persona__fail(PERSONA_EINVAL, "time %lld ms at offset %ld falls outside years "
                             "0001-9999", (long long)time_ms, (long)offset_minutes);
    char text[32], *p = put_date(text, &lt);
    int64_t ms = lt.ms_of_day;
    *p++ = ' ';
    p = put_num(p, ms / MS_PER_HOUR, 2);
    *p++ = ':';
    p = put_num(p, ms / MS_PER_MIN % 60, 2);
    *p++ = ':';
    p = put_num(p, ms / MS_PER_SEC % 60, 2);
    if (ms % MS_PER_SEC != 0) {
        *p++ = '.';
        p = put_num(p, ms % MS_PER_SEC, 3);
    }
    return copy_out(buf, capacity, out_len, text, (size_t)(p - text));
}

PERSONA_API int persona_time_label(char *buf, size_t capacity, size_t *out_len,
                                   int64_t time_ms, int32_t period, int32_t offset_minutes)
{
    int rc = check_buf(buf, capacity, "persona_time_label");
    if (rc == PERSONA_OK)
        rc = check_period(period);
    if (rc == PERSONA_OK)
        rc = check_time(time_ms, offset_minutes);
    if (rc != PERSONA_OK)
        return rc;
    /* The local year can be 0 or 10000 at the ends of the range; put_num widens. */
    local_time lt = to_local(time_ms, offset_minutes);
    char text[32], *p = text;
    int64_t week_year;
    int week;
    switch (period) {
    case PERSONA_PERIOD_HOUR:
        p = put_date(p, &lt);
        *p++ = ' ';
        p = put_num(p, lt.ms_of_day / MS_PER_HOUR, 2);
        *p++ = 'h';
        break;
    case PERSONA_PERIOD_DAY: p = put_date(p, &lt); break;
    case PERSONA_PERIOD_WEEK:
        persona__iso_week(lt.days, &week_year, &week);
        p = put_num(p, week_year, 4);
        *p++ = '-';
        *p++ = 'W';
        p = put_num(p, week, 2);
        break;
    case PERSONA_PERIOD_MONTH:
        p = put_num(p, lt.year, 4);
        *p++ = '-';
        p = put_num(p, lt.month, 2);
        break;
    case PERSONA_PERIOD_QUARTER:
        p = put_num(p, lt.year, 4);
        *p++ = '-';
        *p++ = 'Q';
        *p++ = (char)('1' + (lt.month - 1) / 3);
        break;
    default: p = put_num(p, lt.year, 4); break;
    }
    return copy_out(buf, capacity, out_len, text, (size_t)(p - text));
}
