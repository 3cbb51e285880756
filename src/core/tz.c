/* SPDX-License-Identifier: MIT */
/*
 * Time zones as pure data (tz.h): the TZif parser (RFC 8536), the POSIX TZ rule of its footer,
 * the offset at an instant and the instants of a local time. The bytes are untrusted: every
 * count is checked against the limits and the length before anything is read.
 */
#include <inttypes.h>
#include <string.h>

#include "civil.h"
#include "corral/tz.h"

#define FIELD "tz"

/* Rule arithmetic is done on instants clamped to +-10^13 s (+-317,000 years): far beyond any
 * schedule, and small enough that no day or second count can overflow. */
#define RULE_T_LIMIT 10000000000000LL

static const struct corral_tz tz_utc = {.n_trans = 0, .n_types = 1};

const struct corral_tz *corral_tz_utc(void)
{
    return &tz_utc;
}

/* ---------------------------------------------------------------------------------------------
 * POSIX TZ rule
 */

/* The instant (UTC s) at which `w` happens in `year`, given the offset in effect before it. */
static int64_t when_utc(const struct corral_tz_when *w, int64_t year, int32_t off_before)
{
    int64_t day;
    if (w->kind == 'J') {
        int64_t doy = (int64_t)w->day - 1;
        if (civil_is_leap(year) && w->day >= 60)
            doy++;
        day = civil_days_from(year, 1, 1) + doy;
    } else if (w->kind == 'n') {
        day = civil_days_from(year, 1, 1) + (int64_t)w->day;
    } else {
        int64_t first = civil_days_from(year, w->month, 1);
        unsigned dd = (w->wday + 7u - civil_weekday(first)) % 7u + (w->week - 1u) * 7u;
        unsigned dim = civil_days_in_month(year, w->month);
        while (dd >= dim)
            dd -= 7u;
        day = first + (int64_t)dd;
    }
    return day * CIVIL_DAY_S + w->time_s - off_before;
}

static int64_t clamp_t(int64_t t)
{
    return t < -RULE_T_LIMIT ? -RULE_T_LIMIT : t > RULE_T_LIMIT ? RULE_T_LIMIT : t;
}

static int64_t year_of(int64_t t)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(civil_floor_div(t, CIVIL_DAY_S), &y, &m, &d);
    return y;
}

static int32_t rule_offset(const struct corral_tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    t = clamp_t(t);
    int64_t y = year_of(t + r->std_off);
    /* The latest change at or before t among the years around it; a change may fall in the
     * neighbouring year (a "J365/25" or southern-hemisphere rule), hence three years. */
    bool found = false;
    int64_t best = 0;
    int32_t off = r->std_off;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t s = when_utc(&r->start, yy, r->std_off);
        int64_t e = when_utc(&r->end, yy, r->dst_off);
        if (s <= t && (!found || s > best)) {
            found = true;
            best = s;
            off = r->dst_off;
        }
        if (e <= t && (!found || e > best)) {
            found = true;
            best = e;
            off = r->std_off;
        }
    }
    return off;
}

static bool rule_next_change(const struct corral_tz_rule *r, int64_t t, int64_t *change_s)
{
    if (!r->has_dst || t >= RULE_T_LIMIT)
        return false;
    t = clamp_t(t);
    int64_t y = year_of(t + r->std_off);
    bool found = false;
    int64_t best = 0;
    for (int64_t yy = y - 1; yy <= y + 2; yy++) {
        int64_t c[2] = {when_utc(&r->start, yy, r->std_off), when_utc(&r->end, yy, r->dst_off)};
        for (int i = 0; i < 2; i++) {
            if (c[i] > t && (!found || c[i] < best)) {
                found = true;
                best = c[i];
            }
        }
    }
    if (found)
        *change_s = best;
    return found;
}

/* A cursor over the TZ string. */
struct cursor {
    const char *s;
    size_t len, pos;
};

