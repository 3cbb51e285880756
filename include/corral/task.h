/* SPDX-License-Identifier: MIT */
/*
 * A task as stored in its znode and returned by the API (CONTRACT "Task"), and its state
 * machine. Every state change goes through corral_task_transition(): it checks the transition
 * table and updates attempt, worker, timestamps and history together. Pure: times come in.
 */
#ifndef CORRAL_TASK_H
#define CORRAL_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "corral/error.h"
#include "corral/limits.h"
#include "corral/spec.h"

#define CORRAL_STATES(X)                                                                           \
    X(CORRAL_STATE_QUEUED, "queued")                                                               \
    X(CORRAL_STATE_ASSIGNED, "assigned")                                                           \
    X(CORRAL_STATE_RUNNING, "running")                                                             \
    X(CORRAL_STATE_SUCCEEDED, "succeeded")                                                         \
    X(CORRAL_STATE_FAILED, "failed")                                                               \
    X(CORRAL_STATE_CANCELLING, "cancelling")                                                       \
    X(CORRAL_STATE_CANCELLED, "cancelled")                                                         \
    X(CORRAL_STATE_SCHEDULED, "scheduled")                                                         \
    X(CORRAL_STATE_WAITING, "waiting")

enum corral_state {
#define CORRAL_X_ENUM(e, s) e,
    CORRAL_STATES(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_STATE_COUNT
};

/* How an attempt ended (history[].outcome). */
#define CORRAL_OUTCOMES(X)                                                                         \
    X(CORRAL_OUTCOME_NONE, "none")                                                                 \
    X(CORRAL_OUTCOME_SUCCEEDED, "succeeded")                                                       \
    X(CORRAL_OUTCOME_FAILED, "failed")                                                             \
    X(CORRAL_OUTCOME_TIMED_OUT, "timed_out")                                                       \
    X(CORRAL_OUTCOME_WORKER_LOST, "worker_lost")                                                   \
    X(CORRAL_OUTCOME_CANCELLED, "cancelled")                                                       \
    X(CORRAL_OUTCOME_RETURNED, "returned")

enum corral_outcome {
#define CORRAL_X_ENUM(e, s) e,
    CORRAL_OUTCOMES(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_OUTCOME_COUNT
};

/* What happens to a task; input of corral_task_transition(). */
#define CORRAL_EVENTS(X)                                                                           \
    X(CORRAL_EV_ASSIGN, "assign")   /* queued -> assigned (leader) */                              \
    X(CORRAL_EV_START, "start")     /* assigned -> running (worker) */                             \
    X(CORRAL_EV_SUCCEED, "succeed") /* running -> succeeded */                                     \
    X(CORRAL_EV_FAIL, "fail")       /* assigned|running -> queued (attempts left)|failed */        \
    X(CORRAL_EV_TIMEOUT, "timeout") /* running -> queued|failed, outcome timed_out */              \
    X(CORRAL_EV_WORKER_LOST, "worker_lost") /* assigned|running -> queued|failed */                \
    X(CORRAL_EV_CANCEL, "cancel")       /* queued -> cancelled; assigned|running -> cancelling */  \
    X(CORRAL_EV_CANCELLED, "cancelled") /* cancelling -> cancelled (worker stopped it) */          \
    X(CORRAL_EV_RETURN, "return")       /* assigned|running -> queued, attempt not counted */      \
    X(CORRAL_EV_RELEASE, "release")     /* scheduled -> queued (leader, at its due time) */        \
    X(CORRAL_EV_DEPS_MET, "deps_met")   /* waiting -> queued (its dependencies allow it) */

enum corral_event {
#define CORRAL_X_ENUM(e, s) e,
    CORRAL_EVENTS(CORRAL_X_ENUM)
#undef CORRAL_X_ENUM
        CORRAL_EV_COUNT
};

/* One earlier attempt (CONTRACT history[]). Times are wall-clock ms since the Unix epoch. */
struct corral_attempt {
    uint32_t attempt;
    char *worker; /* NULL if it never reached a worker */
    uint64_t epoch;
    int64_t started_at_ms;  /* -1 = null */
    int64_t finished_at_ms; /* -1 = null */
    enum corral_outcome outcome;
    bool has_exit_code;
    int exit_code;
};

struct corral_task {
    char id[CORRAL_ID_LEN + 1];
    enum corral_state state;
    struct corral_spec spec; /* "name" of the task is spec.name */
    uint32_t attempt;        /* current or next attempt, starts at 1 */
    char *worker;            /* worker of the current assignment; NULL when none */
    uint64_t epoch;          /* leader epoch of the current assignment; 0 when never assigned */
    int64_t submitted_at_ms; /* wall clock; always set */
    int64_t started_at_ms;   /* -1 = null */
    int64_t finished_at_ms;  /* -1 = null */
    int64_t not_before_ms;   /* earliest next assignment (retry backoff, or the due time of a
                                scheduled task); 0 = none */
    bool has_exit_code;
    int exit_code;
    char *error;  /* NULL = null */
    char *output; /* valid UTF-8, at most ~CORRAL_OUTPUT_TAIL_BYTES source bytes; NULL = "" */
    struct corral_attempt *history; /* bounded, see CORRAL_HISTORY_RETURNS_KEPT */
    size_t n_history;
    uint64_t history_omitted; /* "returned" entries dropped from history; 0 = none */
    /* Tasks that named this one in depends_on (at most CORRAL_DEPENDENTS_MAX). */
    char (*dependents)[CORRAL_ID_LEN + 1];
    size_t n_dependents;
};

/* Context of one transition: facts from the caller (times, who, results). */
struct corral_transition_ctx {
    int64_t now_ms;     /* wall clock */
    const char *worker; /* ASSIGN: the chosen worker */
    uint64_t epoch;     /* ASSIGN: the leader's epoch */
    bool has_exit_code; /* SUCCEED/FAIL/TIMEOUT/CANCELLED */
    int exit_code;
    const char *error; /* FAIL/TIMEOUT/WORKER_LOST: human reason, may be NULL */
    const char
        *output; /* SUCCEED/FAIL/TIMEOUT/CANCELLED: new output tail (valid UTF-8), may be NULL */
    uint32_t jitter; /* FAIL/TIMEOUT: random bits for the retry backoff's jitter */
};

const char *corral_state_name(enum corral_state s);
/* Parse a state name; returns -1 if unknown. */
int corral_state_parse(const char *name);
bool corral_state_is_final(enum corral_state s);
const char *corral_outcome_name(enum corral_outcome o);
const char *corral_event_name(enum corral_event e);

/*
 * Initialise a new task (attempt 1): queued; scheduled with not_before = its due time when the
 * spec has run_at or delay_s (counted from now_ms) and that time is after now_ms; waiting when
 * the spec has depends_on (the store makes it queued when every dependency has succeeded). Takes
 * ownership of *spec on every path (spec is zeroed afterwards). id must be a valid task id.
 */
void corral_task_init_new(struct corral_task *t, const char *id, struct corral_spec *spec,
                          int64_t now_ms);
/* Add id to t's dependents (no-op when there already). False when the list is full. */
bool corral_task_add_dependent(struct corral_task *t, const char *id);

/* When a task of this spec submitted at submitted_at_ms is due: run_at, or submission + delay_s;
 * 0 when the spec asks for neither. */
int64_t corral_task_due_ms(const struct corral_spec *spec, int64_t submitted_at_ms);

/*
 * Apply event ev. On an illegal (state, event) pair returns CORRAL_ESTATE and changes nothing.
 * Rules:
 *  - ASSIGN: worker, epoch set; started_at/finished_at reset to null; exit_code/error cleared.
 *  - START: started_at = now.
 *  - SUCCEED: finished_at = now, exit_code, output.
 *  - FAIL/TIMEOUT/WORKER_LOST: if attempt < max_attempts the attempt is pushed to history with its
 *    outcome, attempt += 1, worker cleared, state queued, error = reason; else state failed,
 *    finished_at = now, error = reason (TIMEOUT: "timed out after N s").
 *    FAIL and TIMEOUT that requeue also set not_before = now + backoff, where backoff =
 *    retry_backoff_s * 2^(failed attempts - 1) capped at CORRAL_RETRY_DELAY_CAP_MS, with
 *    "equal jitter": half of it fixed, half scaled by jitter / 2^32. A lost worker is not
 *    the task's fault: WORKER_LOST requeues at once. ASSIGN clears not_before.
 *  - CANCEL: queued|scheduled|waiting -> cancelled (finished_at = now; error = ctx->error when
 *    given: a failed dependency names itself); assigned|running -> cancelling.
 *  - DEPS_MET: waiting -> queued.
 *  - RELEASE: scheduled -> queued; not_before (the due time, now past) stays, so the queue
 *    entry's name does not change.
 *  - CANCELLED: cancelling -> cancelled, finished_at = now.
 *  - RETURN: the attempt is pushed to history as "returned" but the attempt number is not
 *    incremented (it does not count against max_attempts); worker cleared, state queued.
 *    History stays bounded: past CORRAL_HISTORY_RETURNS_KEPT returned entries after the first
 *    entry, the oldest such entry is dropped and history_omitted counts it. Counted attempts
 *    (failed, timed_out, worker_lost) and the first entry are never dropped.
 *  - WORKER_LOST on cancelling -> cancelled.
 */
CORRAL_NODISCARD int corral_task_transition(struct corral_task *t, enum corral_event ev,
                                            const struct corral_transition_ctx *ctx,
                                            struct corral_error *err);

/* True when ev is legal from state s (the transition table, for tests and callers). */
bool corral_task_can(enum corral_state s, enum corral_event ev);

/* New JSON object of the task (CONTRACT "Task"; "name" mirrors spec.name), plus
 * "history_omitted" after "history" when history_omitted > 0. Never NULL. */
json_t *corral_task_to_json(const struct corral_task *t);
/* The same as the API shows it: secret values of the spec are null (corral_spec_redact_json). */
json_t *corral_task_to_public_json(const struct corral_task *t);
/* Compact JSON text of the task; caller frees with free(). Never NULL. */
char *corral_task_render(const struct corral_task *t);

/* Parse a task from its znode's JSON text. out must be zeroed. CORRAL_EINVAL on bad data.
 * A missing "history_omitted" is 0; a history longer than the bound (written before it existed)
 * is accepted and trimmed by the next RETURN. */
CORRAL_NODISCARD int corral_task_parse(const char *buf, size_t len, struct corral_task *out,
                                       struct corral_error *err);

/* Free everything; idempotent; works on a zeroed struct. */
void corral_task_cleanup(struct corral_task *t);

#endif
