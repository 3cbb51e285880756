/* SPDX-License-Identifier: MIT */
/*
 * Order "priority" (the default): highest effective priority first, then FIFO.
 *
 * Aging: effective priority = priority + whole minutes waited, i.e. +1 point per minute since
 * submission ((now_ms - submitted_at_ms) / 60000, 0 if the clock says the task is from the
 * future). A task of priority p waiting behind a steady stream of priority q > p tasks moves
 * ahead of newly submitted ones after (q - p) minutes, so nothing starves: at most ~33 hours for
 * the full -1000..1000 range. Within equal effective priority the older task goes first.
 */
#include "sched_internal.h"

corral_order_impl corral_order_priority;

#define AGING_MS_PER_POINT 60000

static int64_t effective(const struct corral_task_view *t, int64_t now_ms)
{
    return (int64_t)t->priority + corral_sched_waited_ms(t, now_ms) / AGING_MS_PER_POINT;
}

int corral_order_priority(const struct corral_task_view *a, const struct corral_task_view *b,
                          int64_t now_ms)
{
    int64_t ea = effective(a, now_ms), eb = effective(b, now_ms);
    if (ea != eb)
        return ea > eb ? -1 : 1;
    return corral_order_fifo_cmp(a, b);
}
