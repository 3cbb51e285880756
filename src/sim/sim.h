/* SPDX-License-Identifier: MIT */
/*
 * The scheduling simulation behind corral-sim: an event-driven replay of a workload over a
 * static cluster that calls corral_sched_plan() at every arrival/completion instant, as the
 * leader does at each round, and measures the outcome. Pure and deterministic: simulated time
 * only (no clock), randomness only from the seed, no I/O.
 */
#ifndef CORRAL_SIM_SIM_H
#define CORRAL_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/sched.h"
#include "sim/workload.h"

/* Cluster cpu in use from t_ms until the next point. */
struct sim_util_point {
    int64_t t_ms;
    uint64_t used_cpu_milli;
};

struct sim_result {
    const char *placement, *order; /* borrowed: the policy's names */
    size_t n_tasks;
    size_t placed;          /* tasks that started */
    size_t never_placed;    /* tasks that never started (unschedulable on this cluster) */
    char first_reason[160]; /* the first unschedulable reason seen, "" if none */
    size_t plans;           /* corral_sched_plan calls */
    int64_t start_ms;       /* first submission */
    int64_t makespan_ms;    /* last completion - first submission; 0 if nothing ran */
    double wait_mean_ms;    /* start - submit, over placed tasks */
    uint64_t wait_p50_ms, wait_p99_ms, wait_max_ms;
    double utilisation;          /* cpu-time used / (cluster cpu * makespan), 0..1 */
    double fairness;             /* Jain's index over the workers' busy time (below), 1/n..1 */
    uint64_t cpu_capacity_milli; /* whole cluster */
    uint64_t *waits;             /* placed entries, ascending (ms) */
    double *busy_ms;             /* per worker (cluster order): cpu-ms used / its cpu */
    size_t n_workers;
    struct sim_util_point *util; /* n_util points, time ascending, a step function */
    size_t n_util;
};

/*
 * Simulate workload w on cluster c under policy p. Every instant at which a task arrives or
 * finishes, completions free their resources, arrivals join the queue, and one plan is made
 * over the queued tasks and the workers' current usage, at now = that instant, with the next
 * value of a splitmix64 stream seeded by seed (the leader draws a fresh seed per round too).
 * A planned task starts at once and runs for its duration_ms. Tasks the plan reports as
 * unschedulable can never run on a static cluster and are counted as never placed.
 * Busy time of a worker = sum over its tasks of duration * cpu / the worker's cpu (ms), so a
 * worker kept evenly loaded relative to its size counts as much as a big one; with cpu 0 the
 * task durations are summed instead.
 * Errors: CORRAL_EINTERNAL from the planner (out of memory, a policy choosing an ineligible
 * worker). out must be zeroed; free with sim_result_cleanup().
 */
CORRAL_NODISCARD int sim_run(const struct sim_cluster *c, const struct sim_workload *w,
                             const struct corral_policy *p, uint64_t seed, struct sim_result *out,
                             struct corral_error *err);
void sim_result_cleanup(struct sim_result *r);

/* Jain's fairness index (sum x)^2 / (n * sum x^2); 1 when n == 0 or every x is 0. */
double sim_jain(const double *x, size_t n);
/* Nearest-rank percentile pct (0..100) of sorted[0..n); 0 when n == 0. */
uint64_t sim_percentile(const uint64_t *sorted, size_t n, unsigned pct);
/* Mean cluster cpu utilisation (0..1) in each of n_bins equal bins of
 * [start_ms, start_ms + span_ms) (span_ms = makespan_ms for the run's own span; a longer span
 * gives a common axis for several runs); all 0 when span_ms <= 0. */
void sim_util_bins(const struct sim_result *r, int64_t span_ms, double *bins, size_t n_bins);

#endif
