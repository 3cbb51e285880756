/* SPDX-License-Identifier: MIT */
/*
 * Misfire and overlap decisions (misfire.h). The latest due fire is found by a binary search
 * over corral_cron_next (the next fire after t never decreases as t grows), so a schedule that
 * fires every second and was paused for a year costs about 40 calls, not 31 million.
 */
#include <string.h>

#include "corral/misfire.h"

/* The latest fire of c in (lo_ms, hi_ms], into *out; false when there is none. */
static int latest_in(const struct corral_cron *c, const struct corral_tz *tz, int64_t lo_ms,
                     int64_t hi_ms, bool *found, int64_t *out, struct corral_error *err)
{
    int64_t n;
    int rc = corral_cron_next(c, tz, lo_ms, &n, err);
    if (rc != CORRAL_OK || n > hi_ms) {
        *found = false;
        return rc;
    }
    /* next(a) <= hi_ms < next(b); fires are whole seconds, so stop at 1 ms apart. */
    int64_t a = lo_ms, b = hi_ms;
    while (b - a > 1) {
        int64_t mid = a + (b - a) / 2;
        if ((rc = corral_cron_next(c, tz, mid, &n, err)) != CORRAL_OK)
            return rc;
        if (n <= hi_ms)
            a = mid;
        else
            b = mid;
    }
    *found = true;
    return corral_cron_next(c, tz, a, out, err);
}

int corral_misfire_plan(const struct corral_cron *c, const struct corral_tz *tz,
                        const struct corral_misfire_policy *policy, int64_t last_fire_ms,
                        int64_t now_ms, struct corral_misfire_plan *out, struct corral_error *err)
{
    out->n_fires = 0;
    out->more = false;
    out->record_ms = last_fire_ms;
    if (policy->catchup_window_s < 0 || policy->catchup_window_s > CORRAL_MISFIRE_MAX_WINDOW_S)
        return corral_error_set(err, CORRAL_EINVAL, "catchup_window_s",
                                "catchup_window_s: must be 0..%lld",
                                (long long)CORRAL_MISFIRE_MAX_WINDOW_S);
    if (policy->grace_ms < 0 || policy->grace_ms > CORRAL_MISFIRE_MAX_WINDOW_S * 1000)
        return corral_error_set(err, CORRAL_EINVAL, "grace_ms", "grace_ms: must be >= 0");
    if ((unsigned)policy->misfire > CORRAL_MISFIRE_FIRE_ALL)
        return corral_error_set(err, CORRAL_EINVAL, "misfire", "misfire: unknown policy");
    if (now_ms < CORRAL_CRON_MIN_MS || now_ms > CORRAL_CRON_MAX_MS ||
        last_fire_ms < CORRAL_CRON_MIN_MS || last_fire_ms > CORRAL_CRON_MAX_MS)
        return corral_error_set(err, CORRAL_EINVAL, "cron", "cron: time outside years 1-9999");
    if (last_fire_ms >= now_ms)
        return CORRAL_OK;
    bool found;
    int64_t latest;
    int rc = latest_in(c, tz, last_fire_ms, now_ms, &found, &latest, err);
    if (rc != CORRAL_OK || !found)
        return rc;
    bool on_time = now_ms - latest <= policy->grace_ms;
    switch (policy->misfire) {
        case CORRAL_MISFIRE_SKIP:
            if (on_time)
                out->fires_ms[out->n_fires++] = latest;
            out->record_ms = latest;
            return CORRAL_OK;
        case CORRAL_MISFIRE_FIRE_ONCE:
            out->fires_ms[out->n_fires++] = latest;
            out->record_ms = latest;
            return CORRAL_OK;
        case CORRAL_MISFIRE_FIRE_ALL:
            break;
    }
    int64_t lo = now_ms - policy->catchup_window_s * 1000;
    if (lo < last_fire_ms)
        lo = last_fire_ms;
    if (on_time && latest <= lo)
        lo = latest - 1;
    int64_t t = lo, f;
    while (out->n_fires < CORRAL_MISFIRE_MAX_FIRES) {
        if ((rc = corral_cron_next(c, tz, t, &f, err)) != CORRAL_OK)
            return rc;
        if (f > now_ms)
            break;
        out->fires_ms[out->n_fires++] = f;
        t = f;
    }
    if (out->n_fires == CORRAL_MISFIRE_MAX_FIRES && t < latest) {
        out->more = true;
        out->record_ms = t;
    } else {
        out->record_ms = latest; /* older ones out of the window are dropped */
    }
    return CORRAL_OK;
}

enum corral_overlap_action corral_overlap_decide(enum corral_overlap policy,
                                                 bool previous_unfinished, bool one_waiting)
{
    if (!previous_unfinished)
        return CORRAL_OVERLAP_ACT_FIRE;
    switch (policy) {
        case CORRAL_OVERLAP_ALLOW:
            return CORRAL_OVERLAP_ACT_FIRE;
        case CORRAL_OVERLAP_QUEUE:
            return one_waiting ? CORRAL_OVERLAP_ACT_SKIP : CORRAL_OVERLAP_ACT_QUEUE_ONE;
        case CORRAL_OVERLAP_CANCEL_PREVIOUS:
            return CORRAL_OVERLAP_ACT_CANCEL_PREVIOUS_THEN_FIRE;
        case CORRAL_OVERLAP_SKIP:
            break;
    }
    return CORRAL_OVERLAP_ACT_SKIP;
}
