/* SPDX-License-Identifier: MIT */
/*
 * Order "sjf": shortest estimated_ms first, kept starvation-free by the response ratio of HRRN
 * (highest response ratio next): ratio = (waited_ms + estimate) / estimate, highest first.
 *
 * Waiting counts in units of the task's own estimate, so a 100 ms job that waited 1 s (ratio 11)
 * goes before a 5 s job that waited 5 s (ratio 2), whatever the gaps between their arrivals; and
 * a long job is not starved: its ratio grows without bound, so it passes any job whose own
 * waited/estimate is smaller (a 5 s job that waited 10 s, ratio 3, passes a 100 ms job that
 * waited 150 ms, ratio 2.5).
 * Equal ratios (tasks submitted together, ratio 1) go shortest estimate first, then FIFO.
 *
 * estimate = estimated_ms capped at 7 days (the longest allowed timeout: a longer job cannot run
 * to completion anyway), at least 1 ms (an estimate of 0 would divide by zero; 0 and 1 rank the
 * same). A task without an estimate counts as 7 days + 1 ms: it ranks after every task with an
 * estimate that waited as long, and its ratio grows the slowest; it still wins once its own
 * waited / (7 days) exceeds every competitor's waited / estimate.
 * Ratios are compared exactly as fractions of integers (no floating point).
 */
#include "corral/limits.h"
#include "sched_internal.h"

corral_order_impl corral_order_sjf;

#define SJF_CAP_MS ((uint64_t)CORRAL_TIMEOUT_MAX_S * 1000u)

static uint64_t estimate(const struct corral_task_view *t)
{
    if (!t->has_estimated)
        return SJF_CAP_MS + 1u;
    if (t->estimated_ms > SJF_CAP_MS)
        return SJF_CAP_MS;
    return t->estimated_ms > 0 ? t->estimated_ms : 1u;
}

int corral_order_sjf(const struct corral_task_view *a, const struct corral_task_view *b,
                     int64_t now_ms)
{
    uint64_t ea = estimate(a), eb = estimate(b);
    /* waited <= 2^52 and estimate < 2^30: the numerators cannot overflow. */
    struct corral_frac ra = {(uint64_t)corral_sched_waited_ms(a, now_ms) + ea, ea};
    struct corral_frac rb = {(uint64_t)corral_sched_waited_ms(b, now_ms) + eb, eb};
    int c = corral_frac_cmp(ra, rb);
    if (c != 0)
        return c > 0 ? -1 : 1; /* the higher ratio goes first */
    if (ea != eb)
        return ea < eb ? -1 : 1;
    return corral_order_fifo_cmp(a, b);
}
