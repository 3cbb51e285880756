/* SPDX-License-Identifier: MIT */
/*
 * Shared state of the worker agent's rooms: agent.c (the loop, signals, session events, the
 * periodic tick), agent_register.c (workers/<id>: registration and the draining mark),
 * agent_assign.c (assign/<id>/<task>: reconcile, start, cancel requests), agent_finish.c (the end
 * of an attempt: the one place that writes a task), agent_drain.c (SIGTERM: drain and stop) and
 * agent_fleet.c (fleet/<id>: cordon and drain without stopping). One thread owns all of it.
 */
#ifndef CORRAL_WORKER_AGENT_INTERNAL_H
#define CORRAL_WORKER_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/acl.h"
#include "corral/assignment.h"
#include "corral/fleet.h"
#include "corral/limits.h"
#include "corral/strlist.h"
#include "corral/task.h"
#include "io/zk.h"
#include "worker/agent.h"
#include "worker/runner.h"

#define TICK_MS              200
#define RECONCILE_MS         2000
#define REREAD_MS            30000 /* full re-read of running assignments, besides watches */
#define REGISTER_RETRY_MS    500
#define REGISTER_LOG_MS      10000
#define REGISTER_WAIT_DIR_MS 50 /* separate identities: the leader makes assign/<id> */
#define WRITE_RETRY_MS       500
#define REOPEN_RETRY_MS      1000
#define CONFLICT_RETRIES     5
#define DRAIN_EXTRA_MIN_MS   10000 /* after the drain kill: time to write the returns */
#define DRAIN_SETTLE_MS      500   /* after "draining" is stored: last assignments may land */
#define STRAYS_WATCH_MS      2000  /* after a supervisor died without a result: look for orphans */
#define STRAYS_EVERY_MS      100

/* One attempt this worker runs (or ran and still has to report). */
struct local {
    char id[CORRAL_ID_LEN + 1];
    uint32_t attempt;
    uint64_t epoch;
    bool is_http;
    struct run run;
    bool cancel_requested; /* the assignment said "cancel": the supervisor was told */
    bool returning;        /* drain timeout: report RETURN, not the result */
    bool dropped;          /* the attempt is void (session expired, assignment gone) */
    bool result_ready;     /* run done; the finish write is pending */
    bool unknown_write;    /* the last finish write had an unknown outcome */
    int64_t next_try_ms;   /* monotonic: next finish write attempt */
    /* The task as our start stored it (NULL when unknown): the finish is built from it and
     * set at task_version, with no read; a conflict means someone changed it: read then. */
    char *task_json;
    size_t task_len;
    int32_t task_version;
    /* Live output (agent_output.c): someone follows it until this wall-clock time (from the
     * assignment); what output/<id> holds so far. */
    int64_t follow_until_ms;
    int64_t next_publish_ms; /* monotonic */
    uint64_t published_size;
    bool published;       /* output/<id> was created by us */
    bool published_final; /* ... and holds the attempt's whole end */
    int publish_failures;
};

struct agent {
    const struct agent_config *cfg;
    struct zk *zk;
    struct runner *runner;

    char reg[CORRAL_REG_MAX + 1]; /* this registration's random id (16 hex) */
    bool connected;
    bool registered;
    int timeout_ms;               /* negotiated session timeout, last known; requested until then */
    int64_t next_register_log_ms; /* persistent failures are logged every REGISTER_LOG_MS */
    int64_t exists_since_ms, next_register_ms, next_ping_ms, next_reconcile_ms, next_reread_ms;
    bool need_reconcile, need_reread;
    bool reopen_pending;
    int64_t next_reopen_ms;

    bool draining;
    bool drain_written;    /* workers/<id> says "draining": true */
    bool drain_reconciled; /* a reconcile ran while draining: unstarted work was returned */
    bool drain_killed;
    int64_t drain_written_ms; /* monotonic: when "draining" was stored */
    int64_t drain_deadline_ms, drain_give_up_ms;

    /* fleet/<id> (agent_fleet.c) */
    enum corral_fleet_state fleet_state;
    bool need_fleet_read;
    bool fleet_drain_killed;
    int64_t fleet_drain_deadline_ms; /* monotonic */
    /* attempts' outcomes of this registration, published in workers/<id> when reg_dirty */
    uint64_t ok_count;
    uint32_t fail_streak;
    bool reg_dirty;

    struct local **locals;
    size_t n_locals, cap_locals;
    struct corral_strlist ignored; /* assignments we leave to the leader (other reg, bad data) */

    /* Until then (monotonic), look every STRAYS_EVERY_MS for processes given to us as their
     * subreaper: a task's processes whose supervisor died without its sweep. */
    int64_t strays_until_ms, next_strays_ms;

