/* SPDX-License-Identifier: MIT */
/*
 * Placement "weighted": smooth weighted round-robin (nginx): every eligible worker's current
 * weight grows by its weight, the largest current wins (ties: earliest in view order) and pays
 * back the total. Over any run of picks in which the eligible set stays the same, worker i gets
 * exactly weight_i / sum(weights) of them within one pick, interleaved rather than in bursts
 * (3:1 gives a a a b, repeated). Current weights persist across ticks in st->swrr, keyed by id.
 */
#include <stdio.h>
#include <string.h>

#include "sched_internal.h"

corral_place_impl corral_place_weighted;

/* Slot of id in st->swrr, adding it (current 0) if missing. When the table is full, an entry
 * of a worker that is no longer in the view is reused; NULL if none is (more than
 * CORRAL_SCHED_STATE_MAX_WORKERS live workers), and the worker then competes without memory. */
static int64_t *swrr_slot(const struct corral_view *view, struct corral_sched_state *st,
                          const char *id)
{
    for (size_t i = 0; i < st->n_swrr; i++) {
        if (strcmp(st->swrr[i].id, id) == 0)
            return &st->swrr[i].current;
    }
    size_t slot = st->n_swrr;
    if (slot == CORRAL_SCHED_STATE_MAX_WORKERS) {
        for (slot = 0; slot < st->n_swrr; slot++) {
            bool live = false;
            for (size_t w = 0; w < view->n_workers && !live; w++)
                live = strcmp(view->workers[w].id, st->swrr[slot].id) == 0;
            if (!live)
                break;
        }
        if (slot == st->n_swrr)
            return NULL;
    } else {
        st->n_swrr++;
    }
    snprintf(st->swrr[slot].id, sizeof st->swrr[slot].id, "%s", id);
    st->swrr[slot].current = 0;
    return &st->swrr[slot].current;
}

size_t corral_place_weighted(const struct corral_view *view, const struct corral_task_view *t,
                             const size_t *eligible, size_t n, struct corral_sched_state *st,
                             uint64_t *rng)
{
    (void)t;
    (void)rng;
    int64_t total = 0, best_cur = 0;
    int64_t *best_slot = NULL;
    size_t best = eligible[0];
    for (size_t i = 0; i < n; i++) {
        const struct corral_worker_view *w = &view->workers[eligible[i]];
        int64_t weight = w->weight ? (int64_t)w->weight : 1;
        int64_t *slot = swrr_slot(view, st, w->id);
        /* Without a slot the worker still competes, as if it were new every time. */
        int64_t cur = slot ? (*slot += weight) : weight;
        total += weight;
        if (i == 0 || cur > best_cur) {
            best_cur = cur;
            best_slot = slot;
            best = eligible[i];
        }
    }
    if (best_slot)
        *best_slot -= total;
    return best;
}
