/* SPDX-License-Identifier: MIT */
/*
 * Cron expressions (issue 10 "Time and order"; syntax and rules in docs/workflows.md): the
 * parser and the next fire time in a time zone. Five fields (minute hour day-of-month month
 * day-of-week) or six with a leading seconds field; `*`, `a`, `a-b`, `*` or `a-b` or `a` with a
 * `/step`, comma lists, month and weekday names; the @ forms. Day-of-month and day-of-week
 * combine as in Vixie cron. A local time skipped by a forward change fires at the first valid
 * instant after the gap; one that occurs twice fires at its first occurrence only.
 * Pure: the zone is data passed in (corral/tz.h); schedules themselves are not built yet.
 */
#ifndef CORRAL_CRON_H
#define CORRAL_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/tz.h"

#define CORRAL_CRON_MAX_LEN 256u /* bytes of an expression */
/* corral_cron_next looks this far ahead: the Gregorian calendar repeats every 400 years
 * (146097 days, a whole number of weeks), so an expression that does not fire within them
 * never fires. */
#define CORRAL_CRON_HORIZON_YEARS 400
/* Instants corral_cron_next accepts: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z. */
#define CORRAL_CRON_MIN_MS (-62135596800000LL)
#define CORRAL_CRON_MAX_MS 253402300799999LL

/* A parsed expression: one bit per matching value. */
struct corral_cron {
    uint64_t sec;        /* bit s: second s, 0-59 ({0} without a seconds field) */
    uint64_t min;        /* bit m: minute m, 0-59 */
    uint32_t hour;       /* bit h: hour h, 0-23 */
    uint32_t dom;        /* bit d: day of month d, 1-31 */
    uint16_t month;      /* bit m: month m, 1-12 */
    uint8_t dow;         /* bit d: weekday d, 0-6, 0 = Sunday (7 is folded into 0) */
    bool dom_restricted; /* the day-of-month field does not start with '*' */
    bool dow_restricted; /* the day-of-week field does not start with '*' */
    bool has_seconds;    /* six fields were given */
};

/*
 * Parse the expression s (len bytes; need not be NUL-terminated) into *out. Fields are separated
 * by spaces or tabs. Returns CORRAL_OK, or CORRAL_EINVAL with err->field the cron field
 * ("minute", "day-of-week", ...; "cron" for the whole expression) and err->msg saying what
 * is wrong, starting with the field ("minute: 61 out of range 0-59"). An expression whose days
 * of month never occur in its months ("0 0 30 2 *") is refused here too. *out is zeroed on
 * failure.
 */
CORRAL_NODISCARD int corral_cron_parse(const char *s, size_t len, struct corral_cron *out,
                                       struct corral_error *err);

/* Whether the expression matches the local wall-clock time local_s (seconds since
 * 1970-01-01T00:00:00 local, as if UTC), ignoring time zones. */
bool corral_cron_matches(const struct corral_cron *c, int64_t local_s);

/*
 * The first fire of c in zone tz strictly after the UTC instant after_ms (ms since the epoch),
 * into *next_ms (a whole second). A local time in a gap fires at the end of the gap; a local
 * time that occurs twice fires at its first occurrence only (never at the second, even when
 * after_ms lies between them). Returns CORRAL_OK, or CORRAL_EINVAL when after_ms is outside
 * CORRAL_CRON_MIN_MS..CORRAL_CRON_MAX_MS or c never fires (nothing within the horizon).
 */
CORRAL_NODISCARD int corral_cron_next(const struct corral_cron *c, const struct corral_tz *tz,
                                      int64_t after_ms, int64_t *next_ms, struct corral_error *err);

#endif
