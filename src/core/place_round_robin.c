/* SPDX-License-Identifier: MIT */
/*
 * Placement "round-robin": the first eligible worker whose id sorts after the one picked last
 * (st->rr_last), wrapping around to the first eligible worker. Keyed by id rather than by index
 * so that workers joining or leaving between ticks do not reset or skew the rotation; a full
 * worker is simply skipped this time.
 */
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"

corral_place_impl corral_place_round_robin;

size_t corral_place_round_robin(const struct corral_view *view, const struct corral_task_view *t,
                                const size_t *eligible, size_t n, struct corral_sched_state *st,
                                uint64_t *rng)
{
    (void)t;
    (void)rng;
    size_t pick = eligible[0];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(view->workers[eligible[i]].id, st->rr_last) > 0) {
            pick = eligible[i];
            break;
        }
    }
    snprintf(st->rr_last, sizeof st->rr_last, "%s", view->workers[pick].id);
    return pick;
}
