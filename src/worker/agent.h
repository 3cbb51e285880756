/* SPDX-License-Identifier: MIT */
/*
 * The worker agent: registers the worker in ZooKeeper, watches its assignments, starts, cancels
 * and finishes tasks through runner.c, drains on SIGTERM/SIGINT and survives every ZooKeeper
 * problem (disconnect: keep running within the lease; expiry: kill, re-register, reconcile).
 * One thread owns all worker state: a poll() loop (CONTRACT "corral-worker", docs/znodes.md).
 */
#ifndef CORRAL_WORKER_AGENT_H
#define CORRAL_WORKER_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "corral/log.h"
#include "corral/spec.h"

struct run_as;

struct agent_config {
    const char *zk_hosts;   /* borrowed */
    const char *ns;         /* borrowed; validated namespace */
    int session_timeout_ms; /* requested */
    const char *zk_auth;    /* borrowed; "user:pass" or NULL */
    const char *id;         /* borrowed; validated worker id */
    uint32_t slots;
    uint32_t cpu_milli;
    uint64_t mem_mb;
    const struct corral_kv *labels; /* borrowed, n_labels entries */
    size_t n_labels;
    uint32_t weight;
    const char *work_dir; /* borrowed; exists */
    uint32_t drain_timeout_s;
    enum corral_log_level log_level;
    const struct run_as *run_as; /* borrowed; NULL: tasks run as the worker's user */
};

/*
 * Run until SIGTERM/SIGINT and a finished drain (returns 0), or a fatal startup problem such as
 * the worker id staying taken for 3 session timeouts (logs one error line, returns 1).
 */
int agent_run(const struct agent_config *cfg);

#endif
