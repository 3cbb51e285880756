/* SPDX-License-Identifier: MIT */
/*
 * Placement "bin-pack": the eligible worker with the least room left after taking the task,
 * i.e. the highest load by the least-loaded measure. Packs work onto few workers so others stay
 * idle (or whole, for big tasks). Ties go to the earliest worker in view order.
 */
#include "sched_internal.h"

corral_place_impl corral_place_bin_pack;

size_t corral_place_bin_pack(const struct corral_view *view, const struct corral_task_view *t,
                             const size_t *eligible, size_t n, struct corral_sched_state *st,
                             uint64_t *rng)
{
    (void)st;
    (void)rng;
    size_t best = eligible[0];
    struct corral_frac best_load = corral_sched_load_after(&view->workers[best], t);
    for (size_t i = 1; i < n; i++) {
        struct corral_frac load = corral_sched_load_after(&view->workers[eligible[i]], t);
        if (corral_frac_cmp(load, best_load) > 0) {
            best = eligible[i];
            best_load = load;
        }
    }
    return best;
}
