/* SPDX-License-Identifier: MIT */
/*
 * The state of one corrald replica, shared by its modules: election (who leads), leader
 * (the scheduling loop, main thread only), store (task reads and writes used by the API, any
 * thread) and api (the REST server on libmicrohttpd's threads).
 */
#ifndef CORRALD_REPLICA_H
#define CORRALD_REPLICA_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "corral/metrics.h"
#include "corral/access.h"
#include "corral/limits.h"
#include "corral/sched.h"
#include "io/zk.h"

struct replica_opts {
    const char *zk;
    const char *ns;
    const char *listen;
    const char *advertise;
    const char *id;
    int64_t session_timeout_ms;
    const char *placement;
    const char *order;
    const char *token_file;
    const char *zk_auth;
    const char *zk_auth_file;
    const char *zk_worker_auth_file; /* the workers' shared identity: separate identities */
    const char *tls_cert, *tls_key;
    int64_t retention_s;
    const char *log_level;
    const char *log_format; /* --log-format: text | json */
    bool insecure;
    int64_t cordon_after_failures; /* --cordon-after-failures: 0 off */
    int64_t max_queued; /* --max-queued: unfinished tasks past which submissions get 429 */
};

struct election {
    char uuid[33];              /* protects our create: unique per session */
    char node[CORRAL_PATH_MAX]; /* full path of our election znode, "" when none */
    uint64_t epoch;             /* our epoch = sequence + 1 */
    bool is_leader;             /* verified after a sync; main thread only */
};

struct replica {
    /* With separate worker identities: the replicas' own digest id (published in workers/). */
    char acl_replica_id[CORRAL_DIGEST_ID_MAX + 1];
    struct replica_opts opts;
    struct zk *zk;
    struct corral_tokens tokens; /* of --token-file; none (n == 0): no token needed */
    char advertise[256];
    struct election el;         /* main thread only */
    atomic_bool leading;        /* mirror of el.is_leader for other threads */
    atomic_bool layout_ready;   /* the namespace's folders and buckets exist */
    atomic_uint_fast64_t epoch; /* mirror of el.epoch while leading */
    struct corral_policy policy;
    struct leader *leader;       /* scheduling state; main thread only */
    struct beat *beat;           /* the leader record's heartbeat (beat.c) */
    struct feedstat *feedstat;   /* metrics from the events feed (feedstat.c) */
    struct backlog *backlog;     /* the --max-queued count (backlog.c); any thread */
    struct zk_group *submits;    /* group commit of single submits (io/zk_txn.h); any thread */
    volatile sig_atomic_t *stop; /* set by the signal handler: finish up and leave */
    /* counters for /metrics */
    atomic_uint_fast64_t n_submitted, n_assigned, n_requeued, n_released, n_http;
    /* Lateness of cron fires (fired minus scheduled), a histogram for /metrics. */
#define CORRAL_FIRE_LATE_BUCKETS 10
    atomic_uint_fast64_t fire_late_le[CORRAL_FIRE_LATE_BUCKETS];
    atomic_uint_fast64_t fire_late_count, fire_late_sum_ms;
    /* Leader-only views, set by each round (0 while following), and the elections won. */
    atomic_uint_fast64_t n_elections;
    atomic_uint_fast64_t g_queue_band[CORRAL_BAND_COUNT]; /* eligible entries by band */
    atomic_uint_fast64_t g_queue_later;                   /* entries not due yet (delay, backoff) */
    atomic_uint_fast64_t g_running;                       /* live assignments */
    atomic_uint_fast64_t g_workers[3];                    /* by corral_fleet_state */
    atomic_uint_fast64_t g_unmet_tasks, g_unmet_cpu_milli, g_unmet_mem_mb;
    /* Queue wait (submission to assignment) of tasks this replica assigned as leader. */
    atomic_uint_fast64_t queue_wait[CORRAL_WAIT_BUCKETS + 1];
    atomic_uint_fast64_t queue_wait_sum_ms;
    /* Finishes the leader saw in the done index: succeeded, failed, cancelled; and their
     * submission-to-finish times. */
    atomic_uint_fast64_t n_finished[3];
    atomic_uint_fast64_t submit_to_finish[CORRAL_WAIT_BUCKETS + 1];
    atomic_uint_fast64_t submit_to_finish_sum_ms;
    /* From the events feed, as the leader follows it (feedstat.c): attempts that ended
     * and put their task back in the queue (by outcome: failed, timed_out, worker_lost,
     * returned), and the time from submission to each attempt's start. */
    atomic_uint_fast64_t n_requeued_by[4];
    atomic_uint_fast64_t submit_to_start[CORRAL_WAIT_BUCKETS + 1];
    atomic_uint_fast64_t submit_to_start_sum_ms;
    atomic_uint_fast64_t n_feed_skipped; /* events the leader fell too far behind to read */
};

#endif
