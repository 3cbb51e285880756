/* SPDX-License-Identifier: MIT */
/*
 * A task and its state machine (CONTRACT "Task"). corral_task_transition() is the only way a
 * state changes: it checks the static transition table, then updates attempt, worker, times,
 * result and history together. to_json/parse are exact inverses; the JSON is what the task
 * znode stores and what the API returns. Pure: every time comes from the caller.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/jsonx.h"
#include "corral/xalloc.h"
#include "corral/id.h"
#include "corral/paths.h"
#include "corral/task.h"
#include "corral/text.h"

/* ---- names ---- */

static const char *const state_names[] = {
#define CORRAL_X_NAME(e, s) s,
    CORRAL_STATES(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};
static const char *const outcome_names[] = {
#define CORRAL_X_NAME(e, s) s,
    CORRAL_OUTCOMES(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};
static const char *const event_names[] = {
#define CORRAL_X_NAME(e, s) s,
    CORRAL_EVENTS(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};
_Static_assert(sizeof(state_names) / sizeof(*state_names) == CORRAL_STATE_COUNT, "states");
_Static_assert(sizeof(outcome_names) / sizeof(*outcome_names) == CORRAL_OUTCOME_COUNT, "outcomes");
_Static_assert(sizeof(event_names) / sizeof(*event_names) == CORRAL_EV_COUNT, "events");

const char *corral_state_name(enum corral_state s)
{
    return (unsigned)s < CORRAL_STATE_COUNT ? state_names[s] : "unknown";
}

int corral_state_parse(const char *name)
{
    for (int i = 0; name && i < CORRAL_STATE_COUNT; i++) {
        if (strcmp(name, state_names[i]) == 0)
            return i;
    }
    return -1;
}

bool corral_state_is_final(enum corral_state s)
{
    return s == CORRAL_STATE_SUCCEEDED || s == CORRAL_STATE_FAILED || s == CORRAL_STATE_CANCELLED;
}

const char *corral_outcome_name(enum corral_outcome o)
{
    return (unsigned)o < CORRAL_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

static int outcome_parse(const char *name)
{
    for (int i = 0; name && i < CORRAL_OUTCOME_COUNT; i++) {
        if (strcmp(name, outcome_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *corral_event_name(enum corral_event e)
{
    return (unsigned)e < CORRAL_EV_COUNT ? event_names[e] : "unknown";
}

/* ---- the transition table ---- */

#define Q CORRAL_STATE_QUEUED
#define A CORRAL_STATE_ASSIGNED
#define R CORRAL_STATE_RUNNING
#define C CORRAL_STATE_CANCELLING
#define S CORRAL_STATE_SCHEDULED
#define W CORRAL_STATE_WAITING

/* legal[state][event]; everything not listed is illegal. Final states accept nothing. */
static const bool legal[CORRAL_STATE_COUNT][CORRAL_EV_COUNT] = {
    [Q] = {[CORRAL_EV_ASSIGN] = true, [CORRAL_EV_CANCEL] = true},
    /* FAIL from assigned: the worker could not spawn the process. */
    [A] = {[CORRAL_EV_START] = true,
           [CORRAL_EV_FAIL] = true,
           [CORRAL_EV_WORKER_LOST] = true,
           [CORRAL_EV_CANCEL] = true,
           [CORRAL_EV_RETURN] = true},
    [R] = {[CORRAL_EV_SUCCEED] = true,
           [CORRAL_EV_FAIL] = true,
           [CORRAL_EV_TIMEOUT] = true,
           [CORRAL_EV_WORKER_LOST] = true,
           [CORRAL_EV_CANCEL] = true,
           [CORRAL_EV_RETURN] = true},
    /* A cancelling task's worker either confirms the stop or dies; either way it is over. */
    [C] = {[CORRAL_EV_CANCELLED] = true, [CORRAL_EV_WORKER_LOST] = true},
    /* A delayed task waits for its time; only the leader releases it, anyone may cancel it. */
    [S] = {[CORRAL_EV_RELEASE] = true, [CORRAL_EV_CANCEL] = true},
    /* A dependent waits for its dependencies; the leader releases or cancels it. */
    [W] = {[CORRAL_EV_DEPS_MET] = true, [CORRAL_EV_CANCEL] = true},
};

#undef Q
#undef A
#undef R
#undef C
#undef S
#undef W

bool corral_task_can(enum corral_state s, enum corral_event ev)
{
    if ((unsigned)s >= CORRAL_STATE_COUNT || (unsigned)ev >= CORRAL_EV_COUNT)
        return false;
    return legal[s][ev];
}

/* ---- transitions ---- */

static void set_str(char **dst, const char *src)
{
    char *copy = corral_xstrdup(src);
    free(*dst);
    *dst = copy;
}

/* The longest stored output: a tail of CORRAL_OUTPUT_TAIL_BYTES source bytes, each of which
 * may have been repaired into the 3-byte U+FFFD. corral_task_parse rejects anything longer. */
#define OUTPUT_MAX_BYTES (3u * CORRAL_OUTPUT_TAIL_BYTES)

/* New output tails replace the old one; repaired here too so the stored task is always valid
 * UTF-8 even if a caller forgot, and cut to its last OUTPUT_MAX_BYTES (at a character
 * boundary) so that what is rendered always parses again. NULL keeps the previous tail. */
static void set_output(struct corral_task *t, const char *output)
{
    if (!output)
        return;
    char *r = corral_utf8_repair(output, strlen(output));
    size_t len = strlen(r);
    if (len > OUTPUT_MAX_BYTES) {
        size_t from = len - OUTPUT_MAX_BYTES;
        while (((unsigned char)r[from] & 0xC0) == 0x80)
            from++; /* r is valid UTF-8: a lead byte follows within 3 bytes */
        memmove(r, r + from, len - from + 1);
    }
    free(t->output);
    t->output = r;
}

static void set_result(struct corral_task *t, const struct corral_transition_ctx *ctx)
{
    t->has_exit_code = ctx->has_exit_code;
    t->exit_code = ctx->has_exit_code ? ctx->exit_code : 0;
    set_output(t, ctx->output);
}

/* Close the current attempt into history with its outcome. */
static void push_history(struct corral_task *t, enum corral_outcome outcome, int64_t now_ms)
{
    struct corral_attempt *h = corral_xrealloc(t->history, (t->n_history + 1) * sizeof(*h));
    t->history = h;
    h[t->n_history++] = (struct corral_attempt){
        .attempt = t->attempt,
        .worker = t->worker,
        .epoch = t->epoch,
        .started_at_ms = t->started_at_ms,
        .finished_at_ms = now_ms,
        .outcome = outcome,
        .has_exit_code = t->has_exit_code,
        .exit_code = t->exit_code,
    };
    t->worker = NULL; /* moved into history */
}

/* Keep history bounded however often a task is handed back (drains use no attempt, so nothing
 * else limits them, and a task znode must stay far below ZooKeeper's 1 MiB): drop the oldest
 * "returned" entries after the first entry until CORRAL_HISTORY_RETURNS_KEPT remain, counting
 * them in history_omitted. history[0] (the first assignment) and every counted attempt stay. */
static void trim_returned(struct corral_task *t)
{
    size_t n_returned = 0;
    for (size_t i = 1; i < t->n_history; i++) {
        if (t->history[i].outcome == CORRAL_OUTCOME_RETURNED)
            n_returned++;
    }
    size_t i = 1;
    while (n_returned > CORRAL_HISTORY_RETURNS_KEPT && i < t->n_history) {
        if (t->history[i].outcome != CORRAL_OUTCOME_RETURNED) {
            i++;
            continue;
        }
        free(t->history[i].worker);
        memmove(&t->history[i], &t->history[i + 1], (t->n_history - i - 1) * sizeof(*t->history));
        t->n_history--;
        n_returned--;
        if (t->history_omitted < (uint64_t)INT64_MAX) /* saturates; JSON integers are int64 */
            t->history_omitted++;
    }
}

/* Back to the queue for another attempt. counts: whether this attempt used one up. */
static void requeue(struct corral_task *t, enum corral_outcome outcome, bool counts, int64_t now_ms)
{
    push_history(t, outcome, now_ms);
    if (outcome == CORRAL_OUTCOME_RETURNED)
        trim_returned(t);
    if (counts)
        t->attempt++;
    t->state = CORRAL_STATE_QUEUED;
    t->epoch = 0;
    t->started_at_ms = -1;
    t->finished_at_ms = -1;
}

/* Capped exponential backoff with equal jitter (see task.h). */
static int64_t retry_delay_ms(uint32_t base_s, uint32_t failed, uint32_t jitter)
{
    uint64_t delay = (uint64_t)base_s * 1000u;
    for (uint32_t i = 1; i < failed && delay < CORRAL_RETRY_DELAY_CAP_MS; i++)
        delay *= 2;
    if (delay > CORRAL_RETRY_DELAY_CAP_MS)
        delay = CORRAL_RETRY_DELAY_CAP_MS;
    uint64_t half = delay / 2;
    return (int64_t)(half + ((delay - half) * jitter >> 32));
}

/* FAIL, TIMEOUT, WORKER_LOST on an assigned or running task. */
static void attempt_failed(struct corral_task *t, enum corral_event ev,
                           const struct corral_transition_ctx *ctx)
{
    enum corral_outcome outcome = ev == CORRAL_EV_FAIL      ? CORRAL_OUTCOME_FAILED
                                  : ev == CORRAL_EV_TIMEOUT ? CORRAL_OUTCOME_TIMED_OUT
                                                            : CORRAL_OUTCOME_WORKER_LOST;
    if (ev == CORRAL_EV_WORKER_LOST) {
        t->has_exit_code = false;
        set_str(&t->error, ctx->error ? ctx->error : "worker lost");
    } else {
        set_result(t, ctx);
        if (ev == CORRAL_EV_TIMEOUT) {
            char msg[64];
            snprintf(msg, sizeof(msg), "timed out after %u s", t->spec.timeout_s);
            set_str(&t->error, msg);
        } else {
            set_str(&t->error, ctx->error);
        }
    }
    if (t->attempt < t->spec.max_attempts) {
        uint32_t failed = t->attempt;
        requeue(t, outcome, true, ctx->now_ms);
        if (ev != CORRAL_EV_WORKER_LOST)
            t->not_before_ms =
                ctx->now_ms + retry_delay_ms(t->spec.retry_backoff_s, failed, ctx->jitter);
    } else {
        t->state = CORRAL_STATE_FAILED;
        t->finished_at_ms = ctx->now_ms;
    }
}

static void apply(struct corral_task *t, enum corral_event ev,
                  const struct corral_transition_ctx *ctx)
{
    switch (ev) {
        case CORRAL_EV_ASSIGN:
            t->state = CORRAL_STATE_ASSIGNED;
            set_str(&t->worker, ctx->worker);
            t->epoch = ctx->epoch;
            t->started_at_ms = -1;
            t->finished_at_ms = -1;
            t->has_exit_code = false;
            t->exit_code = 0;
            t->not_before_ms = 0;
            set_str(&t->error, NULL);
            break;
        case CORRAL_EV_START:
            t->state = CORRAL_STATE_RUNNING;
            t->started_at_ms = ctx->now_ms;
            break;
        case CORRAL_EV_SUCCEED:
            t->state = CORRAL_STATE_SUCCEEDED;
            t->finished_at_ms = ctx->now_ms;
            set_result(t, ctx);
            break;
        case CORRAL_EV_FAIL:
        case CORRAL_EV_TIMEOUT:
            attempt_failed(t, ev, ctx);
            break;
        case CORRAL_EV_WORKER_LOST:
            if (t->state == CORRAL_STATE_CANCELLING) {
                /* The worker died while stopping the task: the cancel is done. */
                t->state = CORRAL_STATE_CANCELLED;
                t->finished_at_ms = ctx->now_ms;
                set_str(&t->error, ctx->error ? ctx->error : "worker lost");
            } else {
                attempt_failed(t, ev, ctx);
            }
            break;
        case CORRAL_EV_CANCEL:
            if (t->state == CORRAL_STATE_QUEUED || t->state == CORRAL_STATE_SCHEDULED ||
                t->state == CORRAL_STATE_WAITING) {
                if (t->state == CORRAL_STATE_WAITING && ctx->error)
                    set_str(&t->error, ctx->error);
                t->state = CORRAL_STATE_CANCELLED;
                t->finished_at_ms = ctx->now_ms;
            } else {
                t->state = CORRAL_STATE_CANCELLING;
            }
            break;
        case CORRAL_EV_CANCELLED:
            t->state = CORRAL_STATE_CANCELLED;
            t->finished_at_ms = ctx->now_ms;
            set_result(t, ctx);
            break;
        case CORRAL_EV_RETURN:
            /* The worker gave the task back (drain): not the task's fault, no attempt used. */
            requeue(t, CORRAL_OUTCOME_RETURNED, false, ctx->now_ms);
            break;
        case CORRAL_EV_RELEASE:
        case CORRAL_EV_DEPS_MET:
            t->state = CORRAL_STATE_QUEUED;
            break;
        case CORRAL_EV_COUNT:
            break;
    }
}

int corral_task_transition(struct corral_task *t, enum corral_event ev,
                           const struct corral_transition_ctx *ctx, struct corral_error *err)
{
    if (!corral_task_can(t->state, ev)) {
        corral_error_set(err, CORRAL_ESTATE, "state", "cannot %s a task that is %s",
                         corral_event_name(ev), corral_state_name(t->state));
        return CORRAL_ESTATE;
    }
    if (ev == CORRAL_EV_ASSIGN && (!ctx->worker || !ctx->worker[0])) {
        corral_error_set(err, CORRAL_EINVAL, "worker", "assign needs a worker");
        return CORRAL_EINVAL;
    }
    apply(t, ev, ctx);
    return CORRAL_OK;
}

void corral_task_init_new(struct corral_task *t, const char *id, struct corral_spec *spec,
                          int64_t now_ms)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->state = CORRAL_STATE_QUEUED;
    t->spec = *spec;
    memset(spec, 0, sizeof(*spec));
    t->attempt = 1;
    t->submitted_at_ms = now_ms;
    t->started_at_ms = -1;
    t->finished_at_ms = -1;
    int64_t due = corral_task_due_ms(&t->spec, now_ms);
    if (due > now_ms) {
        t->state = CORRAL_STATE_SCHEDULED;
        t->not_before_ms = due;
    }
    if (t->spec.n_depends_on > 0)
        t->state = CORRAL_STATE_WAITING; /* the spec refuses depends_on with a start time */
}

bool corral_task_add_dependent(struct corral_task *t, const char *id)
{
    for (size_t i = 0; i < t->n_dependents; i++)
        if (strcmp(t->dependents[i], id) == 0)
            return true;
    if (t->n_dependents >= CORRAL_DEPENDENTS_MAX)
        return false;
    t->dependents = corral_xrealloc(t->dependents, (t->n_dependents + 1) * sizeof *t->dependents);
    snprintf(t->dependents[t->n_dependents++], CORRAL_ID_LEN + 1, "%s", id);
    return true;
}

int64_t corral_task_due_ms(const struct corral_spec *spec, int64_t submitted_at_ms)
{
    if (spec->has_run_at)
        return spec->run_at_ms;
    if (spec->has_delay)
        return submitted_at_ms + (int64_t)spec->delay_ms;
    return 0;
}

void corral_task_cleanup(struct corral_task *t)
{
    if (!t)
        return;
    corral_spec_cleanup(&t->spec);
    free(t->worker);
    free(t->error);
    free(t->output);
    for (size_t i = 0; t->history && i < t->n_history; i++)
        free(t->history[i].worker);
    free(t->history);
    free(t->dependents);
    memset(t, 0, sizeof(*t));
}

/* ---- JSON ---- */

static json_t *jexit(bool has, int code)
{
    return has ? json_integer(code) : json_null();
}

static json_t *attempt_to_json(const struct corral_attempt *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "attempt", json_integer(a->attempt));
    json_object_set_new(o, "worker", corral_json_str(a->worker));
    json_object_set_new(o, "epoch", json_integer((json_int_t)a->epoch));
    json_object_set_new(o, "started_at", corral_json_time(a->started_at_ms));
    json_object_set_new(o, "finished_at", corral_json_time(a->finished_at_ms));
    json_object_set_new(o, "outcome", json_string(corral_outcome_name(a->outcome)));
    json_object_set_new(o, "exit_code", jexit(a->has_exit_code, a->exit_code));
    return o;
}

json_t *corral_task_to_json(const struct corral_task *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", corral_json_str(t->id));
    json_object_set_new(o, "name", corral_json_str(t->spec.name));
    json_object_set_new(o, "state", json_string(corral_state_name(t->state)));
    json_object_set_new(o, "spec", corral_spec_to_json(&t->spec));
    json_object_set_new(o, "attempt", json_integer(t->attempt));
    json_object_set_new(o, "worker", corral_json_str(t->worker));
    json_object_set_new(o, "submitted_at", corral_json_time(t->submitted_at_ms));
    json_object_set_new(o, "started_at", corral_json_time(t->started_at_ms));
    json_object_set_new(o, "finished_at", corral_json_time(t->finished_at_ms));
    json_object_set_new(o, "exit_code", jexit(t->has_exit_code, t->exit_code));
    json_object_set_new(o, "error", corral_json_str(t->error));
    json_object_set_new(o, "output", corral_json_str(t->output ? t->output : ""));
    json_object_set_new(o, "epoch", json_integer((json_int_t)t->epoch));
    json_t *hist = json_array();
    for (size_t i = 0; i < t->n_history; i++)
        json_array_append_new(hist, attempt_to_json(&t->history[i]));
    json_object_set_new(o, "history", hist);
    if (t->history_omitted > 0)
        json_object_set_new(o, "history_omitted", json_integer((json_int_t)t->history_omitted));
    json_object_set_new(o, "not_before",
                        t->not_before_ms > 0 ? corral_json_time(t->not_before_ms) : json_null());
    if (t->n_dependents > 0) {
        json_t *deps = json_array();
        for (size_t i = 0; i < t->n_dependents; i++)
            json_array_append_new(deps, json_string(t->dependents[i]));
        json_object_set_new(o, "dependents", deps);
    }
    return o;
}

json_t *corral_task_to_public_json(const struct corral_task *t)
{
    json_t *o = corral_task_to_json(t);
    corral_spec_redact_json(json_object_get(o, "spec"));
    return o;
}

char *corral_task_render(const struct corral_task *t)
{
    json_t *o = corral_task_to_json(t);
    char *s = json_dumps(o, CORRAL_JSON_DUMP_FLAGS);
    json_decref(o);
    if (!s)
        abort(); /* only on out of memory: every string was made valid above */
    return s;
}

/* ---- parsing: the inverse of to_json; stored data may be corrupt, so check everything ---- */

static int bad(struct corral_error *err, const char *field, const char *what)
{
    corral_error_set(err, CORRAL_EINVAL, field, "task JSON: %s %s", field, what);
    return CORRAL_EINVAL;
}

static int p_str(const json_t *o, const char *key, bool nullable, char **out,
                 struct corral_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (nullable && json_is_null(v))
        return CORRAL_OK;
    if (!json_is_string(v))
        return bad(err, key, nullable ? "must be a string or null" : "must be a string");
    *out = corral_xstrdup(json_string_value(v));
    return CORRAL_OK;
}

/* A worker id (corral_path_valid_name) or null: the leader only writes registered names, and
 * the id becomes part of znode paths. */
static int p_worker(const json_t *o, char **out, struct corral_error *err)
{
    const json_t *v = json_object_get(o, "worker");
    if (json_is_null(v))
        return CORRAL_OK;
    if (!json_is_string(v) || !corral_path_valid_name(json_string_value(v)))
        return bad(err, "worker", "must be a worker id or null");
    *out = corral_xstrdup(json_string_value(v));
    return CORRAL_OK;
}

static int p_int(const json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *out,
                 struct corral_error *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(err, key, "must be an integer in range");
    *out = json_integer_value(v);
    return CORRAL_OK;
}

static int p_time(const json_t *o, const char *key, bool nullable, int64_t *out,
                  struct corral_error *err)
{
    const json_t *v = json_object_get(o, key);
    *out = -1;
    if (nullable && json_is_null(v))
        return CORRAL_OK;
    if (!json_is_string(v) || corral_time_parse(json_string_value(v), out) || *out < 0)
        return bad(err, key, "must be an RFC 3339 UTC time");
    return CORRAL_OK;
}

static int p_exit(const json_t *o, bool *has, int *code, struct corral_error *err)
{
    const json_t *v = json_object_get(o, "exit_code");
    *has = false;
    if (json_is_null(v))
        return CORRAL_OK;
    json_int_t x;
    int rc = p_int(o, "exit_code", INT_MIN, INT_MAX, &x, err);
    if (rc)
        return rc;
    *has = true;
    *code = (int)x;
    return CORRAL_OK;
}

static int p_attempt(const json_t *o, struct corral_attempt *a, struct corral_error *err)
{
    if (!json_is_object(o))
        return bad(err, "history", "entries must be objects");
    json_int_t x;
    int rc = p_int(o, "attempt", 1, UINT32_MAX, &x, err);
    if (rc)
        return rc;
    a->attempt = (uint32_t)x;
    if ((rc = p_worker(o, &a->worker, err)) || (rc = p_int(o, "epoch", 0, INT64_MAX, &x, err)))
        return rc;
    a->epoch = (uint64_t)x;
    if ((rc = p_time(o, "started_at", true, &a->started_at_ms, err)) ||
        (rc = p_time(o, "finished_at", true, &a->finished_at_ms, err)))
        return rc;
    const json_t *oc = json_object_get(o, "outcome");
    int outcome = json_is_string(oc) ? outcome_parse(json_string_value(oc)) : -1;
    if (outcome < 0)
        return bad(err, "outcome", "must be a known outcome");
    a->outcome = (enum corral_outcome)outcome;
    return p_exit(o, &a->has_exit_code, &a->exit_code, err);
}

static int p_dependents(const json_t *o, struct corral_task *t, struct corral_error *err);

static int p_history(const json_t *o, struct corral_task *t, struct corral_error *err)
{
    const json_t *h = json_object_get(o, "history");
    if (!json_is_array(h))
        return bad(err, "history", "must be an array");
    size_t n = json_array_size(h);
    t->history = corral_xcalloc(n, sizeof(*t->history));
    for (size_t i = 0; i < n; i++) {
        /* Count the entry first so cleanup frees whatever it got. */
        t->n_history = i + 1;
        int rc = p_attempt(json_array_get(h, i), &t->history[i], err);
        if (rc)
            return rc;
    }
    return CORRAL_OK;
}

static int p_identity(const json_t *o, struct corral_task *t, struct corral_error *err)
{
    const json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || !corral_id_is_valid(json_string_value(id)))
        return bad(err, "id", "must be a task id");
    snprintf(t->id, sizeof(t->id), "%s", json_string_value(id));
    const json_t *st = json_object_get(o, "state");
    int state = json_is_string(st) ? corral_state_parse(json_string_value(st)) : -1;
    if (state < 0)
        return bad(err, "state", "must be a known state");
    t->state = (enum corral_state)state;
    int rc = corral_spec_from_json(json_object_get(o, "spec"), "spec.", &t->spec, err);
    if (rc && err)
        err->code = CORRAL_EINVAL; /* a stored spec that fails validation is bad data */
    return rc ? CORRAL_EINVAL : CORRAL_OK;
}

static int p_task(const json_t *o, struct corral_task *t, struct corral_error *err)
{
    if (!json_is_object(o))
        return bad(err, "task", "must be an object");
    int rc = p_identity(o, t, err);
    json_int_t x;
    if (rc || (rc = p_int(o, "attempt", 1, UINT32_MAX, &x, err)))
        return rc;
    t->attempt = (uint32_t)x;
    if ((rc = p_worker(o, &t->worker, err)) ||
        (rc = p_time(o, "submitted_at", false, &t->submitted_at_ms, err)) ||
        (rc = p_time(o, "started_at", true, &t->started_at_ms, err)) ||
        (rc = p_time(o, "finished_at", true, &t->finished_at_ms, err)) ||
        (rc = p_exit(o, &t->has_exit_code, &t->exit_code, err)) ||
        (rc = p_str(o, "error", true, &t->error, err)) ||
        (rc = p_str(o, "output", false, &t->output, err)) ||
        (rc = p_int(o, "epoch", 0, INT64_MAX, &x, err)))
        return rc;
    if (strlen(t->output) > OUTPUT_MAX_BYTES)
        return bad(err, "output", "is longer than an output tail can be");
    t->epoch = (uint64_t)x;
    /* history_omitted is there only when history was trimmed (0 otherwise). */
    const json_t *omitted = json_object_get(o, "history_omitted");
    if (omitted) {
        if ((rc = p_int(o, "history_omitted", 1, INT64_MAX, &x, err)))
            return rc;
        t->history_omitted = (uint64_t)x;
    }
    /* not_before is internal and may be missing in tasks written before it existed. */
    if (!json_is_null(json_object_get(o, "not_before")) &&
        json_object_get(o, "not_before") != NULL) {
        if ((rc = p_time(o, "not_before", false, &t->not_before_ms, err)))
            return rc;
    }
    if (t->output && t->output[0] == '\0') {
        free(t->output); /* "" and NULL mean the same; keep NULL so round trips are exact */
        t->output = NULL;
    }
    if ((rc = p_dependents(o, t, err)))
        return rc;
    return p_history(o, t, err);
}

/* "dependents": only there when some task depends on this one. */
static int p_dependents(const json_t *o, struct corral_task *t, struct corral_error *err)
{
    const json_t *d = json_object_get(o, "dependents");
    if (!d)
        return CORRAL_OK;
    if (!json_is_array(d) || json_array_size(d) > CORRAL_DEPENDENTS_MAX)
        return bad(err, "dependents", "must be an array of at most 4096 task ids");
    for (size_t i = 0; i < json_array_size(d); i++) {
        const json_t *e = json_array_get(d, i);
        if (!json_is_string(e) || !corral_id_is_valid(json_string_value(e)))
            return bad(err, "dependents", "must hold task ids");
        if (!corral_task_add_dependent(t, json_string_value(e)))
            return bad(err, "dependents", "is too long");
    }
    return CORRAL_OK;
}

int corral_task_parse(const char *buf, size_t len, struct corral_task *out,
                      struct corral_error *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!o) {
        corral_error_set(err, CORRAL_EINVAL, "", "task JSON: line %d column %d: %s", jerr.line,
                         jerr.column, jerr.text);
        return CORRAL_EINVAL;
    }
    struct corral_task t = {0};
    int rc = p_task(o, &t, err);
    json_decref(o);
    if (rc) {
        corral_task_cleanup(&t);
        return rc;
    }
    *out = t;
    return CORRAL_OK;
}