static int peek(const struct cursor *c)
{
    return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static bool is_alpha(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* Up to max_digits decimal digits (at least one) into *v. */
static bool number(struct cursor *c, unsigned max_digits, unsigned *v)
{
    unsigned n = 0, x = 0;
    while (is_digit(peek(c)) && n < max_digits) {
        x = x * 10u + (unsigned)(peek(c) - '0');
        c->pos++;
        n++;
    }
    if (n == 0 || is_digit(peek(c)))
        return false;
    *v = x;
    return true;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static bool abbreviation(struct cursor *c)
{
    size_t n = 0;
    if (peek(c) == '<') {
        c->pos++;
        while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '+' || peek(c) == '-') {
            c->pos++;
            n++;
        }
        if (peek(c) != '>')
            return false;
        c->pos++;
    } else {
        while (is_alpha(peek(c))) {
            c->pos++;
            n++;
        }
    }
    return n >= 3;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h, into seconds (sign applied). */
static bool hms(struct cursor *c, unsigned max_h, int32_t *out)
{
    int sign = 1;
    if (peek(c) == '+' || peek(c) == '-') {
        sign = peek(c) == '-' ? -1 : 1;
        c->pos++;
    }
    unsigned h, m = 0, s = 0;
    if (!number(c, 3, &h) || h > max_h)
        return false;
    if (peek(c) == ':') {
        c->pos++;
        if (!number(c, 2, &m) || m > 59)
            return false;
        if (peek(c) == ':') {
            c->pos++;
            if (!number(c, 2, &s) || s > 59)
                return false;
        }
    }
    *out = sign * (int32_t)(h * 3600u + m * 60u + s);
    return true;
}

/* Jn, n or Mm.w.d, then an optional /time (default 02:00:00). */
static bool rule_date(struct cursor *c, struct corral_tz_when *w)
{
    memset(w, 0, sizeof *w);
    unsigned v;
    if (peek(c) == 'J') {
        c->pos++;
        if (!number(c, 3, &v) || v < 1 || v > 365)
            return false;
        w->kind = 'J';
        w->day = (uint16_t)v;
    } else if (peek(c) == 'M') {
        c->pos++;
        unsigned mo, wk, wd;
        if (!number(c, 2, &mo) || mo < 1 || mo > 12 || peek(c) != '.')
            return false;
        c->pos++;
        if (!number(c, 1, &wk) || wk < 1 || wk > 5 || peek(c) != '.')
            return false;
        c->pos++;
        if (!number(c, 1, &wd) || wd > 6)
            return false;
        w->kind = 'M';
        w->month = (uint8_t)mo;
        w->week = (uint8_t)wk;
        w->wday = (uint8_t)wd;
    } else {
        if (!number(c, 3, &v) || v > 365)
            return false;
        w->kind = 'n';
        w->day = (uint16_t)v;
    }
    w->time_s = 2 * 3600;
    if (peek(c) == '/') {
        c->pos++;
        if (!hms(c, 167, &w->time_s))
            return false;
    }
    return true;
}

int corral_tz_rule_parse(const char *s, size_t len, struct corral_tz_rule *rule,
                         struct corral_error *err)
{
    memset(rule, 0, sizeof *rule);
    if (len > CORRAL_TZ_POSIX_MAX)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZ rule longer than %u bytes",
                                CORRAL_TZ_POSIX_MAX);
    struct cursor c = {.s = s, .len = len, .pos = 0};
    int32_t v;
    if (!abbreviation(&c))
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZ rule: bad standard time name at byte %zu", c.pos);
    if (!hms(&c, 24, &v))
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZ rule: bad standard time offset at byte %zu", c.pos);
    rule->std_off = -v; /* POSIX counts hours west of Greenwich */
    if (c.pos == len)
        return CORRAL_OK;
    if (!abbreviation(&c))
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZ rule: bad daylight time name at byte %zu", c.pos);
    rule->has_dst = true;
    rule->dst_off = rule->std_off + 3600;
    if (peek(&c) != ',' && c.pos < len) {
        if (!hms(&c, 24, &v))
            return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                    "TZ rule: bad daylight time offset at byte %zu", c.pos);
        rule->dst_off = -v;
    }
    if (peek(&c) != ',')
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZ rule: daylight time without its start and end");
    c.pos++;
    if (!rule_date(&c, &rule->start) || peek(&c) != ',')
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZ rule: bad start of daylight time at byte %zu", c.pos);
    c.pos++;
    if (!rule_date(&c, &rule->end))
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZ rule: bad end of daylight time at byte %zu", c.pos);
    if (c.pos != len)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZ rule: trailing bytes at byte %zu",
                                c.pos);
    return CORRAL_OK;
}

int corral_tz_parse_posix(const char *s, size_t len, struct corral_tz *out,
                          struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = corral_tz_rule_parse(s, len, &out->rule, err);
    if (rc != CORRAL_OK)
        return rc;
    out->has_rule = true;
    out->n_types = 1;
    out->type_off[0] = out->rule.std_off;
    return CORRAL_OK;
}

/* ---------------------------------------------------------------------------------------------
 * TZif (RFC 8536)
 */

#define TZIF_HEADER 44u

