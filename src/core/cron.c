/* SPDX-License-Identifier: MIT */
/*
 * Cron expressions (cron.h): the parser into bitsets, and the next fire time. The search walks
 * the local calendar by skipping (a month not in the set jumps to the next month, a day to the
 * next day, an hour to the next matching hour, ...), then maps the local time it found to UTC
 * with corral_tz_resolve, which says whether that time is in a gap or an overlap.
 */
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "corral/cron.h"

/* ---------------------------------------------------------------------------------------------
 * Parsing
 */

struct field_spec {
    const char *name;
    unsigned min, max;        /* values accepted (day-of-week: 0-7, 7 = Sunday) */
    const char *const *names; /* three-letter names of min.. (NULL: numbers only) */
    unsigned names_first;     /* value of names[0] */
    unsigned n_names;
};

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const dow_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

enum { F_SEC, F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT };

static const struct field_spec fields[F_COUNT] = {
    [F_SEC] = {"second", 0, 59, NULL, 0, 0},
    [F_MIN] = {"minute", 0, 59, NULL, 0, 0},
    [F_HOUR] = {"hour", 0, 23, NULL, 0, 0},
    [F_DOM] = {"day-of-month", 1, 31, NULL, 0, 0},
    [F_MONTH] = {"month", 1, 12, month_names, 1, 12},
    [F_DOW] = {"day-of-week", 0, 7, dow_names, 0, 7},
};

/* The @ forms and what they stand for. */
static const struct {
    const char *name;
    const char *expr;
} at_forms[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static char upper(char ch)
{
    return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

static bool is_letter(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_num(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* The printable form of one byte for a message. */
static void show_byte(char ch, char out[8])
{
    unsigned char u = (unsigned char)ch;
    if (u >= 0x20 && u < 0x7f && u != '\'')
        out[0] = ch, out[1] = '\0';
    else
        snprintf(out, 8, "\\x%02x", u);
}

/*
 * One value at s[*i..end): a number or (where the field has them) a name. Numbers longer than
 * four digits are out of range whatever they say.
 */
static int value(const char *s, size_t *i, size_t end, const struct field_spec *f, unsigned *out,
                 struct corral_error *err)
{
    size_t start = *i;
    if (*i < end && is_num(s[*i])) {
        unsigned v = 0;
        while (*i < end && is_num(s[*i])) {
            if (v < 10000u)
                v = v * 10u + (unsigned)(s[*i] - '0');
            (*i)++;
        }
        if (v < f->min || v > f->max)
            return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: %.*s out of range %u-%u",
                                    f->name, (int)(*i - start), s + start, f->min, f->max);
        *out = v;
        return CORRAL_OK;
    }
    if (*i < end && is_letter(s[*i])) {
        while (*i < end && is_letter(s[*i]))
            (*i)++;
        size_t n = *i - start;
        if (f->names && n == 3) {
            for (unsigned k = 0; k < f->n_names; k++) {
                const char *nm = f->names[k];
                if (upper(s[start]) == nm[0] && upper(s[start + 1]) == nm[1] &&
                    upper(s[start + 2]) == nm[2]) {
                    *out = f->names_first + k;
                    return CORRAL_OK;
                }
            }
        }
        if (!f->names)
            return corral_error_set(err, CORRAL_EINVAL, f->name,
                                    "%s: names are not allowed ('%.*s')", f->name,
                                    (int)(n > 32 ? 32 : n), s + start);
        return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: unknown name '%.*s'", f->name,
                                (int)(n > 32 ? 32 : n), s + start);
    }
    if (*i >= end)
        return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: value missing", f->name);
    char b[8];
    show_byte(s[*i], b);
    return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: unexpected '%s'", f->name, b);
}

/* One list element s[start..end): *, a, a-b, each with an optional /step. */
static int element(const char *s, size_t start, size_t end, const struct field_spec *f,
                   uint64_t *bits, struct corral_error *err)
{
    if (start == end)
        return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: empty list element", f->name);
    size_t i = start;
    unsigned lo, hi, step = 1;
    bool single = false;
    int rc;
    if (s[i] == '*') {
        i++;
        lo = f->min;
        hi = f->max;
    } else {
        if ((rc = value(s, &i, end, f, &lo, err)) != CORRAL_OK)
            return rc;
        hi = lo;
        single = true;
        if (i < end && s[i] == '-') {
            i++;
            if ((rc = value(s, &i, end, f, &hi, err)) != CORRAL_OK)
                return rc;
            single = false;
            if (f->max == 7 && hi == 0 && lo > 0)
                hi = 7; /* FRI-SUN: Sunday as 7 at the end of a weekday range */
            if (hi < lo)
                return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: range %.*s is backwards",
                                        f->name, (int)(i - start), s + start);
        }
    }
    if (i < end && s[i] == '/') {
        i++;
        size_t st = i;
        unsigned v = 0;
        while (i < end && is_num(s[i])) {
            if (v < 10000u)
                v = v * 10u + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == st)
            return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: step missing after '/'",
                                    f->name);
        if (v < 1 || v > f->max)
            return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: step %.*s out of range 1-%u",
                                    f->name, (int)(i - st), s + st, f->max);
        step = v;
        if (single)
            hi = f->max; /* a/n: from a to the end of the range */
    }
    if (i != end) {
        char b[8];
        show_byte(s[i], b);
        return corral_error_set(err, CORRAL_EINVAL, f->name, "%s: unexpected '%s' in '%.*s'",
                                f->name, b, (int)(end - start > 32 ? 32 : end - start), s + start);
    }
    for (unsigned v = lo; v <= hi; v += step)
        *bits |= (uint64_t)1 << v;
    return CORRAL_OK;
}

