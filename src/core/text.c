/* SPDX-License-Identifier: MIT */
/*
 * Small pure text helpers: UTF-8 repair for task output (CONTRACT "Task": output is always valid
 * UTF-8), RFC 3339 UTC times with milliseconds, and bounded number parsing for flags and query
 * strings. No locale, no libc time functions (gmtime/timegm read the TZ database), no clock.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/text.h"
#include "corral/xalloc.h"

/* ---- UTF-8 repair ------------------------------------------------------------------------- */

/* Length of the well-formed sequence starting at s (1..4), or 0 with *skip set to the length of
 * the maximal ill-formed subpart to replace by one U+FFFD (Unicode 15, section 3.9, U+FFFD
 * substitution of maximal subparts). NUL is treated as ill-formed. */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *skip)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */

    *skip = 1;
    if (c >= 0x01 && c <= 0x7F)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* NUL, continuation byte, C0/C1 overlong lead, F5..FF */
    }
    for (size_t i = 1; i < need; i++) {
        unsigned char b = i < n ? s[i] : 0;
        unsigned char bl = i == 1 ? lo : 0x80, bh = i == 1 ? hi : 0xBF;
        if (i >= n || b < bl || b > bh) {
            *skip = i;
            return 0;
        }
    }
    return need;
}

