/* SPDX-License-Identifier: MIT */
/*
 * Placement "least-loaded": the eligible worker whose load after taking the task is lowest,
 * load = max(running/slots, cpu/cpu capacity, mem/mem capacity). Spreads work out.
 *
 * Ties rotate: among the workers tied at the lowest load, the one with the smallest id after the
 * id this policy picked last (st->ll_last), wrapping to the smallest id. Breaking ties
 * by view order instead sent every task of an idle cluster to the same worker when tasks arrive
 * one per round (each finishes before the next comes). Keyed by id, not index or view order, so
 * the rotation survives workers joining or leaving and does not depend on how the view is sorted;
 * deterministic: same view and state give the same pick.
 */
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"

corral_place_impl corral_place_least_loaded;

size_t corral_place_least_loaded(const struct corral_view *view, const struct corral_task_view *t,
                                 const size_t *eligible, size_t n, struct corral_sched_state *st,
                                 uint64_t *rng)
{
    (void)rng;
    struct corral_frac best_load = corral_sched_load_after(&view->workers[eligible[0]], t);
    for (size_t i = 1; i < n; i++) {
        struct corral_frac load = corral_sched_load_after(&view->workers[eligible[i]], t);
        if (corral_frac_cmp(load, best_load) < 0)
            best_load = load;
    }
    /* Among the tied: next after ll_last (smallest id > ll_last), else the smallest id. */
    const char *next = NULL, *first = NULL;
    size_t pick_next = 0, pick_first = 0;
    for (size_t i = 0; i < n; i++) {
        const struct corral_worker_view *w = &view->workers[eligible[i]];
        if (corral_frac_cmp(corral_sched_load_after(w, t), best_load) != 0)
            continue;
        if (!first || strcmp(w->id, first) < 0) {
            first = w->id;
            pick_first = eligible[i];
        }
        if (strcmp(w->id, st->ll_last) > 0 && (!next || strcmp(w->id, next) < 0)) {
            next = w->id;
            pick_next = eligible[i];
        }
    }
    size_t pick = next ? pick_next : pick_first;
    snprintf(st->ll_last, sizeof st->ll_last, "%s", view->workers[pick].id);
    return pick;
}