static int field(const char *s, size_t len, const struct field_spec *f, uint64_t *bits,
                 struct corral_error *err)
{
    *bits = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ',') {
            int rc = element(s, start, i, f, bits, err);
            if (rc != CORRAL_OK)
                return rc;
            start = i + 1;
        }
    }
    return CORRAL_OK;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Whether some day of the day-of-month set exists in some month of the month set (February
 * counted with 29 days). */
static bool some_day_exists(const struct corral_cron *c)
{
    for (unsigned m = 1; m <= 12; m++) {
        if (!(c->month >> m & 1u))
            continue;
        unsigned dim = civil_days_in_month(2000, m); /* a leap year */
        for (unsigned d = 1; d <= dim; d++) {
            if (c->dom >> d & 1u)
                return true;
        }
    }
    return false;
}

int corral_cron_parse(const char *s, size_t len, struct corral_cron *out, struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: expression missing");
    if (len > CORRAL_CRON_MAX_LEN)
        return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: expression longer than %u bytes",
                                CORRAL_CRON_MAX_LEN);
    size_t tok[F_COUNT + 1][2];
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (is_blank(s[i])) {
            i++;
            continue;
        }
        size_t st = i;
        while (i < len && !is_blank(s[i]))
            i++;
        if (n < F_COUNT + 1) {
            tok[n][0] = st;
            tok[n][1] = i - st;
        }
        n++;
    }
    if (n == 0)
        return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: empty expression");
    if (s[tok[0][0]] == '@') {
        if (n != 1)
            return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: %.*s takes no fields",
                                    (int)(tok[0][1] > 32 ? 32 : tok[0][1]), s + tok[0][0]);
        for (size_t k = 0; k < sizeof at_forms / sizeof at_forms[0]; k++) {
            const char *name = at_forms[k].name;
            size_t nl = strlen(name);
            bool same = nl == tok[0][1];
            for (size_t j = 0; same && j < nl; j++)
                same = upper(s[tok[0][0] + j]) == upper(name[j]);
            if (same)
                return corral_cron_parse(at_forms[k].expr, strlen(at_forms[k].expr), out, err);
        }
        return corral_error_set(err, CORRAL_EINVAL, "cron",
                                "cron: unknown @ form '%.*s' (@yearly, @annually, @monthly, "
                                "@weekly, @daily, @midnight or @hourly)",
                                (int)(tok[0][1] > 32 ? 32 : tok[0][1]), s + tok[0][0]);
    }
    if (n != 5 && n != 6)
        return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: expected 5 or 6 fields, got %zu",
                                n);
    out->has_seconds = n == 6;
    uint64_t bits[F_COUNT] = {1}; /* second 0 without a seconds field */
    for (size_t k = 0; k < n; k++) {
        size_t f = n == 6 ? k : k + 1;
        int rc = field(s + tok[k][0], tok[k][1], &fields[f], &bits[f], err);
        if (rc != CORRAL_OK) {
            memset(out, 0, sizeof *out);
            return rc;
        }
    }
    out->sec = bits[F_SEC];
    out->min = bits[F_MIN];
    out->hour = (uint32_t)bits[F_HOUR];
    out->dom = (uint32_t)bits[F_DOM];
    out->month = (uint16_t)bits[F_MONTH];
    uint64_t dow = bits[F_DOW];
    out->dow = (uint8_t)((dow | dow >> 7) & 0x7fu); /* 7 is Sunday too */
    /* Vixie cron: a field starting with '*' (even "*" + "/2") does not restrict the day. */
    size_t dom_tok = n == 6 ? 3 : 2;
    out->dom_restricted = s[tok[dom_tok][0]] != '*';
    out->dow_restricted = s[tok[dom_tok + 2][0]] != '*';
    if (!(out->dom_restricted && out->dow_restricted) && !some_day_exists(out)) {
        memset(out, 0, sizeof *out);
        return corral_error_set(err, CORRAL_EINVAL, "day-of-month",
                                "day-of-month: none of these days occurs in the months given");
    }
    return CORRAL_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Matching and the next fire
 */

