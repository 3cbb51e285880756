/* SPDX-License-Identifier: MIT */
/*
 * Scenario a, the ceilings of this machine (docs/benchmarks.md "a: ceilings"), measured in the
 * same run as corral's figures so that those can be given as ratios: a fork/exec/waitpid loop of
 * /bin/true; ZooKeeper async creates, and creates 100 to a multi; a fenced 3-multi task life
 * (check + create, check + set, check + delete) with k = 1, 10, 100 tasks per multi.
 */
#ifndef CORRAL_BENCH_CEIL_H
#define CORRAL_BENCH_CEIL_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/args.h"
#include "corral/error.h"

#define CEIL_MULTI_KS 3

struct ceil_multi {
    int k;          /* tasks per multi */
    int inflight;   /* multis in flight */
    uint64_t lives; /* tasks that went through all 3 multis */
    uint64_t multis;
    uint64_t failed; /* multis that failed (should be 0) */
    int64_t ms;
    double lives_per_s, multis_per_s;
};

struct bench_ceilings {
    bool ran;
    uint64_t fork_n;
    int64_t fork_ms;
    double fork_per_s;
    uint64_t creates, create_fail;
    int64_t creates_ms;
    double creates_per_s;
    uint64_t deletes;
    int64_t deletes_ms;
    double deletes_per_s;
    uint64_t batched_creates; /* created BATCH_K to a multi (no fence) */
    double batched_creates_per_s;
    struct ceil_multi multi[CEIL_MULTI_KS];
    double multi_best; /* the highest lives_per_s: "the multi ceiling" */
};

/* The fork/exec/waitpid loop for ms milliseconds (run it before any thread exists). */
CORRAL_NODISCARD int ceil_fork(int64_t ms, struct bench_ceilings *out, struct corral_error *err);
/* The same loop in a fresh single-threaded `corral-bench --fork-loop MS` (so that it can run
 * at any point of a run, beside the scenario it is compared with); its rate in *per_s. */
CORRAL_NODISCARD int ceil_fork_fresh(int64_t ms, double *per_s, struct corral_error *err);
/* `corral-bench --fork-loop MS`: run ceil_fork and print "<count> <elapsed ms>"; exit status. */
int ceil_fork_loop_main(const char *ms_arg);
/* The ZooKeeper ceilings against hosts, under the znode root (created, emptied, deleted). */
CORRAL_NODISCARD int ceil_zk(const char *hosts, const char *root, const struct bench_opts *o,
                             struct bench_ceilings *out, struct corral_error *err);

#endif
