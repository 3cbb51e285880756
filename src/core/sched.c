/* SPDX-License-Identifier: MIT */
/*
 * Scheduler core (include/corral/sched.h): eligibility, the policy tables and one planning tick
 * over a snapshot. Pure and deterministic: no clock, no global state, randomness only from the
 * seed, integer arithmetic only. It decides; the leader (src/corrald/leader.c) executes the plan
 * as fenced ZooKeeper multis. Policies live in place_*.c and order_*.c, one file each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Policy tables: adding a policy is one file plus one row here.                               */

#define CORRAL_PLACEMENTS(X)                                                                       \
    X("least-loaded", corral_place_least_loaded)                                                   \
    X("round-robin", corral_place_round_robin)                                                     \
    X("random", corral_place_random)                                                               \
    X("weighted", corral_place_weighted)                                                           \
    X("bin-pack", corral_place_bin_pack)

#define CORRAL_ORDERS(X)                                                                           \
    X("priority", corral_order_priority)                                                           \
    X("fifo", corral_order_fifo)                                                                   \
    X("sjf", corral_order_sjf)

#define CORRAL_X_PLACE_DECL(name, fn) corral_place_impl fn;
#define CORRAL_X_ORDER_DECL(name, fn) corral_order_impl fn;
CORRAL_PLACEMENTS(CORRAL_X_PLACE_DECL)
CORRAL_ORDERS(CORRAL_X_ORDER_DECL)
#undef CORRAL_X_PLACE_DECL
#undef CORRAL_X_ORDER_DECL

#define CORRAL_X_ROW(name, fn) {name, fn},
static const struct corral_placement placements[] = {CORRAL_PLACEMENTS(CORRAL_X_ROW)};
static const struct corral_order orders[] = {CORRAL_ORDERS(CORRAL_X_ROW)};
#undef CORRAL_X_ROW

/* ", a, b, c" + 2: the list is one string literal, built by the preprocessor. */
#define CORRAL_X_NAME(name, fn) ", " name
static const char placement_names[] = CORRAL_PLACEMENTS(CORRAL_X_NAME);
static const char order_names[] = CORRAL_ORDERS(CORRAL_X_NAME);
#undef CORRAL_X_NAME

const struct corral_placement *corral_placement_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(placements) / sizeof(placements[0]); i++) {
        if (strcmp(placements[i].name, name) == 0)
            return &placements[i];
    }
    return NULL;
}

const struct corral_order *corral_order_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof(orders) / sizeof(orders[0]); i++) {
        if (strcmp(orders[i].name, name) == 0)
            return &orders[i];
    }
    return NULL;
}

const char *corral_placement_names(void)
{
    return placement_names + 2;
}

const char *corral_order_names(void)
{
    return order_names + 2;
}

/* ------------------------------------------------------------------------------------------ */
/* Arithmetic helpers                                                                          */

uint64_t corral_rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