static bool day_matches(const struct corral_cron *c, unsigned d, unsigned wd)
{
    bool dm = (c->dom >> d & 1u) != 0, wm = (c->dow >> wd & 1u) != 0;
    /* Vixie cron: either matches when both fields restrict, both must otherwise. */
    return c->dom_restricted && c->dow_restricted ? dm || wm : dm && wm;
}

bool corral_cron_matches(const struct corral_cron *c, int64_t local_s)
{
    int64_t days = civil_floor_div(local_s, CIVIL_DAY_S);
    int64_t sod = local_s - days * CIVIL_DAY_S;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    return (c->month >> m & 1u) && day_matches(c, d, civil_weekday(days)) &&
           (c->hour >> (sod / 3600) & 1u) && (c->min >> (sod / 60 % 60) & 1u) &&
           (c->sec >> (sod % 60) & 1u);
}

/* The smallest set bit >= from and <= max, or -1. */
static int next_bit(uint64_t bits, unsigned from, unsigned max)
{
    for (unsigned b = from; b <= max; b++) {
        if (bits >> b & 1u)
            return (int)b;
    }
    return -1;
}

/* The first local time >= l that matches c, if it is <= limit. */
static bool next_local(const struct corral_cron *c, int64_t l, int64_t limit, int64_t *out)
{
    while (l <= limit) {
        int64_t days = civil_floor_div(l, CIVIL_DAY_S);
        int64_t day0 = days * CIVIL_DAY_S;
        unsigned sod = (unsigned)(l - day0);
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        if (!(c->month >> m & 1u)) {
            int nm = next_bit(c->month, m + 1, 12);
            l = (nm < 0 ? civil_days_from(y + 1, (unsigned)next_bit(c->month, 1, 12), 1)
                        : civil_days_from(y, (unsigned)nm, 1)) *
                CIVIL_DAY_S;
            continue;
        }
        if (!day_matches(c, d, civil_weekday(days))) {
            l = day0 + CIVIL_DAY_S;
            continue;
        }
        unsigned h = sod / 3600u, mi = sod / 60u % 60u, s = sod % 60u;
        int nh = next_bit(c->hour, h, 23);
        if (nh < 0) {
            l = day0 + CIVIL_DAY_S;
            continue;
        }
        if ((unsigned)nh != h) {
            l = day0 + nh * 3600;
            continue;
        }
        int nmi = next_bit(c->min, mi, 59);
        if (nmi < 0) {
            l = day0 + (h + 1u) * 3600u;
            continue;
        }
        if ((unsigned)nmi != mi) {
            l = day0 + h * 3600u + (unsigned)nmi * 60u;
            continue;
        }
        int ns = next_bit(c->sec, s, 59);
        if (ns < 0) {
            l = day0 + h * 3600u + (mi + 1u) * 60u;
            continue;
        }
        *out = day0 + h * 3600u + mi * 60u + (unsigned)ns;
        return true;
    }
    return false;
}

/* Local times found by next_local but resolved to an instant not after after_ms: only the
 * second half of an overlap (one jump each) or hostile zone data. */
#define NEXT_MAX_RESOLVES 10000

int corral_cron_next(const struct corral_cron *c, const struct corral_tz *tz, int64_t after_ms,
                     int64_t *next_ms, struct corral_error *err)
{
    if (after_ms < CORRAL_CRON_MIN_MS || after_ms > CORRAL_CRON_MAX_MS)
        return corral_error_set(err, CORRAL_EINVAL, "cron",
                                "cron: time %lld ms outside years 1-9999", (long long)after_ms);
    if (!c->sec || !c->min || !c->hour || !c->dom || !c->month || !c->dow)
        return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: expression not parsed");
    int64_t after_s = civil_floor_div(after_ms, 1000);
    /* Local times map to instants in order (a gap's times to its end, an overlap's to their
     * first occurrence), so the first matching local time after after_s's own that maps past
     * after_s is the answer. */
    int64_t l = after_s + corral_tz_offset_at(tz, after_s) + 1;
    int64_t limit = l + (146097LL * CORRAL_CRON_HORIZON_YEARS / 400 + 2) * CIVIL_DAY_S;
    for (int k = 0; k < NEXT_MAX_RESOLVES; k++) {
        if (!next_local(c, l, limit, &l))
            return corral_error_set(err, CORRAL_EINVAL, "cron",
                                    "cron: never fires (no matching time within %d years)",
                                    CORRAL_CRON_HORIZON_YEARS);
        struct corral_tz_local r;
        corral_tz_resolve(tz, l, &r);
        if (r.first_s > after_s) {
            *next_ms = r.first_s * 1000;
            return CORRAL_OK;
        }
        /* Its first occurrence has passed: the second must not fire. Go past the overlap. */
        int64_t past = r.kind == CORRAL_TZ_LOCAL_OVERLAP ? r.change_s + (l - r.first_s) : l + 1;
        l = past > l ? past : l + 1;
    }
    return corral_error_set(err, CORRAL_EINVAL, "cron",
                            "cron: no fire found (irregular time zone data)");
}
