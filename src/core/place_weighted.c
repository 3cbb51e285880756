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

/* Index of the first entry of st->swrr (kept sorted by id) whose id is >= id. Sorted so that a
 * lookup is a binary search: a tick with T tasks over W workers costs T * W * log W. */
static size_t swrr_lower_bound(const struct corral_sched_state *st, const char *id)
{
    size_t lo = 0, hi = st->n_swrr;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(st->swrr[mid].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool in_view(const struct corral_view *view, const char *id)
{
    for (size_t w = 0; w < view->n_workers; w++) {
        if (strcmp(view->workers[w].id, id) == 0)
            return true;
    }
    return false;
}

/* Current weight of id in st->swrr, adding it (current 0) if missing. When the table is full,
 * the entry of a worker that is no longer in the view is dropped; NULL if there is none (more
 * than CORRAL_SCHED_STATE_MAX_WORKERS live workers): the worker then competes without memory. */
static int64_t *swrr_slot(const struct corral_view *view, struct corral_sched_state *st,
                          const char *id)
{
    size_t pos = swrr_lower_bound(st, id);
    if (pos < st->n_swrr && strcmp(st->swrr[pos].id, id) == 0)
        return &st->swrr[pos].current;
    if (strlen(id) >= sizeof st->swrr[0].id)
        return NULL; /* cannot be keyed exactly; longer than any valid worker id anyway */
    if (st->n_swrr == CORRAL_SCHED_STATE_MAX_WORKERS) {
        size_t gone = 0;
        while (gone < st->n_swrr && in_view(view, st->swrr[gone].id))
            gone++;
        if (gone == st->n_swrr)
            return NULL;
        memmove(&st->swrr[gone], &st->swrr[gone + 1],
                (st->n_swrr - gone - 1) * sizeof(st->swrr[0]));
        st->n_swrr--;
        if (gone < pos)
            pos--;
    }
    memmove(&st->swrr[pos + 1], &st->swrr[pos], (st->n_swrr - pos) * sizeof(st->swrr[0]));
    st->n_swrr++;
    snprintf(st->swrr[pos].id, sizeof st->swrr[pos].id, "%s", id);
    st->swrr[pos].current = 0;
    return &st->swrr[pos].current;
}

size_t corral_place_weighted(const struct corral_view *view, const struct corral_task_view *t,
                             const size_t *eligible, size_t n, struct corral_sched_state *st,
                             uint64_t *rng)
{
    (void)t;
    (void)rng;
    int64_t total = 0, best_cur = 0;
    size_t best = eligible[0];
    for (size_t i = 0; i < n; i++) {
        const struct corral_worker_view *w = &view->workers[eligible[i]];
        int64_t weight = w->weight ? (int64_t)w->weight : 1;
        /* Not kept across iterations: a later insertion moves the entries. */
        int64_t *slot = swrr_slot(view, st, w->id);
        int64_t cur = slot ? (*slot += weight) : weight;
        total += weight;
        if (i == 0 || cur > best_cur) {
            best_cur = cur;
            best = eligible[i];
        }
    }
    const char *best_id = view->workers[best].id;
    size_t pos = swrr_lower_bound(st, best_id);
    if (pos < st->n_swrr && strcmp(st->swrr[pos].id, best_id) == 0)
        st->swrr[pos].current -= total;
    return best;
}
