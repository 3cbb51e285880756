/* SPDX-License-Identifier: MIT */
/*
 * Proleptic Gregorian calendar arithmetic shared by tz.c and cron.c (internal to the core): days
 * since 1970-01-01 to and from year, month, day, after H. Hinnant's "chrono-compatible low-level
 * date algorithms", exact for every int64 day count the callers produce (|days| < 2^40).
 */
#ifndef CORRAL_CORE_CIVIL_H
#define CORRAL_CORE_CIVIL_H

#include <stdbool.h>
#include <stdint.h>

#define CIVIL_DAY_S 86400

static inline int64_t civil_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline int64_t civil_floor_mod(int64_t a, int64_t b)
{
    return a - civil_floor_div(a, b) * b;
}

static inline bool civil_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline unsigned civil_days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && civil_is_leap(y) ? 29u : dim[(m - 1u) % 12u];
}

/* Days since 1970-01-01 of y-m-d (m 1-12, d 1-31). */
static inline int64_t civil_days_from(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (m > 2 ? m - 3u : m + 9u) + 2u) / 5u + d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Year, month (1-12) and day (1-31) of the day z days after 1970-01-01. */
static inline void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
    unsigned doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
    unsigned mp = (5u * doy + 2u) / 153u;
    *d = doy - (153u * mp + 2u) / 5u + 1u;
    *m = mp < 10u ? mp + 3u : mp - 9u;
    *y = (int64_t)yoe + era * 400 + (*m <= 2u);
}

/* Day of the week of day z: 0 = Sunday (1970-01-01 was a Thursday). */
static inline unsigned civil_weekday(int64_t z)
{
    return (unsigned)civil_floor_mod(z + 4, 7);
}

#endif
