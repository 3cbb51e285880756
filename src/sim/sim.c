/* SPDX-License-Identifier: MIT */
/*
 * Event-driven scheduling simulation (sim.h). Time is simulated: it jumps from one event
 * (arrival or completion) to the next; nothing here reads a clock. The planner is the real
 * corral_sched_plan() on a view built the way corrald/leader.c builds it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/xalloc.h"
#include "sim/sim.h"

/* ------------------------------------------------------------------------------------------ */
/* Metrics                                                                                     */

double sim_jain(const double *x, size_t n)
{
    double sum = 0.0, sq = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        sq += x[i] * x[i];
    }
    if (n == 0 || sq <= 0.0)
        return 1.0;
    return sum * sum / ((double)n * sq);
}

uint64_t sim_percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
    if (n == 0)
        return 0;
    if (pct > 100)
        pct = 100;
    /* Nearest rank: the smallest value with at least pct% of the values at or below it. */
    size_t rank = (size_t)(((uint64_t)n * pct + 99u) / 100u);
    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

void sim_util_bins(const struct sim_result *r, int64_t span_ms, double *bins, size_t n_bins)
{
    for (size_t b = 0; b < n_bins; b++)
        bins[b] = 0.0;
    if (span_ms <= 0 || n_bins == 0 || r->cpu_capacity_milli == 0)
        return;
    double t0 = (double)r->start_ms, span = (double)span_ms;
    double width = span / (double)n_bins, cap = (double)r->cpu_capacity_milli;
    /* Integrate the step function piece by piece into the bins it overlaps. */
    for (size_t i = 0; i < r->n_util; i++) {
        double a = (double)r->util[i].t_ms - t0;
        double e = i + 1 < r->n_util ? (double)r->util[i + 1].t_ms - t0 : span;
        if (e > span)
            e = span;
        if (a < 0.0)
            a = 0.0;
        double level = (double)r->util[i].used_cpu_milli / cap;
        while (a < e && level > 0.0) {
            size_t b = (size_t)(a / width);
            if (b >= n_bins)
                b = n_bins - 1;
            double bend = (double)(b + 1) * width;
            double seg_end = e < bend ? e : bend;
            bins[b] += level * (seg_end - a) / width;
            if (seg_end <= a)
                break; /* rounding at the last bin edge */
            a = seg_end;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Running tasks: a binary min-heap on (finish time, task index)                               */

struct run {
    int64_t finish_ms;
    size_t task, worker;
};

struct heap {
    struct run *v;
    size_t n;
};

static bool run_before(const struct run *a, const struct run *b)
{
    return a->finish_ms != b->finish_ms ? a->finish_ms < b->finish_ms : a->task < b->task;
}

static void heap_push(struct heap *h, struct run r)
{
    size_t i = h->n++;
    h->v[i] = r;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!run_before(&h->v[i], &h->v[parent]))
            break;
        struct run tmp = h->v[i];
        h->v[i] = h->v[parent];
        h->v[parent] = tmp;
        i = parent;
    }
}

static struct run heap_pop(struct heap *h)
{
    struct run top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && run_before(&h->v[l], &h->v[m]))
            m = l;
        if (r < h->n && run_before(&h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            break;
        struct run tmp = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = tmp;
        i = m;
    }
    return top;
}

/* ------------------------------------------------------------------------------------------ */
/* Simulation                                                                                  */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sim_run(const struct sim_cluster *c, const struct sim_workload *w,
            const struct corral_policy *p, uint64_t seed, struct sim_result *out,
            struct corral_error *err)
{
    memset(out, 0, sizeof *out);
    out->placement = p->placement->name;
    out->order = p->order->name;
    out->n_tasks = w->n;
    out->n_workers = c->n;
    out->start_ms = w->n ? w->tasks[0].submit_ms : 0;

    size_t nw = c->n, nt = w->n;
    struct corral_worker_view *wv = corral_xcalloc(nw, sizeof *wv);
    struct corral_task_view *tv = corral_xcalloc(nt, sizeof *tv);
    size_t *queue = corral_xcalloc(nt, sizeof *queue); /* task indexes, arrival order */
    struct heap running = {corral_xcalloc(nt, sizeof(struct run)), 0};
    double *busy_cpu = corral_xcalloc(nw, sizeof *busy_cpu);
    struct corral_sched_state *st = corral_xcalloc(1, sizeof *st);
    out->waits = corral_xcalloc(nt, sizeof *out->waits);
    out->busy_ms = corral_xcalloc(nw, sizeof *out->busy_ms);
    /* At most one point per event instant plus the initial one. */
    out->util = corral_xcalloc(2 * nt + 2, sizeof *out->util);

    for (size_t i = 0; i < nw; i++) {
        const struct sim_worker *sw = &c->workers[i];
        wv[i] = (struct corral_worker_view){
            .id = sw->id,
            .slots = sw->slots,
            .cpu_milli = sw->cpu_milli,
            .mem_mb = sw->mem_mb,
            .labels = sw->labels,
            .n_labels = sw->n_labels,
            .weight = sw->weight ? sw->weight : 1,
        };
        out->cpu_capacity_milli += sw->cpu_milli;
    }

    int rc = CORRAL_OK;
    uint64_t rng = seed;
    size_t next = 0, nq = 0;
    uint64_t used_total = 0;
    int64_t last_finish = out->start_ms;
    double cpu_ms_used = 0.0;
    out->util[out->n_util++] = (struct sim_util_point){out->start_ms, 0};

    /* Every iteration consumes at least one arrival or completion: at most 2 * nt + 1. */
    for (size_t iter = 0; iter <= 2 * nt && (next < nt || running.n > 0); iter++) {
        int64_t now = INT64_MAX;
        if (next < nt)
            now = w->tasks[next].submit_ms;
        if (running.n > 0 && running.v[0].finish_ms < now)
            now = running.v[0].finish_ms;

        while (running.n > 0 && running.v[0].finish_ms <= now) {
            struct run r = heap_pop(&running);
            const struct sim_task *t = &w->tasks[r.task];
            struct corral_worker_view *wk = &wv[r.worker];
            wk->running--;
            wk->used_cpu_milli -= t->cpu_milli;
            wk->used_mem_mb -= t->mem_mb;
            used_total -= t->cpu_milli;
        }
        while (next < nt && w->tasks[next].submit_ms <= now)
            queue[nq++] = next++;
        if (nq == 0)
            goto record;

        for (size_t k = 0; k < nq; k++) {
            const struct sim_task *t = &w->tasks[queue[k]];
            tv[k] = (struct corral_task_view){
                .id = t->id,
                .priority = t->priority,
                .submitted_at_ms = t->submit_ms,
                .cpu_milli = t->cpu_milli,
                .mem_mb = t->mem_mb,
                .constraints = t->constraints,
                .n_constraints = t->n_constraints,
                .has_estimated = t->has_estimated,
                .estimated_ms = t->estimated_ms,
            };
        }
        struct corral_view view = {.workers = wv, .n_workers = nw, .tasks = tv, .n_tasks = nq};
        struct corral_plan plan = {0};
        rc = corral_sched_plan(&view, p, st, now, corral_rng_next(&rng), &plan, err);
        if (rc != CORRAL_OK)
            goto out;
        out->plans++;
        for (size_t a = 0; a < plan.n_assign; a++) {
            size_t ti = queue[plan.assign[a].task], wi = plan.assign[a].worker;
            const struct sim_task *t = &w->tasks[ti];
            struct corral_worker_view *wk = &wv[wi];
            wk->running++;
            wk->used_cpu_milli += t->cpu_milli;
            wk->used_mem_mb += t->mem_mb;
            used_total += t->cpu_milli;
            int64_t finish = now + (int64_t)t->duration_ms;
            heap_push(&running, (struct run){finish, ti, wi});
            out->waits[out->placed++] = (uint64_t)(now - t->submit_ms);
            double cpu_ms = (double)t->cpu_milli / 1000.0 * (double)t->duration_ms;
            cpu_ms_used += cpu_ms;
            busy_cpu[wi] += wk->cpu_milli > 0 ? cpu_ms * 1000.0 / (double)wk->cpu_milli
                                              : (double)t->duration_ms;
            if (finish > last_finish)
                last_finish = finish;
            queue[plan.assign[a].task] = SIZE_MAX;
        }
        for (size_t u = 0; u < plan.n_unsched; u++) {
            if (out->never_placed == 0)
                snprintf(out->first_reason, sizeof out->first_reason, "%s", plan.unsched[u].reason);
            out->never_placed++;
            /* A static cluster will never fit it: drop it rather than re-plan it forever. */
            queue[plan.unsched[u].task] = SIZE_MAX;
        }
        corral_plan_cleanup(&plan);
        size_t keep = 0;
        for (size_t k = 0; k < nq; k++) {
            if (queue[k] != SIZE_MAX)
                queue[keep++] = queue[k];
        }
        nq = keep;
    record:
        if (out->util[out->n_util - 1].t_ms == now)
            out->util[out->n_util - 1].used_cpu_milli = used_total;
        else
            out->util[out->n_util++] = (struct sim_util_point){now, used_total};
    }
    /* Anything still queued never ran (cannot happen with the reservation rule, but counted). */
    out->never_placed += nq;

    qsort(out->waits, out->placed, sizeof *out->waits, cmp_u64);
    double wait_sum = 0.0;
    for (size_t i = 0; i < out->placed; i++)
        wait_sum += (double)out->waits[i];
    out->wait_mean_ms = out->placed ? wait_sum / (double)out->placed : 0.0;
    out->wait_p50_ms = sim_percentile(out->waits, out->placed, 50);
    out->wait_p99_ms = sim_percentile(out->waits, out->placed, 99);
    out->wait_max_ms = out->placed ? out->waits[out->placed - 1] : 0;
    out->makespan_ms = out->placed ? last_finish - out->start_ms : 0;
    out->utilisation =
        out->makespan_ms > 0 && out->cpu_capacity_milli > 0
            ? cpu_ms_used * 1000.0 / ((double)out->cpu_capacity_milli * (double)out->makespan_ms)
            : 0.0;
    for (size_t i = 0; i < nw; i++)
        out->busy_ms[i] = busy_cpu[i];
    out->fairness = sim_jain(out->busy_ms, nw);

out:
    free(wv);
    free(tv);
    free(queue);
    free(running.v);
    free(busy_cpu);
    free(st);
    if (rc != CORRAL_OK)
        sim_result_cleanup(out);
    return rc;
}

void sim_result_cleanup(struct sim_result *r)
{
    if (!r)
        return;
    free(r->waits);
    free(r->busy_ms);
    free(r->util);
    r->waits = NULL;
    r->busy_ms = NULL;
    r->util = NULL;
    r->n_util = 0;
    r->placed = 0;
}
