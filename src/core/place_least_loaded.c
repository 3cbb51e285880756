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
    size_t best = eligible[0];
    struct corral_frac best_load = corral_sched_load_after(&view->workers[best], t);
    for (size_t i = 1; i < n; i++) {
        struct corral_frac load = corral_sched_load_after(&view->workers[eligible[i]], t);
        if (corral_frac_cmp(load, best_load) < 0) {
            best = eligible[i];
            best_load = load;
        }
    }
    return best;
}