    /* ZooKeeper identities (with auth): the workers' shared one and this process's own
     * ("w.<id>", a random password), as digest ids; acl_ready once the ACLs of what we create
     * are set up (the replicas' ids read from workers/). */
    char workers_id[CORRAL_DIGEST_ID_MAX + 1], own_id[CORRAL_DIGEST_ID_MAX + 1];
    bool acl_ready;
    bool acl_separate;   /* the workers' identity is not the replicas' */
    int64_t wait_dir_ms; /* backoff while the leader has not made assign/<id> */

    bool stop;
    int exit_code;

    char p_workers[CORRAL_PATH_MAX], p_worker[CORRAL_PATH_MAX], p_assign_root[CORRAL_PATH_MAX],
        p_assign_dir[CORRAL_PATH_MAX], p_queue[CORRAL_PATH_MAX], p_fleet[CORRAL_PATH_MAX];
};

/* agent.c */
int64_t agent_lease_ms(const struct agent *a);
struct local *agent_find_local(struct agent *a, const char *id);
size_t agent_running_count(const struct agent *a);
struct local *agent_add_local(struct agent *a);
void agent_remove_local(struct agent *a, struct local *l);
bool agent_assign_path(const struct agent *a, const char *id, char *buf, size_t n);

/* agent_register.c */
void agent_new_reg(struct agent *a);
/* With auth: authenticate also as this process's own identity (docs/security.md). */
void agent_own_identity(struct agent *a);
void agent_register(struct agent *a, int64_t now);
void agent_write_draining(struct agent *a, int64_t now);
/* Store the registration again (its outcome counts changed); clears reg_dirty when written. */
void agent_write_reg(struct agent *a);

/* agent_fleet.c */
/* Does the worker start new work (not draining on a signal, not cordoned, not draining)? */
bool agent_takes_work(const struct agent *a);
/* Read fleet/<id> (and watch it); on success clears need_fleet_read. */
void agent_fleet_read(struct agent *a, int64_t now);
/* A fleet drain whose timeout passed: stop the running tasks and return them. */
void agent_fleet_tick(struct agent *a, int64_t now);
/* Count an applied end of an attempt (SUCCEED, FAIL, TIMEOUT; others count nothing). */
void agent_note_outcome(struct agent *a, enum corral_event ev);

/* agent_assign.c */
void agent_reconcile(struct agent *a, int64_t now);
void agent_reread_assignment(struct agent *a, struct local *l);

/* agent_finish.c */
enum { FINISH_DONE, FINISH_RETRY, FINISH_UNKNOWN };
/* What to write at the end of an attempt (or instead of starting one). */
struct finish_req {
    const char *id;
    uint32_t attempt;
    bool is_http;
    bool returning;                      /* RETURN (drain, refusal) */
    const struct corral_run_result *res; /* NULL: never started */
    const char *output_path;             /* NULL: no output */
    const char *cached;                  /* the task as we stored it, or NULL: read it */
    size_t cached_len;
    int32_t cached_version;
};
/* One finish write (re-read, decide, release). FINISH_DONE when nothing more is to be done
 * (written, fenced, or no longer ours). */
int agent_finish_write(struct agent *a, const struct finish_req *f);
/* Try the pending finish of a local whose run is done. */
void agent_finish_local(struct agent *a, struct local *l, int64_t now);
/* Return an assignment we will not run (draining, no slot) or finalise a cancelled one. */
void agent_finish_unstarted(struct agent *a, const char *id, uint32_t attempt, const char *why);
/* The result of one start of agent_start_many: rc, and when 0 the task as stored (owned
 * JSON) and its new version. */
struct start_out {
    int rc;
    char *json;
    size_t len;
    int32_t version;
};
/* Write the starts of n attempts (tasks after CORRAL_EV_START, read at versions[i]) in as few
 * multis as fit, each member fenced by its own assignment; one failing member does not fail
 * the others. */
void agent_start_many(struct agent *a, struct corral_task *const *ts, const int32_t *versions,
                      size_t n, struct start_out *outs);
/* Write the finishes of every local whose result is ready and whose task we hold, batched;
 * the others (and members that failed) are left to agent_finish_local. */
void agent_finish_ready(struct agent *a, int64_t now);
/* agent_output.c: publish the output of followed tasks (at most every
 * CORRAL_OUTPUT_PUBLISH_MS each); a followed task's final output is published before its
 * finish is written (agent_output_settled). */
void agent_publish_outputs(struct agent *a, int64_t now);
bool agent_output_settled(const struct local *l);

/* agent_drain.c */
void agent_begin_drain(struct agent *a, int64_t now, int sig);
void agent_drain_tick(struct agent *a, int64_t now);

#endif