int corral_frac_cmp(struct corral_frac a, struct corral_frac b)
{
    /* Compare a.num/a.den with b.num/b.den by their continued fractions: integer parts first,
     * then the reciprocals of the remainders (with the sense flipped). No overflow, exact. */
    for (;;) {
        uint64_t qa = a.num / a.den, qb = b.num / b.den;
        if (qa != qb)
            return qa < qb ? -1 : 1;
        uint64_t ra = a.num % a.den, rb = b.num % b.den;
        if (ra == 0 || rb == 0) {
            if (ra == rb)
                return 0;
            return ra == 0 ? -1 : 1;
        }
        /* ra/a.den < rb/b.den  <=>  b.den/rb < a.den/ra: swap the sides and go on. */
        struct corral_frac na = {a.den, ra}, nb = {b.den, rb};
        a = nb;
        b = na;
    }
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static struct corral_frac frac_max(struct corral_frac a, struct corral_frac b)
{
    return corral_frac_cmp(a, b) >= 0 ? a : b;
}

struct corral_frac corral_sched_load_after(const struct corral_worker_view *w,
                                           const struct corral_task_view *t)
{
    struct corral_frac load = {(uint64_t)w->running + 1u, w->slots ? w->slots : 1u};
    if (w->cpu_milli > 0) {
        struct corral_frac cpu = {(uint64_t)w->used_cpu_milli + t->cpu_milli, w->cpu_milli};
        load = frac_max(load, cpu);
    }
    if (w->mem_mb > 0) {
        struct corral_frac mem = {sat_add(w->used_mem_mb, t->mem_mb), w->mem_mb};
        load = frac_max(load, mem);
    }
    return load;
}

size_t corral_sched_pick_by_load(const struct corral_view *view, const struct corral_task_view *t,
                                 const size_t *eligible, size_t n, bool prefer_higher)
{
    size_t best = eligible[0];
    struct corral_frac best_load = corral_sched_load_after(&view->workers[best], t);
    for (size_t i = 1; i < n; i++) {
        struct corral_frac load = corral_sched_load_after(&view->workers[eligible[i]], t);
        int c = corral_frac_cmp(load, best_load);
        if (prefer_higher ? c > 0 : c < 0) {
            best = eligible[i];
            best_load = load;
        }
    }
    return best;
}

int64_t corral_sched_waited_ms(const struct corral_task_view *t, int64_t now_ms)
{
    const int64_t cap = INT64_C(1) << 52;
    if (now_ms <= t->submitted_at_ms)
        return 0;
    /* Unsigned difference cannot overflow even for extreme inputs. */
    uint64_t d = (uint64_t)now_ms - (uint64_t)t->submitted_at_ms;
    return d > (uint64_t)cap ? cap : (int64_t)d;
}

/* ------------------------------------------------------------------------------------------ */
/* Eligibility                                                                                 */

static const char *label_value(const struct corral_worker_view *w, const char *key)
{
    for (size_t i = 0; i < w->n_labels; i++) {
        if (strcmp(w->labels[i].key, key) == 0)
            return w->labels[i].value;
    }
    return NULL;
}

static bool labels_match(const struct corral_worker_view *w, const struct corral_task_view *t)
{
    for (size_t i = 0; i < t->n_constraints; i++) {
        const char *v = label_value(w, t->constraints[i].key);
        if (!v || strcmp(v, t->constraints[i].value) != 0)
            return false;
    }
    return true;
}

bool corral_sched_fits_now(const struct corral_worker_view *w, const struct corral_task_view *t)
{
    if (w->running >= w->slots)
        return false;
    if (w->used_cpu_milli > w->cpu_milli || t->cpu_milli > w->cpu_milli - w->used_cpu_milli)
        return false;
    if (w->used_mem_mb > w->mem_mb || t->mem_mb > w->mem_mb - w->used_mem_mb)
        return false;
    return labels_match(w, t);
}

bool corral_sched_fits_ever(const struct corral_worker_view *w, const struct corral_task_view *t)
{
    return w->slots > 0 && t->cpu_milli <= w->cpu_milli && t->mem_mb <= w->mem_mb &&
           labels_match(w, t);
}

/* ------------------------------------------------------------------------------------------ */
/* Planning                                                                                    */

static void milli_text(uint64_t v, char *buf, size_t n)
{
    if (v % 1000u == 0) {
        snprintf(buf, n, "%llu", (unsigned long long)(v / 1000u));
        return;
    }
    uint64_t frac = v % 1000u;
    int digits = 3;
    while (frac % 10u == 0) {
        frac /= 10u;
        digits--;
    }
    snprintf(buf, n, "%llu.%0*llu", (unsigned long long)(v / 1000u), digits,
             (unsigned long long)frac);
}

/* Why no worker could ever run t: the first requirement that no worker meets on its own, or
 * that they are only met separately. */
static void unsched_reason(const struct corral_view *view, const struct corral_task_view *t,
                           char *buf, size_t n)
{
    int w = -1;
    if (view->n_workers == 0) {
        w = snprintf(buf, n, "unschedulable: no workers");
        goto out;
    }
    uint64_t max_cpu = 0, max_mem = 0;
    bool any_slots = false;
    for (size_t i = 0; i < view->n_workers; i++) {
        const struct corral_worker_view *wk = &view->workers[i];
        max_cpu = wk->cpu_milli > max_cpu ? wk->cpu_milli : max_cpu;
        max_mem = wk->mem_mb > max_mem ? wk->mem_mb : max_mem;
        any_slots = any_slots || wk->slots > 0;
    }
    if (!any_slots) {
        w = snprintf(buf, n, "unschedulable: no worker has a slot");
        goto out;
    }
    if (t->cpu_milli > max_cpu) {
        char need[32], have[32];
        milli_text(t->cpu_milli, need, sizeof need);
        milli_text(max_cpu, have, sizeof have);
        w = snprintf(buf, n, "unschedulable: needs cpu %s, largest worker has %s", need, have);
        goto out;
    }
    if (t->mem_mb > max_mem) {
        w = snprintf(buf, n, "unschedulable: needs mem_mb %llu, largest worker has %llu",
                     (unsigned long long)t->mem_mb, (unsigned long long)max_mem);
        goto out;
    }
    for (size_t c = 0; c < t->n_constraints; c++) {
        bool found = false;
        for (size_t i = 0; i < view->n_workers && !found; i++) {
            const char *v = label_value(&view->workers[i], t->constraints[c].key);
            found = v && strcmp(v, t->constraints[c].value) == 0;
        }
        if (!found) {
            w = snprintf(buf, n, "unschedulable: no worker has label %s=%s", t->constraints[c].key,
                         t->constraints[c].value);
            goto out;
        }
    }
    w = snprintf(buf, n, "unschedulable: no single worker has the cpu, mem_mb and labels needed");
out:
    if (w < 0 && n > 0)
        buf[0] = '\0';
    /* Otherwise a long label is cut by snprintf, which is fine for a human-readable reason. */
}

/* Stable merge sort of task indexes (qsort has no context argument for now_ms in C11). */
static void sort_tasks(size_t *idx, size_t *tmp, size_t n, const struct corral_view *view,
                       corral_order_fn cmp, int64_t now_ms)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (cmp(&view->tasks[idx[j]], &view->tasks[idx[i]], now_ms) < 0)
                    tmp[k++] = idx[j++];
                else
                    tmp[k++] = idx[i++];
            }
            while (i < mid)
                tmp[k++] = idx[i++];
            while (j < hi)
                tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, n * sizeof(*idx));
    }
}

