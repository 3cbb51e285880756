/* SPDX-License-Identifier: MIT */
/*
 * Log line formatting (include/corral/log.h, STYLE §6): level names and the one-line shape
 * "2026-11-24T08:52:52.123Z info corrald[4242] leader: message\n". Pure: the time comes in as
 * an argument and the civil date is computed here, independent of the C library's time zone
 * handling.
 * Writing the line is the sink's job (src/io/log.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "corral/log.h"

static const char *const level_names[] = {
#define CORRAL_X_NAME(e, s) s,
    CORRAL_LOG_LEVELS(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};

_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == CORRAL_LOG_LEVEL_COUNT,
               "log level table size");

const char *corral_log_level_name(enum corral_log_level l)
{
    if ((int)l < 0 || (int)l >= CORRAL_LOG_LEVEL_COUNT)
        return "unknown";
    return level_names[l];
}

int corral_log_level_parse(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < CORRAL_LOG_LEVEL_COUNT; i++) {
        if (strcmp(name, level_names[i]) == 0)
            return i;
    }
    return -1;
}

/* Floor division: times before 1970 still land in the right day and second. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

struct civil {
    int64_t year;
    unsigned month, day, hour, min, sec, ms;
};

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static struct civil civil_from_ms(int64_t wall_ms)
{
    struct civil c;
    int64_t days = floor_div(wall_ms, 86400000);
    int64_t rem = wall_ms - days * 86400000; /* 0 .. 86399999 */
    c.ms = (unsigned)(rem % 1000);
    c.sec = (unsigned)(rem / 1000 % 60);
    c.min = (unsigned)(rem / 60000 % 60);
    c.hour = (unsigned)(rem / 3600000);

    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    c.day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
    return c;
}

/* Length of s[0..len) without a UTF-8 sequence that truncation cut short at the end. */
static size_t utf8_cut(const char *s, size_t len)
{
    size_t i = len, back = 0;
    while (i > 0 && back < 3 && ((unsigned char)s[i - 1] & 0xc0u) == 0x80u) {
        i--;
        back++;
    }
    if (i == 0)
        return len;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0u ? 4 : lead >= 0xe0u ? 3 : lead >= 0xc0u ? 2 : 1;
    if (need > 1 && len - (i - 1) < need)
        return i - 1;
    return len;
}

size_t corral_log_format(char *buf, size_t n, int64_t wall_ms, enum corral_log_level level,
                         const char *prog, long pid, const char *module, const char *fmt,
                         va_list ap)
{
    if (n == 0)
        return 0;
    if (n == 1) {
        buf[0] = '\0';
        return 0;
    }
    /* The text must leave room for the final "\n" and NUL. */
    size_t room = n - 1;

    /* Years outside 0..9999 cannot occur for real clocks; clamp so the field stays 4 digits. */
    if (wall_ms < -62167219200000)
        wall_ms = -62167219200000; /* 0000-01-01T00:00:00.000Z */
    if (wall_ms > 253402300799999)
        wall_ms = 253402300799999; /* 9999-12-31T23:59:59.999Z */
    struct civil c = civil_from_ms(wall_ms);

    int head =
        snprintf(buf, room, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ %s %s[%ld] %s: ", (int)c.year,
                 c.month, c.day, c.hour, c.min, c.sec, c.ms, corral_log_level_name(level),
                 prog ? prog : "corral", pid, module ? module : "-");
    size_t len;
    bool truncated = false;
    if (head < 0) {
        len = 0;
        buf[0] = '\0';
    } else if ((size_t)head >= room) {
        len = room - 1;
        truncated = true;
    } else {
        len = (size_t)head;
        int body = fmt ? vsnprintf(buf + len, room - len, fmt, ap) : 0;
        if (body < 0)
            buf[len] = '\0';
        else if ((size_t)body >= room - len) {
            len = room - 1;
            truncated = true;
        } else
            len += (size_t)body;
    }
    if (truncated) /* do not end inside a UTF-8 sequence */
        len = utf8_cut(buf, len);
    /* One line per entry: a message must not forge or split lines. */
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    }
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}
