/* SPDX-License-Identifier: MIT */
/*
 * Placement "bin-pack": the eligible worker with the least room left after taking the task,
 * i.e. the highest load by the least-loaded measure. Packs work onto few workers so others stay
 * idle (or whole, for big tasks). Ties go to the earliest worker in view order, deliberately not
 * rotated as least-loaded's are: a fixed tie rule keeps filling the same worker first, which is
 * the point of packing (rotating would spread equal workers evenly).
 */
#include "sched_internal.h"

corral_place_impl corral_place_bin_pack;

size_t corral_place_bin_pack(const struct corral_view *view, const struct corral_task_view *t,
                             const size_t *eligible, size_t n, struct corral_sched_state *st,
                             uint64_t *rng)
{
    (void)st;
    (void)rng;
    return corral_sched_pick_by_load(view, t, eligible, n, true);
}