struct tzif_header {
    unsigned char version; /* 0, '2', '3', '4', ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Two's complement without implementation-defined conversions. */
static int64_t be64(const unsigned char *p)
{
    uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
    return (u >> 63) ? -(int64_t)(~u) - 1 : (int64_t)u;
}

static int32_t s32(uint32_t u)
{
    return (u >> 31) ? -(int32_t)(~u) - 1 : (int32_t)u;
}

static int read_header(const unsigned char *buf, size_t len, size_t pos, struct tzif_header *h,
                       struct corral_error *err)
{
    if (len - pos < TZIF_HEADER)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: truncated header at byte %zu",
                                pos);
    const unsigned char *p = buf + pos;
    if (memcmp(p, "TZif", 4) != 0)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: bad magic at byte %zu", pos);
    h->version = p[4];
    if (h->version != 0 && h->version < '2')
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: unknown version 0x%02x",
                                h->version);
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return CORRAL_OK;
}

/* Bytes of the data block after a header; 64-bit arithmetic cannot overflow on 32-bit counts. */
static uint64_t block_size(const struct tzif_header *h, unsigned timesize)
{
    return (uint64_t)h->timecnt * (timesize + 1u) + (uint64_t)h->typecnt * 6u + h->charcnt +
           (uint64_t)h->leapcnt * (timesize + 4u) + h->isstdcnt + h->isutcnt;
}

static int parse_block(const unsigned char *buf, size_t len, size_t pos,
                       const struct tzif_header *h, unsigned timesize, struct corral_tz *out,
                       struct corral_error *err)
{
    if (h->leapcnt != 0)
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZif: leap seconds are not supported (a right/ zone?)");
    if (h->typecnt == 0 || h->typecnt > CORRAL_TZ_MAX_TYPES)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: %" PRIu32 " local time types",
                                h->typecnt);
    if (h->timecnt > CORRAL_TZ_MAX_TRANSITIONS)
        return corral_error_set(err, CORRAL_ETOOBIG, FIELD,
                                "TZif: %" PRIu32 " transitions, at most %u", h->timecnt,
                                CORRAL_TZ_MAX_TRANSITIONS);
    if (h->charcnt == 0)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: no time zone designations");
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                "TZif: standard/UT indicator counts do not match the types");
    if (block_size(h, timesize) > len - pos)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: truncated data block");

    const unsigned char *p = buf + pos;
    out->n_trans = h->timecnt;
    out->n_types = h->typecnt;
    for (uint32_t i = 0; i < h->timecnt; i++, p += timesize) {
        out->trans_s[i] = timesize == 8 ? be64(p) : (int64_t)s32(be32(p));
        if (i > 0 && out->trans_s[i] <= out->trans_s[i - 1])
            return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                    "TZif: transition %" PRIu32 " does not increase", i);
    }
    for (uint32_t i = 0; i < h->timecnt; i++, p++) {
        if (*p >= h->typecnt)
            return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                    "TZif: transition %" PRIu32 " has type %u of %" PRIu32, i,
                                    (unsigned)*p, h->typecnt);
        out->trans_type[i] = *p;
    }
    for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = s32(be32(p));
        if (off < CORRAL_TZ_OFFSET_MIN || off > CORRAL_TZ_OFFSET_MAX)
            return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                    "TZif: type %" PRIu32 " offset %" PRId32 " s out of range", i,
                                    off);
        if (p[4] > 1 || p[5] >= h->charcnt)
            return corral_error_set(err, CORRAL_EINVAL, FIELD,
                                    "TZif: type %" PRIu32 " is malformed", i);
        out->type_off[i] = off;
    }
    p += h->charcnt; /* designations: not needed; leap records: none (checked above) */
    for (uint32_t i = 0; i < h->isstdcnt + h->isutcnt; i++, p++) {
        if (*p > 1)
            return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: indicator is not 0 or 1");
    }
    return CORRAL_OK;
}

