/* SPDX-License-Identifier: MIT */
/*
 * Order "fifo": oldest submission first (submitted_at_ms, then id). Also the tie-break of every
 * other order, which makes them all total orders.
 */
#include <string.h>

#include "sched_internal.h"

corral_order_impl corral_order_fifo;

int corral_order_fifo_cmp(const struct corral_task_view *a, const struct corral_task_view *b)
{
    if (a->submitted_at_ms != b->submitted_at_ms)
        return a->submitted_at_ms < b->submitted_at_ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

int corral_order_fifo(const struct corral_task_view *a, const struct corral_task_view *b,
                      int64_t now_ms)
{
    (void)now_ms;
    return corral_order_fifo_cmp(a, b);
}
