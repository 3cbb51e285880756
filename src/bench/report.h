/* SPDX-License-Identifier: MIT */
/*
 * corral-bench's results: the ceilings and one row per scenario, printed as a table (stdout)
 * and written as JSON (--json FILE; docs/benchmarks.md "JSON"). Cells come from stats.c.
 */
#ifndef CORRAL_BENCH_REPORT_H
#define CORRAL_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/args.h"
#include "bench/ceil.h"
#include "bench/stats.h"
#include "corral/error.h"

#define REPORT_MAX_SCENARIOS 8

struct bench_result {
    char name[16];     /* "b-batch" */
    const char *title; /* one line: what it measures */
    bool ran;          /* false: not selected or skipped before it started */
    struct bench_row row;
    uint64_t submitted; /* acknowledged */
    uint64_t unknown;   /* submissions with an unknown outcome */
    uint64_t refused;   /* submissions refused for good */
    uint64_t succeeded; /* finished tasks in state succeeded */
    const char *latency_source;
    const char *submit_ceiling; /* the ceiling submit_ratio is against ("" = none) */
    const char *finish_ceiling;
    struct bench_pct ack;      /* client side: POST round trips, ms */
    int64_t rss_worker_kib[8]; /* each real worker, -1 unknown */
    int n_workers;
    /* e only (-1 = unknown) */
    int64_t first_assign_ms;    /* workers joined -> first assignment */
    int64_t failover_assign_ms; /* leader kill -9 -> the new leader's first assignment */
    double drain_per_s;
    double drain_vs_empty; /* drain_per_s / b-batch's finish_per_s */
    bool leader_killed;
    /* c only: the fork ceiling measured again just before the scenario and just after it
     * (-1 = not measured); the finish ratio is against their mean when both were. */
    double fork_before_per_s, fork_after_per_s;
    /* Cores kept busy over the measured window (-1 unknown): the whole machine, and each kind
     * of process of the run (corral-bench itself: its simulated workers, clients, probes). */
    struct bench_cpu {
        double machine, zk, corrald, workers, bench;
        int64_t window_ms;
    } cpu;
    char note[512];
};

struct bench_report {
    const struct bench_opts *o;
    const char *ns_prefix; /* every namespace and znode root of the run starts with it */
    int64_t started_wall_ms;
    double load_before[3], load_after[3];
    long cpus;
    char zk_desc[400];
    struct bench_ceilings ceil;
    struct bench_result sc[REPORT_MAX_SCENARIOS];
    int n;
    bool interrupted;
    char error[256]; /* a setup failure, "" when none */
};

/* The ceilings, the table and the notes. */
void report_print(FILE *f, const struct bench_report *r);
/* Every figure as one JSON object into file. */
CORRAL_NODISCARD int report_write_json(const char *file, const struct bench_report *r,
                                       struct corral_error *err);
/* True when every scenario that ran is complete and nothing failed. */
bool report_complete(const struct bench_report *r);

#endif
