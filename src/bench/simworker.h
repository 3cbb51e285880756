/* SPDX-License-Identifier: MIT */
/*
 * A simulated worker (scenarios b and e; docs/benchmarks.md): registers as corral-worker does,
 * watches assign/<id>, and finishes each assignment without running a process (the same checks
 * and transitions, corral_ops_release for several tasks per multi). One thread and two sessions
 * each (io/zk for registration, watch and commits; zkraw.h for pipelined reads).
 */
#ifndef CORRAL_BENCH_SIMWORKER_H
#define CORRAL_BENCH_SIMWORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_EPOCHS_MAX 8

struct simworker_cfg {
    const char *hosts;
    const char *ns;
    int session_ms;
    uint32_t slots;
    uint32_t batch; /* tasks per finish multi */
};

struct sim_epoch {
    uint64_t epoch;
    int64_t first_wall_ms; /* when this worker first read an assignment of that epoch */
};

struct simworker_stats {
    uint64_t finished;          /* release multis that succeeded, in tasks */
    uint64_t multis;            /* finish multis committed */
    uint64_t fallbacks;         /* batches that failed and were retried task by task */
    uint64_t dropped;           /* assignments left alone (not ours, gone, changed) */
    uint64_t dropped_commit;    /* of which: their finish could not be committed */
    char last_commit_error[32]; /* the error name of the first such commit */
    uint64_t unknown;           /* commits with an unknown outcome */
    uint64_t read_errors;       /* assignments whose reads failed (looked at again) */
    int64_t registered_wall_ms;
    int64_t first_seen_wall_ms;  /* first assignment read; 0 = none */
    int64_t last_finish_wall_ms; /* last successful commit; 0 = none */
    struct sim_epoch epochs[SIM_EPOCHS_MAX];
    size_t n_epochs;
    int64_t *start_ms, *end_ms; /* n_lat latencies each */
    size_t n_lat, cap_lat;
    char error[256]; /* "" unless the worker failed */
};

struct simworker;

/* Start the worker's thread (it connects and registers by itself). cfg strings are copied. */
struct simworker *simworker_start(const struct simworker_cfg *cfg, const char *id);
bool simworker_registered(struct simworker *w);
/* True (with the reason) when the worker stopped on an error. */
bool simworker_failed(struct simworker *w, char *why, size_t n);
/* Tasks finished so far (any thread). */
uint64_t simworker_finished(struct simworker *w);
/* Stop and join; its sessions are closed (the registration vanishes). */
void simworker_stop(struct simworker *w);
/* After simworker_stop. */
const struct simworker_stats *simworker_stats(const struct simworker *w);
void simworker_free(struct simworker *w);

#endif
