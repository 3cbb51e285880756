/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "cron": the cron expression parser (corral_cron_parse, the whole input) and, for
 * an accepted expression, corral_cron_next in UTC and under Lord Howe's 30-minute DST rule.
 * Invariants: a refusal says why; an accepted expression has a non-empty set in every field;
 * a next fire is a whole second strictly after the start, the expression matches its local time
 * (in UTC), and asking again from just before it gives it again.
 */
#include "corral/cron.h"
#include "corral/tz.h"
#include "fuzz.h"

static void check_next(const struct corral_cron *c, const struct corral_tz *tz, int64_t after)
{
    int64_t n = 0, again = 0;
    struct corral_error err = {0};
    if (corral_cron_next(c, tz, after, &n, &err) != CORRAL_OK) {
        FUZZ_CHECK(err.code == CORRAL_EINVAL && err.msg[0] != '\0');
        return;
    }
    FUZZ_CHECK(n > after && n % 1000 == 0);
    FUZZ_CHECK(corral_cron_next(c, tz, n - 1, &again, NULL) == CORRAL_OK && again == n);
    int64_t local = n / 1000 + corral_tz_offset_at(tz, n / 1000);
    struct corral_tz_local r;
    corral_tz_resolve(tz, local, &r);
    /* In UTC the fire's own time matches; elsewhere it may be the end of a gap instead. */
    if (tz == corral_tz_utc())
        FUZZ_CHECK(corral_cron_matches(c, local));
    else if (!corral_cron_matches(c, local))
        FUZZ_CHECK(r.kind == CORRAL_TZ_LOCAL_UNIQUE && r.first_s == n / 1000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct corral_cron c;
    struct corral_error err = {0};
    if (corral_cron_parse((const char *)data, size, &c, &err) != CORRAL_OK) {
        FUZZ_CHECK(err.code == CORRAL_EINVAL && err.msg[0] != '\0' && err.field[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(c.sec && c.min && c.hour && c.dom && c.month && c.dow);
    FUZZ_CHECK(!(c.dow & 0x80u) && !(c.month & 1u) && !(c.dom & 1u));
    static const char lh[] = "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0";
    static struct corral_tz tz;
    FUZZ_CHECK(corral_tz_parse_posix(lh, sizeof lh - 1, &tz, NULL) == CORRAL_OK);
    check_next(&c, corral_tz_utc(), 1775316600123LL);
    check_next(&c, &tz, 1775312000000LL); /* shortly before Lord Howe's April change */
    return 0;
}