int corral_tz_parse_tzif(const unsigned char *buf, size_t len, struct corral_tz *out,
                         struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    if (!buf || len > CORRAL_TZIF_MAX_BYTES)
        return corral_error_set(err, buf ? CORRAL_ETOOBIG : CORRAL_EINVAL, FIELD,
                                "TZif: larger than %u bytes", CORRAL_TZIF_MAX_BYTES);
    struct tzif_header h;
    int rc = read_header(buf, len, 0, &h, err);
    if (rc != CORRAL_OK)
        return rc;
    if (h.version == 0)
        return parse_block(buf, len, TZIF_HEADER, &h, 4, out, err);

    /* Version 2+: skip the 32-bit block, parse the 64-bit one and the footer. */
    uint64_t skip = block_size(&h, 4);
    if (skip > len - TZIF_HEADER)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: truncated version 1 block");
    size_t pos = TZIF_HEADER + (size_t)skip;
    rc = read_header(buf, len, pos, &h, err);
    if (rc != CORRAL_OK)
        return rc;
    pos += TZIF_HEADER;
    rc = parse_block(buf, len, pos, &h, 8, out, err);
    if (rc != CORRAL_OK)
        return rc;
    pos += (size_t)block_size(&h, 8);

    if (pos >= len || buf[pos] != '\n')
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: missing footer");
    pos++;
    const unsigned char *nl = memchr(buf + pos, '\n', len - pos);
    if (!nl)
        return corral_error_set(err, CORRAL_EINVAL, FIELD, "TZif: unterminated footer");
    size_t flen = (size_t)(nl - (buf + pos));
    if (flen == 0)
        return CORRAL_OK; /* no rule: the last transition's offset stays */
    rc = corral_tz_rule_parse((const char *)(buf + pos), flen, &out->rule, err);
    if (rc != CORRAL_OK)
        return rc;
    out->has_rule = true;
    return CORRAL_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Queries
 */

/* Index of the last transition at or before t (t >= trans_s[0] and t < trans_s[n-1]). */
static uint32_t last_at_or_before(const struct corral_tz *tz, int64_t t)
{
    uint32_t lo = 0, hi = tz->n_trans - 1; /* trans_s[lo] <= t < trans_s[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (tz->trans_s[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int32_t corral_tz_offset_at(const struct corral_tz *tz, int64_t utc_s)
{
    uint32_t n = tz->n_trans;
    if (n == 0 || utc_s >= tz->trans_s[n - 1]) {
        if (tz->has_rule)
            return rule_offset(&tz->rule, utc_s);
        return n == 0 ? tz->type_off[0] : tz->type_off[tz->trans_type[n - 1]];
    }
    if (utc_s < tz->trans_s[0])
        return tz->type_off[0];
    return tz->type_off[tz->trans_type[last_at_or_before(tz, utc_s)]];
}

bool corral_tz_next_change(const struct corral_tz *tz, int64_t utc_s, int64_t *change_s)
{
    uint32_t n = tz->n_trans;
    if (n > 0 && utc_s < tz->trans_s[n - 1]) {
        *change_s =
            utc_s < tz->trans_s[0] ? tz->trans_s[0] : tz->trans_s[last_at_or_before(tz, utc_s) + 1];
        return true;
    }
    return tz->has_rule && rule_next_change(&tz->rule, utc_s, change_s);
}

#define RESOLVE_MAX_SEGMENTS 64

void corral_tz_resolve(const struct corral_tz *tz, int64_t local_s, struct corral_tz_local *out)
{
    /* Every instant whose local time can be local_s lies in [lo, hi]. Walk the segments of
     * constant offset there: local_s - off is an instant of local_s when it lies in its own
     * segment; a change whose jump steps over local_s makes it a gap. */
    local_s = clamp_t(local_s);
    int64_t lo = local_s - CORRAL_TZ_OFFSET_MAX - 1, hi = local_s - CORRAL_TZ_OFFSET_MIN + 1;
    int64_t seg = lo, found[2] = {0, 0}, found_seg[2] = {0, 0}, gap = 0;
    int n_found = 0;
    bool has_gap = false;
    int32_t off = corral_tz_offset_at(tz, seg);
    for (int i = 0; i < RESOLVE_MAX_SEGMENTS; i++) {
        int64_t change = 0;
        bool more = corral_tz_next_change(tz, seg, &change) && change <= hi;
        int64_t end = more ? change : hi + 1;
        int64_t u = local_s - off;
        if (u >= seg && u < end && n_found < 2 && (n_found == 0 || u != found[n_found - 1])) {
            found[n_found] = u;
            found_seg[n_found] = seg;
            n_found++;
        }
        if (!more)
            break;
        int32_t next_off = corral_tz_offset_at(tz, change);
        if (!has_gap && change + off <= local_s && local_s < change + next_off) {
            has_gap = true;
            gap = change;
        }
        seg = change;
        off = next_off;
    }
    if (n_found == 2) {
        *out = (struct corral_tz_local){CORRAL_TZ_LOCAL_OVERLAP, found[0], found[1], found_seg[1]};
    } else if (n_found == 1) {
        *out = (struct corral_tz_local){CORRAL_TZ_LOCAL_UNIQUE, found[0], found[0], found[0]};
    } else if (has_gap) {
        *out = (struct corral_tz_local){CORRAL_TZ_LOCAL_GAP, gap, gap, gap};
    } else {
        /* Only with more than RESOLVE_MAX_SEGMENTS changes in 52 hours (hostile data). */
        int64_t u = local_s - corral_tz_offset_at(tz, local_s);
        *out = (struct corral_tz_local){CORRAL_TZ_LOCAL_UNIQUE, u, u, u};
    }
}
