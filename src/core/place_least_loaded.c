/* SPDX-License-Identifier: MIT */
/*
 * Placement "least-loaded": the eligible worker whose load after taking the task is lowest,
 * load = max(running/slots, cpu/cpu capacity, mem/mem capacity). Spreads work out. Ties go to the
 * earliest worker in view order (the leader sorts workers by id), so the choice is stable.
 */
#include "sched_internal.h"

corral_place_impl corral_place_least_loaded;

size_t corral_place_least_loaded(const struct corral_view *view, const struct corral_task_view *t,
                                 const size_t *eligible, size_t n, struct corral_sched_state *st,
                                 uint64_t *rng)
{
    (void)st;
    (void)rng;
    return corral_sched_pick_by_load(view, t, eligible, n, false);
}
