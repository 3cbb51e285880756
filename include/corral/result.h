/* SPDX-License-Identifier: MIT */
/*
 * What the end of an attempt means for its task: the worker's result decision (which event a
 * run's outcome is, and whether the attempt is still the task's to finish) and the leader's
 * decision for an assignment whose worker is gone. Pure; corral-worker and corrald execute what
 * these return (corral/ops.h builds the writes).
 */
#ifndef CORRAL_RESULT_H
#define CORRAL_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/task.h"

/* How a run ended, as the supervisor reports it ("lost": the supervisor died silently). */
#define CORRAL_RUN_OUTCOMES(X)                                                                     \
    X(CORRAL_RUN_EXITED, "exited")                                                                 \
    X(CORRAL_RUN_SIGNALED, "signaled")                                                             \
    X(CORRAL_RUN_TIMED_OUT, "timed_out")                                                           \
    X(CORRAL_RUN_CANCELLED, "cancelled")                                                           \
    X(CORRAL_RUN_LEASE_EXPIRED, "lease_expired")                                                   \
    X(CORRAL_RUN_SPAWN_FAILED, "spawn_failed")                                                     \
    X(CORRAL_RUN_LOST, "lost")

enum corral_run_outcome {
#define CORRAL_X_ENUM(e, s) e,
    CORRAL_RUN_OUTCOMES(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_RUN_OUTCOME_COUNT
};

const char *corral_run_outcome_name(enum corral_run_outcome o);
/* -1 when unknown. */
int corral_run_outcome_parse(const char *s);

struct corral_run_result {
    enum corral_run_outcome outcome;
    bool has_exit_code;
    int exit_code;   /* EXITED: the process's status; HTTP tasks: 0 ok, 1 not */
    int signal;      /* SIGNALED */
    int http_status; /* HTTP tasks: the response status, 0 when none */
    char error[256]; /* the supervisor's text, "" when none */
};

/* What the worker knows at the end of (or instead of) an attempt. */
struct corral_attempt_end {
    const char *worker; /* our worker id */
    uint32_t attempt;   /* the attempt we were given */
    bool is_http;
    bool returning;                      /* hand the task back (drain, refusal) */
    const struct corral_run_result *res; /* NULL: never started */
};

/*
 * Choose the event for task t (as just read) at the end of our attempt. Returns false when the
 * task is no longer ours to finish (someone moved it on): drop the result. Otherwise *ev is
 * the event and ctx gets has_exit_code/exit_code and, except for a success, error (pointing
 * into errbuf, n bytes). A cancel that raced with the result wins: CORRAL_EV_CANCELLED.
 */
bool corral_result_decide(const struct corral_task *t, const struct corral_attempt_end *end,
                          enum corral_event *ev, struct corral_transition_ctx *ctx, char *errbuf,
                          size_t n);

enum corral_lost_action {
    CORRAL_LOST_DROP_ASSIGNMENT, /* the task moved on (or is gone): only the assignment goes */
    CORRAL_LOST_REQUEUE,         /* WORKER_LOST: back to the queue (or cancelled/failed) */
};
/* The assignment of worker for t belongs to no live incarnation. t is NULL when the task is
 * gone or unreadable. */
enum corral_lost_action corral_lost_decide(const struct corral_task *t, const char *worker);

#endif
