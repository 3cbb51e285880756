/* SPDX-License-Identifier: MIT */
/*
 * Scenarios b to e (docs/benchmarks.md "Scenarios"): each starts what it needs in a namespace of
 * its own (a corrald, or two for e; simulated or real workers), loads it, watches it with a
 * deadline (--budget-s: past it the scenario is reported incomplete with what it got), reads
 * the peak RSS of its processes and stops them. Progress goes to stderr once a second.
 */
#ifndef CORRAL_BENCH_SCENARIO_H
#define CORRAL_BENCH_SCENARIO_H

#include "bench/args.h"
#include "bench/ceil.h"
#include "bench/cluster.h"
#include "bench/report.h"

struct bench_ctx {
    const struct bench_opts *o;
    struct cluster *cl;
    const char *zk_hosts;
    char ns_prefix[64]; /* "/corral-bench-<pid>" */
    const struct bench_ceilings *ceil;
    double empty_finish_per_s; /* b-batch's, for e's comparison (-1 unknown) */
};

/* b: simulated workers; single = one task per POST from --clients clients, else batches. */
void scenario_sim(struct bench_ctx *x, bool single, struct bench_result *res);
/* c: real corral-workers running true. */
void scenario_e2e(struct bench_ctx *x, struct bench_result *res);
/* d: latency at --rate tasks/s for --light-s seconds with real workers. */
void scenario_light(struct bench_ctx *x, struct bench_result *res);
/* e: a backlog, then simulated workers drain it; the leader is killed halfway. */
void scenario_backlog(struct bench_ctx *x, struct bench_result *res);

#endif