/* The worker a blocked head-of-line task reserves: among those that could ever run it, the one
 * with the most free slots (it is likely to free up first); ties earliest. */
static size_t pick_reservation(const struct corral_view *lv, const struct corral_task_view *t)
{
    size_t best = SIZE_MAX;
    uint32_t best_free = 0;
    for (size_t i = 0; i < lv->n_workers; i++) {
        const struct corral_worker_view *w = &lv->workers[i];
        if (!corral_sched_fits_ever(w, t))
            continue;
        uint32_t free_slots = w->slots > w->running ? w->slots - w->running : 0;
        if (best == SIZE_MAX || free_slots > best_free) {
            best = i;
            best_free = free_slots;
        }
    }
    return best;
}

int corral_sched_plan(const struct corral_view *view, const struct corral_policy *policy,
                      struct corral_sched_state *st, int64_t now_ms, uint64_t seed,
                      struct corral_plan *out, struct corral_error *err)
{
    if (!view || !policy || !policy->placement || !policy->order || !st || !out)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "sched: missing argument");
    out->assign = NULL;
    out->unsched = NULL;
    out->n_assign = 0;
    out->n_unsched = 0;

    int rc = CORRAL_OK;
    struct corral_worker_view *workers = NULL;
    size_t *order = NULL, *tmp = NULL, *eligible = NULL;
    size_t nw = view->n_workers, nt = view->n_tasks;

    if (nt == 0)
        return CORRAL_OK;
    /* calloc of at least 1 element keeps NULL meaning "out of memory" only. */
    workers = calloc(nw ? nw : 1, sizeof(*workers));
    eligible = calloc(nw ? nw : 1, sizeof(*eligible));
    order = calloc(nt, sizeof(*order));
    tmp = calloc(nt, sizeof(*tmp));
    out->assign = calloc(nt, sizeof(*out->assign));
    out->unsched = calloc(nt, sizeof(*out->unsched));
    if (!workers || !eligible || !order || !tmp || !out->assign || !out->unsched) {
        rc = corral_error_set(err, CORRAL_EINTERNAL, NULL, "sched: out of memory");
        goto out;
    }
    if (nw > 0)
        memcpy(workers, view->workers, nw * sizeof(*workers));
    /* Policies see the private copy, whose usage grows with every pick of this plan. */
    struct corral_view lv = *view;
    lv.workers = workers;

    size_t n_order = 0;
    for (size_t i = 0; i < nt; i++) {
        if (view->tasks[i].not_before_ms <= now_ms)
            order[n_order++] = i;
    }
    sort_tasks(order, tmp, n_order, view, policy->order->compare, now_ms);

    uint64_t rng = seed;
    size_t reserved = SIZE_MAX;
    for (size_t k = 0; k < n_order; k++) {
        size_t ti = order[k];
        const struct corral_task_view *t = &view->tasks[ti];

        bool ever = false;
        for (size_t w = 0; w < nw && !ever; w++)
            ever = corral_sched_fits_ever(&workers[w], t);
        if (!ever) {
            struct corral_unschedulable *u = &out->unsched[out->n_unsched++];
            u->task = ti;
            unsched_reason(view, t, u->reason, sizeof u->reason);
            continue;
        }

        size_t n_elig = 0;
        for (size_t w = 0; w < nw; w++) {
            if (w != reserved && corral_sched_fits_now(&workers[w], t))
                eligible[n_elig++] = w;
        }
        if (n_elig == 0) {
            /* Blocked. The first blocked task reserves a worker so that small tasks cannot keep
             * it busy forever; later tasks backfill the other workers only. */
            if (reserved == SIZE_MAX)
                reserved = pick_reservation(&lv, t);
            continue;
        }

        size_t pick = policy->placement->place(&lv, t, eligible, n_elig, st, &rng);
        if (pick >= nw || !corral_sched_fits_now(&workers[pick], t) || pick == reserved) {
            rc = corral_error_set(err, CORRAL_EINTERNAL, NULL,
                                  "sched: placement %s chose an ineligible worker",
                                  policy->placement->name);
            goto out;
        }
        struct corral_worker_view *w = &workers[pick];
        w->running++;
        w->used_cpu_milli = w->used_cpu_milli > UINT32_MAX - t->cpu_milli
                                ? UINT32_MAX
                                : w->used_cpu_milli + t->cpu_milli;
        w->used_mem_mb = sat_add(w->used_mem_mb, t->mem_mb);
        out->assign[out->n_assign].task = ti;
        out->assign[out->n_assign].worker = pick;
        out->n_assign++;
    }

out:
    free(workers);
    free(eligible);
    free(order);
    free(tmp);
    if (rc != CORRAL_OK)
        corral_plan_cleanup(out);
    return rc;
}

void corral_plan_cleanup(struct corral_plan *plan)
{
    if (!plan)
        return;
    free(plan->assign);
    free(plan->unsched);
    plan->assign = NULL;
    plan->unsched = NULL;
    plan->n_assign = 0;
    plan->n_unsched = 0;
}
