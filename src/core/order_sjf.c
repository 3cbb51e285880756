/* SPDX-License-Identifier: MIT */
/*
 * Order "sjf": shortest estimated_ms first, with aging so that long jobs do not starve.
 *
 * Effective estimate = base - waited_ms, where base = estimated_ms capped at 7 days (the longest
 * allowed timeout: a longer estimate cannot run to completion anyway), and base = 7 days + 1 ms
 * for a task without an estimate, so it ranks after every task with one submitted at the same
 * time. Aging is 1 ms of estimate per ms waited (0 if the clock says the task is from the
 * future): a job estimated at 1 hour overtakes any newly submitted job after waiting at most
 * 1 hour, and a task without an estimate after at most 7 days. Ties: FIFO.
 */
#include "corral/limits.h"
#include "sched_internal.h"

corral_order_impl corral_order_sjf;

#define SJF_CAP_MS ((int64_t)CORRAL_TIMEOUT_MAX_S * 1000)

static int64_t effective(const struct corral_task_view *t, int64_t now_ms)
{
    int64_t base;
    if (!t->has_estimated)
        base = SJF_CAP_MS + 1;
    else if (t->estimated_ms > (uint64_t)SJF_CAP_MS)
        base = SJF_CAP_MS;
    else
        base = (int64_t)t->estimated_ms;
    return base - corral_sched_waited_ms(t, now_ms);
}

int corral_order_sjf(const struct corral_task_view *a, const struct corral_task_view *b,
                     int64_t now_ms)
{
    int64_t ea = effective(a, now_ms), eb = effective(b, now_ms);
    if (ea != eb)
        return ea < eb ? -1 : 1;
    return corral_order_fifo_cmp(a, b);
}