char *corral_utf8_repair(const char *in, size_t len)
{
    /* Worst case every byte becomes the 3-byte U+FFFD. */
    if (len > (SIZE_MAX - 1) / 3)
        abort();
    char *out = corral_xmalloc(len * 3 + 1);
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;
    while (i < len) {
        size_t skip;
        size_t n = utf8_seq(s + i, len - i, &skip);
        if (n) {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += skip;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- RFC 3339 times ----------------------------------------------------------------------- */

/* Proleptic Gregorian calendar arithmetic, after Howard Hinnant's "chrono-Compatible Low-Level
 * Date Algorithms": exact for every year we can print (0000..9999). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

#define MS_PER_DAY INT64_C(86400000)
/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the 4-digit years we can print. */
#define TIME_MIN_MS (INT64_C(-719528) * MS_PER_DAY)
#define TIME_MAX_MS (INT64_C(2932897) * MS_PER_DAY - 1)

static void put_digits(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void corral_time_format(int64_t wall_ms, char out[25])
{
    if (wall_ms < TIME_MIN_MS)
        wall_ms = TIME_MIN_MS;
    if (wall_ms > TIME_MAX_MS)
        wall_ms = TIME_MAX_MS;
    /* Floor division so that times before 1970 land on the right day. */
    int64_t days = wall_ms / MS_PER_DAY, rem = wall_ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t y, m, d;
    civil_from_days(days, &y, &m, &d);
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    put_digits(out, y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, rem / 3600000, 2);
    put_digits(out + 14, rem / 60000 % 60, 2);
    put_digits(out + 17, rem / 1000 % 60, 2);
    put_digits(out + 20, rem % 1000, 3);
}

/* Read exactly width decimal digits. */
static int get_digits(const char *p, int width, int64_t *v)
{
    *v = 0;
    for (int i = 0; i < width; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        *v = *v * 10 + (p[i] - '0');
    }
    return 0;
}

static int64_t days_in_month(int64_t y, int64_t m)
{
    static const int64_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

int corral_time_parse(const char *s, int64_t *wall_ms)
{
    /* Exactly what corral_time_format writes; the ".mmm" part may be left out. */
    size_t n = s ? strlen(s) : 0;
    if (n != 24 && n != 20)
        return CORRAL_EINVAL;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[n - 1] != 'Z' || (n == 24 && s[19] != '.'))
        return CORRAL_EINVAL;
    int64_t y, mo, d, h, mi, sec, ms = 0;
    if (get_digits(s, 4, &y) || get_digits(s + 5, 2, &mo) || get_digits(s + 8, 2, &d) ||
        get_digits(s + 11, 2, &h) || get_digits(s + 14, 2, &mi) || get_digits(s + 17, 2, &sec) ||
        (n == 24 && get_digits(s + 20, 3, &ms)))
        return CORRAL_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return CORRAL_EINVAL;
    *wall_ms = days_from_civil(y, mo, d) * MS_PER_DAY + h * 3600000 + mi * 60000 + sec * 1000 + ms;
    return CORRAL_OK;
}

int corral_time_parse_rfc3339(const char *s, int64_t *wall_ms)
{
    /* date-time = full-date "T" partial-time time-offset (RFC 3339 section 5.6); "t" and "z"
     * are allowed as the RFC says, a space is not. */
    size_t n = s ? strlen(s) : 0;
    if (n < 20 || n > 64)
        return CORRAL_EINVAL;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return CORRAL_EINVAL;
    int64_t y, mo, d, h, mi, sec, ms = 0;
    if (get_digits(s, 4, &y) || get_digits(s + 5, 2, &mo) || get_digits(s + 8, 2, &d) ||
        get_digits(s + 11, 2, &h) || get_digits(s + 14, 2, &mi) || get_digits(s + 17, 2, &sec))
        return CORRAL_EINVAL;
    /* A leap second (:60) is refused: corral's clocks never show one. */
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
        return CORRAL_EINVAL;
    size_t i = 19;
    if (s[i] == '.') {
        /* Any number of fraction digits; the first three are kept (truncated to ms). */
        size_t digits = 0;
        for (i++; s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (digits < 3)
                ms = ms * 10 + (s[i] - '0');
        }
        if (digits == 0)
            return CORRAL_EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t offset_min = 0;
    if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0') {
        offset_min = 0;
    } else if ((s[i] == '+' || s[i] == '-') && n - i == 6 && s[i + 3] == ':') {
        int64_t oh, om;
        if (get_digits(s + i + 1, 2, &oh) || get_digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return CORRAL_EINVAL;
        offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    } else {
        return CORRAL_EINVAL;
    }
    *wall_ms = days_from_civil(y, mo, d) * MS_PER_DAY + h * 3600000 + mi * 60000 + sec * 1000 + ms -
               offset_min * 60000;
    return CORRAL_OK;
}

/* ---- numbers ------------------------------------------------------------------------------ */

int corral_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s)
        return CORRAL_EINVAL;
    bool neg = *s == '-';
    if (neg)
        s++;
    if (*s == '\0')
        return CORRAL_EINVAL;
    /* Accumulate the magnitude unsigned: -INT64_MIN does not fit an int64_t. */
    uint64_t mag = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return CORRAL_EINVAL;
        uint64_t digit = (uint64_t)(*s - '0');
        if (mag > (limit - digit) / 10)
            return CORRAL_EINVAL;
        mag = mag * 10 + digit;
    }
    int64_t v;
    if (neg)
        v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    else
        v = (int64_t)mag;
    if (v < min || v > max)
        return CORRAL_EINVAL;
    *out = v;
    return CORRAL_OK;
}

int corral_parse_milli(const char *s, uint64_t max_milli, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return CORRAL_EINVAL;
    uint64_t whole = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        whole = whole * 10 + (uint64_t)(*s - '0');
        if (whole > max_milli / 1000 + 1)
            return CORRAL_EINVAL; /* stop before it can overflow */
    }
    uint64_t frac = 0;
    if (*s == '.') {
        s++;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits == 3)
                return CORRAL_EINVAL;
            frac = frac * 10 + (uint64_t)(*s - '0');
        }
        if (digits == 0)
            return CORRAL_EINVAL;
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (*s != '\0')
        return CORRAL_EINVAL;
    if (whole > (UINT64_MAX - 999) / 1000)
        return CORRAL_EINVAL;
    uint64_t v = whole * 1000 + frac;
    if (v > max_milli)
        return CORRAL_EINVAL;
    *out = v;
    return CORRAL_OK;
}

size_t corral_text_strip_controls(char *s, size_t len, bool keep_newlines)
{
    size_t w = 0;
    for (size_t r = 0; r < len; r++) {
        unsigned char c = (unsigned char)s[r];
        if (c == 0xC2 && r + 1 < len && (unsigned char)s[r + 1] >= 0x80 &&
            (unsigned char)s[r + 1] <= 0x9F) {
            s[w++] = '?'; /* C1 control */
            r++;
        } else if ((c < 0x20 && c != '\t' && !(keep_newlines && c == '\n')) || c == 0x7F) {
            s[w++] = '?';
        } else {
            s[w++] = (char)c;
        }
    }
    s[w] = '\0';
    return w;
}
