/* SPDX-License-Identifier: MIT */
/*
 * Simulator inputs: the workload (tasks with submit time, duration, resources, priority,
 * required labels, estimate) and the cluster (workers with slots, cpu, memory, weight, labels).
 * Pure: parsers take bytes, generators take a seed; no files, no clock. Formats are described
 * in docs/scheduling.md ("Simulator").
 */
#ifndef CORRAL_SIM_WORKLOAD_H
#define CORRAL_SIM_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"
#include "corral/spec.h"

#define SIM_TASKS_MAX    1000000u /* tasks in one workload */
#define SIM_WORKERS_MAX  1024u    /* workers in one cluster (CORRAL_SCHED_STATE_MAX_WORKERS) */
#define SIM_DURATION_MAX (7ull * 24u * 3600u * 1000u)         /* ms, the longest task timeout */
#define SIM_SUBMIT_MAX   (10ull * 365u * 24u * 3600u * 1000u) /* ms, ten years */

struct sim_task {
    char id[24];          /* "t0000000042": ids sort in submission order */
    int64_t submit_ms;    /* simulated time of submission, >= 0 */
    uint64_t duration_ms; /* how long it runs once started */
    uint32_t cpu_milli;   /* resources.cpu in thousandths */
    uint64_t mem_mb;
    int priority;                  /* -1000..1000 */
    struct corral_kv *constraints; /* required worker labels, n_constraints entries */
    size_t n_constraints;
    bool has_estimated;
    uint64_t estimated_ms;
};

struct sim_workload {
    struct sim_task *tasks; /* n entries, sorted by submit_ms (stable), ids in that order */
    size_t n;
};

struct sim_worker {
    char id[64];
    uint32_t slots;
    uint32_t cpu_milli;
    uint64_t mem_mb;
    uint32_t weight;          /* >= 1 */
    struct corral_kv *labels; /* n_labels entries */
    size_t n_labels;
};

struct sim_cluster {
    struct sim_worker *workers; /* n entries, sorted by id (the leader's view order) */
    size_t n;
};

/* Defaults of a worker field that a cluster spec leaves out (from --slots, --cpu, ...). */
struct sim_worker_defaults {
    uint32_t slots;
    uint32_t cpu_milli;
    uint64_t mem_mb;
    uint32_t weight;
};

/*
 * Parse a workload: JSON lines, one task object per line; blank lines and lines starting with
 * '#' are skipped. Fields: submit_ms and duration_ms (required, integers), cpu (number,
 * default 1), mem_mb, priority, estimated_ms (integers), labels (object of strings: required
 * worker labels; "constraints" is accepted as a synonym). Unknown fields are errors.
 * Errors: CORRAL_EINVAL with a message "line N: <field>: <problem>"; CORRAL_ETOOBIG above
 * SIM_TASKS_MAX tasks. out must be zeroed; on error it is left empty.
 */
CORRAL_NODISCARD int sim_workload_parse(const char *buf, size_t len, struct sim_workload *out,
                                        struct corral_error *err);

/*
 * Generate n tasks of a built-in kind, deterministic for (kind, n, seed, gap_ms):
 *   uniform       Poisson arrivals (mean gap gap_ms), durations uniform 0.5-5.5 s, cpu 1,
 *                 mem 256-1024 MiB, priority 0-3, estimates within +-50% of the duration.
 *   heavy-tailed  as uniform, but durations Pareto(alpha 1.5, minimum 1 s, mean 3 s, capped at
 *                 10 min) and estimates off by a lognormal factor (sigma 0.5); 20% need cpu 2.
 *   bursty        bursts of 20-60 tasks arriving within 0.2 s, separated by quiet gaps so that
 *                 the mean gap is still gap_ms; durations uniform 0.5-5.5 s.
 *   mixed         60% small (cpu 0.5, 256 MiB, 0.2-2 s), 30% medium (cpu 2, 2 GiB, 2-10 s),
 *                 10% large (cpu 4, 6 GiB, 10-30 s); a quarter require zone=a or zone=b.
 * Errors: CORRAL_EINVAL for an unknown kind, n == 0 or n > SIM_TASKS_MAX.
 */
CORRAL_NODISCARD int sim_workload_generate(const char *kind, size_t n, uint64_t seed,
                                           uint64_t gap_ms, struct sim_workload *out,
                                           struct corral_error *err);
/* "uniform, heavy-tailed, bursty, mixed" */
const char *sim_workload_kinds(void);
void sim_workload_cleanup(struct sim_workload *w);

/*
 * Parse a cluster spec: either a plain count "4" (that many workers with the defaults), or
 * groups joined by '+', each "[N x]{field,field,...}" with fields slots:N, cpu:X (may be
 * fractional), mem:N (MiB; mem_mb:N too), weight:N, labels:K=V, or a bare K=V (a label).
 * Example: "2x{slots:4,cpu:4,mem:8192,labels:zone=a}+1x{slots:8,cpu:8,weight:2,zone=b}".
 * Workers are named w01, w02, ... in spec order (zero-padded so that names sort in that order).
 * Errors: CORRAL_EINVAL with the offending text; CORRAL_ETOOBIG above SIM_WORKERS_MAX.
 */
CORRAL_NODISCARD int sim_cluster_parse_spec(const char *spec, const struct sim_worker_defaults *d,
                                            struct sim_cluster *out, struct corral_error *err);

/*
 * Parse a worker file: JSON lines, one worker per line: {"id":"big-1","slots":8,"cpu":8,
 * "mem_mb":16384,"weight":2,"labels":{"zone":"b"}}; every field optional (id defaults to wNN
 * by line, the others to d). Ids must be unique. Errors as sim_workload_parse.
 */
CORRAL_NODISCARD int sim_cluster_parse_lines(const char *buf, size_t len,
                                             const struct sim_worker_defaults *d,
                                             struct sim_cluster *out, struct corral_error *err);
void sim_cluster_cleanup(struct sim_cluster *c);

#endif
