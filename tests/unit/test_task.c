/* SPDX-License-Identifier: MIT */
/* Unit tests of src/core/task.c: the transition table, retries and history, JSON round trips. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "corral/limits.h"
#include "corral/task.h"

#define TASK_ID "019a1b2c3d4e-9f8e7d6c"
#define T0      INT64_C(1795510372123) /* 2026-11-24T08:52:52.123Z */

/* ---- helpers ---- */

static void new_task(struct corral_task *t, uint32_t max_attempts)
{
    char text[128];
    snprintf(text, sizeof(text),
             "{\"command\": [\"true\"], \"max_attempts\": %u, \"timeout_s\": 60}", max_attempts);
    struct corral_spec spec = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, NULL), CORRAL_OK);
    corral_task_init_new(t, TASK_ID, &spec, T0);
}

static void step(struct corral_task *t, enum corral_event ev, int64_t now_ms)
{
    struct corral_transition_ctx ctx = {.now_ms = now_ms, .worker = "w1", .epoch = 7};
    struct corral_error err = {0};
    int rc = corral_task_transition(t, ev, &ctx, &err);
    if (rc)
        fail_msg("%s from %s: %s", corral_event_name(ev), corral_state_name(t->state), err.msg);
}

/* Drive a fresh task (attempt 1 of max_attempts) into state s through legal events. */
static void task_in_state(struct corral_task *t, enum corral_state s, uint32_t max_attempts)
{
    new_task(t, max_attempts);
    switch (s) {
        case CORRAL_STATE_QUEUED:
            break;
        case CORRAL_STATE_ASSIGNED:
            step(t, CORRAL_EV_ASSIGN, T0 + 1);
            break;
        case CORRAL_STATE_RUNNING:
            step(t, CORRAL_EV_ASSIGN, T0 + 1);
            step(t, CORRAL_EV_START, T0 + 2);
            break;
        case CORRAL_STATE_SUCCEEDED:
            step(t, CORRAL_EV_ASSIGN, T0 + 1);
            step(t, CORRAL_EV_START, T0 + 2);
            step(t, CORRAL_EV_SUCCEED, T0 + 3);
            break;
        case CORRAL_STATE_FAILED:
            corral_task_cleanup(t);
            task_in_state(t, CORRAL_STATE_RUNNING, 1);
            step(t, CORRAL_EV_FAIL, T0 + 3);
            break;
        case CORRAL_STATE_CANCELLING:
            step(t, CORRAL_EV_ASSIGN, T0 + 1);
            step(t, CORRAL_EV_CANCEL, T0 + 2);
            break;
        case CORRAL_STATE_CANCELLED:
            step(t, CORRAL_EV_CANCEL, T0 + 1);
            break;
        case CORRAL_STATE_SCHEDULED: {
            corral_task_cleanup(t);
            char text[128];
            snprintf(text, sizeof(text),
                     "{\"command\": [\"true\"], \"max_attempts\": %u, \"delay_s\": 30}",
                     max_attempts);
            struct corral_spec spec = {0};
            assert_int_equal(corral_spec_parse(text, strlen(text), &spec, NULL), CORRAL_OK);
            corral_task_init_new(t, TASK_ID, &spec, T0);
            break;
        }
        case CORRAL_STATE_WAITING: {
            corral_task_cleanup(t);
            char text[160];
            snprintf(text, sizeof(text),
                     "{\"command\": [\"true\"], \"max_attempts\": %u, \"depends_on\": "
                     "[\"019a1b2c3d4e-00000001\"]}",
                     max_attempts);
            struct corral_spec spec = {0};
            assert_int_equal(corral_spec_parse(text, strlen(text), &spec, NULL), CORRAL_OK);
            corral_task_init_new(t, TASK_ID, &spec, T0);
            break;
        }
        case CORRAL_STATE_COUNT:
            fail();
    }
    assert_int_equal(t->state, s);
}

#define ILLEGAL -1
#define Q       CORRAL_STATE_QUEUED
#define A       CORRAL_STATE_ASSIGNED
#define R       CORRAL_STATE_RUNNING
#define S       CORRAL_STATE_SUCCEEDED
#define F       CORRAL_STATE_FAILED
#define CG      CORRAL_STATE_CANCELLING
#define CD      CORRAL_STATE_CANCELLED
#define SC      CORRAL_STATE_SCHEDULED
#define WT      CORRAL_STATE_WAITING

/* Expected next state when attempts are left (attempt 1 of 3), written out independently of the
 * implementation's table. Columns: ASSIGN START SUCCEED FAIL TIMEOUT WORKER_LOST CANCEL
 * CANCELLED RETURN RELEASE DEPS_MET. */
static const int expect_with_retries[CORRAL_STATE_COUNT][CORRAL_EV_COUNT] = {
    [Q] = {A, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, CD, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL},
    [A] = {ILLEGAL, R, ILLEGAL, Q, ILLEGAL, Q, CG, ILLEGAL, Q, ILLEGAL, ILLEGAL},
    [R] = {ILLEGAL, ILLEGAL, S, Q, Q, Q, CG, ILLEGAL, Q, ILLEGAL, ILLEGAL},
    [S] = {ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL,
           ILLEGAL},
    [F] = {ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL,
           ILLEGAL},
    [CG] = {ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, CD, ILLEGAL, CD, ILLEGAL, ILLEGAL,
            ILLEGAL},
    [CD] = {ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL,
            ILLEGAL, ILLEGAL},
    [SC] = {ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, CD, ILLEGAL, ILLEGAL, Q, ILLEGAL},
    [WT] = {ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, ILLEGAL, CD, ILLEGAL, ILLEGAL, ILLEGAL, Q},
};

/* On the last attempt, failures are final; RETURN still requeues (it does not count). */
static int expect_last_attempt(enum corral_state s, enum corral_event ev)
{
    int next = expect_with_retries[s][ev];
    if ((s == A || s == R) && next == Q && ev != CORRAL_EV_RETURN)
        return F;
    return next;
}

static void check_pair(enum corral_state s, enum corral_event ev, uint32_t max_attempts,
                       int expected)
{
    struct corral_task t = {0};
    task_in_state(&t, s, max_attempts);
    char *before = corral_task_render(&t);
    struct corral_transition_ctx ctx = {.now_ms = T0 + 100, .worker = "w2", .epoch = 9};
    struct corral_error err = {0};
    int rc = corral_task_transition(&t, ev, &ctx, &err);
    char *after = corral_task_render(&t);
    if (expected == ILLEGAL) {
        if (rc != CORRAL_ESTATE || strcmp(before, after) != 0)
            fail_msg("%s on %s should be illegal and change nothing", corral_event_name(ev),
                     corral_state_name(s));
        assert_int_equal(err.code, CORRAL_ESTATE);
        assert_false(corral_task_can(s, ev));
    } else {
        if (rc != CORRAL_OK || (int)t.state != expected)
            fail_msg("%s on %s (max_attempts %u): rc %d, state %s, want %s", corral_event_name(ev),
                     corral_state_name(s), max_attempts, rc, corral_state_name(t.state),
                     corral_state_name((enum corral_state)expected));
        assert_true(corral_task_can(s, ev));
    }
    free(before);
    free(after);
    corral_task_cleanup(&t);
}

/* ---- the table ---- */

static void task_transition_table_matches_every_pair_with_attempts_left(void **state)
{
    (void)state;
    for (int s = 0; s < CORRAL_STATE_COUNT; s++) {
        for (int ev = 0; ev < CORRAL_EV_COUNT; ev++)
            check_pair((enum corral_state)s, (enum corral_event)ev, 3, expect_with_retries[s][ev]);
    }
}

static void task_transition_table_matches_every_pair_on_last_attempt(void **state)
{
    (void)state;
    for (int s = 0; s < CORRAL_STATE_COUNT; s++) {
        for (int ev = 0; ev < CORRAL_EV_COUNT; ev++)
            check_pair((enum corral_state)s, (enum corral_event)ev, 1,
                       expect_last_attempt((enum corral_state)s, (enum corral_event)ev));
    }
}

static void task_can_rejects_out_of_range_values(void **state)
{
    (void)state;
    assert_false(corral_task_can(CORRAL_STATE_COUNT, CORRAL_EV_ASSIGN));
    assert_false(corral_task_can(CORRAL_STATE_QUEUED, CORRAL_EV_COUNT));
}

/* ---- behaviour of individual transitions ---- */

static void task_init_new_is_queued_attempt_one_and_takes_the_spec(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    assert_string_equal(t.id, TASK_ID);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.attempt, 1);
    assert_null(t.worker);
    assert_int_equal(t.epoch, 0);
    assert_true(t.submitted_at_ms == T0);
    assert_true(t.started_at_ms == -1 && t.finished_at_ms == -1);
    assert_int_equal(t.spec.max_attempts, 3);
    assert_int_equal(t.n_history, 0);
    corral_task_cleanup(&t);
}

static void task_assign_sets_worker_epoch_and_clears_last_result(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 3);
    struct corral_transition_ctx fail = {
        .now_ms = T0 + 10, .has_exit_code = true, .exit_code = 3, .error = "exit 3"};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_FAIL, &fail, NULL), CORRAL_OK);
    assert_string_equal(t.error, "exit 3");
    assert_true(t.has_exit_code);
    struct corral_transition_ctx assign = {.now_ms = T0 + 20, .worker = "w9", .epoch = 12};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_ASSIGN, &assign, NULL), CORRAL_OK);
    assert_string_equal(t.worker, "w9");
    assert_int_equal(t.epoch, 12);
    assert_null(t.error);
    assert_false(t.has_exit_code);
    assert_true(t.started_at_ms == -1 && t.finished_at_ms == -1);
    corral_task_cleanup(&t);
}

static void task_assign_without_worker_is_invalid_and_changes_nothing(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    char *before = corral_task_render(&t);
    struct corral_transition_ctx ctx = {.now_ms = T0};
    struct corral_error err = {0};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_ASSIGN, &ctx, &err), CORRAL_EINVAL);
    char *after = corral_task_render(&t);
    assert_string_equal(before, after);
    free(before);
    free(after);
    corral_task_cleanup(&t);
}

static void task_succeed_records_finish_exit_code_and_output(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 3);
    assert_true(t.started_at_ms == T0 + 2);
    struct corral_transition_ctx ctx = {
        .now_ms = T0 + 50, .has_exit_code = true, .exit_code = 0, .output = "hi\n"};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_SUCCEED, &ctx, NULL), CORRAL_OK);
    assert_int_equal(t.state, CORRAL_STATE_SUCCEEDED);
    assert_true(t.finished_at_ms == T0 + 50);
    assert_true(t.has_exit_code);
    assert_int_equal(t.exit_code, 0);
    assert_string_equal(t.output, "hi\n");
    assert_true(corral_state_is_final(t.state));
    corral_task_cleanup(&t);
}

static void task_retries_until_max_attempts_then_fails(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    for (uint32_t i = 1; i <= 3; i++) {
        int64_t base = T0 + 1000 * i;
        char worker[8];
        snprintf(worker, sizeof(worker), "w%u", i);
        struct corral_transition_ctx assign = {.now_ms = base, .worker = worker, .epoch = 10 + i};
        struct corral_transition_ctx start = {.now_ms = base + 1};
        struct corral_transition_ctx fail = {
            .now_ms = base + 2, .has_exit_code = true, .exit_code = (int)i, .error = "boom"};
        assert_int_equal(t.attempt, i);
        assert_int_equal(corral_task_transition(&t, CORRAL_EV_ASSIGN, &assign, NULL), 0);
        assert_int_equal(corral_task_transition(&t, CORRAL_EV_START, &start, NULL), 0);
        assert_int_equal(corral_task_transition(&t, CORRAL_EV_FAIL, &fail, NULL), 0);
        assert_int_equal(t.state, i < 3 ? CORRAL_STATE_QUEUED : CORRAL_STATE_FAILED);
    }
    assert_int_equal(t.attempt, 3);
    assert_string_equal(t.worker, "w3"); /* the last attempt stays in the top-level fields */
    assert_true(t.finished_at_ms == T0 + 3002);
    assert_int_equal(t.exit_code, 3);
    assert_string_equal(t.error, "boom");
    assert_int_equal(t.n_history, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct corral_attempt *h = &t.history[i];
        int64_t base = T0 + 1000 * (int64_t)(i + 1);
        assert_int_equal(h->attempt, i + 1);
        assert_int_equal(h->epoch, 11 + i);
        assert_int_equal(h->outcome, CORRAL_OUTCOME_FAILED);
        assert_true(h->started_at_ms == base + 1 && h->finished_at_ms == base + 2);
        assert_true(h->has_exit_code);
        assert_int_equal(h->exit_code, (int)i + 1);
    }
    assert_string_equal(t.history[0].worker, "w1");
    assert_string_equal(t.history[1].worker, "w2");
    corral_task_cleanup(&t);
}

static void task_requeue_clears_worker_epoch_and_times(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 3);
    step(&t, CORRAL_EV_WORKER_LOST, T0 + 9);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_null(t.worker);
    assert_int_equal(t.epoch, 0);
    assert_true(t.started_at_ms == -1 && t.finished_at_ms == -1);
    assert_int_equal(t.attempt, 2);
    assert_string_equal(t.error, "worker lost");
    assert_int_equal(t.history[0].outcome, CORRAL_OUTCOME_WORKER_LOST);
    assert_false(t.history[0].has_exit_code);
    assert_string_equal(t.history[0].worker, "w1");
    corral_task_cleanup(&t);
}

static void task_timeout_records_outcome_and_message(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 2);
    step(&t, CORRAL_EV_TIMEOUT, T0 + 60002);
    assert_int_equal(t.history[0].outcome, CORRAL_OUTCOME_TIMED_OUT);
    assert_string_equal(t.error, "timed out after 60 s");
    step(&t, CORRAL_EV_ASSIGN, T0 + 70000);
    step(&t, CORRAL_EV_START, T0 + 70001);
    step(&t, CORRAL_EV_TIMEOUT, T0 + 130001);
    assert_int_equal(t.state, CORRAL_STATE_FAILED);
    assert_string_equal(t.error, "timed out after 60 s");
    corral_task_cleanup(&t);
}

static void task_return_does_not_count_an_attempt(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 1);
    step(&t, CORRAL_EV_RETURN, T0 + 5);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.attempt, 1);
    assert_int_equal(t.n_history, 1);
    assert_int_equal(t.history[0].outcome, CORRAL_OUTCOME_RETURNED);
    assert_int_equal(t.history[0].attempt, 1);
    assert_null(t.worker);
    /* The only counted attempt is still available: it runs, and its failure is final. */
    step(&t, CORRAL_EV_ASSIGN, T0 + 6);
    step(&t, CORRAL_EV_START, T0 + 7);
    step(&t, CORRAL_EV_FAIL, T0 + 8);
    assert_int_equal(t.state, CORRAL_STATE_FAILED);
    assert_int_equal(t.n_history, 1);
    corral_task_cleanup(&t);
}

/* A spec as large as allowed: 64 KiB compact as stored (every field given, so that filling in
 * defaults adds nothing), with every optional string at its maximum. */
static void new_max_task(struct corral_task *t, uint32_t max_attempts)
{
    char name[CORRAL_NAME_MAX + 1], key[CORRAL_IDEM_KEY_MAX + 1];
    memset(name, 'n', CORRAL_NAME_MAX);
    name[CORRAL_NAME_MAX] = '\0';
    memset(key, 'k', CORRAL_IDEM_KEY_MAX);
    key[CORRAL_IDEM_KEY_MAX] = '\0';
    char head[1024];
    int n = snprintf(head, sizeof head,
                     "{\"shell\":false,\"http\":null,\"name\":\"%s\",\"priority\":-1000,"
                     "\"timeout_s\":604800,\"max_attempts\":%u,\"retry_backoff_s\":3600,"
                     "\"resources\":{\"cpu\":1024,\"mem_mb\":1073741824},\"constraints\":{},"
                     "\"estimated_ms\":9223372036854775807,\"env\":{},"
                     "\"idempotency_key\":\"%s\",\"command\":[\"sh\",\"",
                     name, max_attempts, key);
    assert_true(n > 0 && (size_t)n < sizeof head);
    const char *tail = "\"]}";
    size_t fill = CORRAL_SPEC_MAX_BYTES - (size_t)n - strlen(tail);
    char *text = malloc(CORRAL_SPEC_MAX_BYTES + 1);
    assert_non_null(text);
    memcpy(text, head, (size_t)n);
    memset(text + n, 'x', fill);
    strcpy(text + (size_t)n + fill, tail);
    assert_int_equal(strlen(text), CORRAL_SPEC_MAX_BYTES);
    struct corral_spec spec = {0};
    struct corral_error err = {0};
    if (corral_spec_parse(text, strlen(text), &spec, &err))
        fail_msg("max spec rejected: %s", err.msg);
    free(text);
    json_t *j = corral_spec_to_json(&spec);
    assert_int_equal(json_dumpb(j, NULL, 0, CORRAL_JSON_DUMP_FLAGS), CORRAL_SPEC_MAX_BYTES);
    json_decref(j);
    corral_task_init_new(t, TASK_ID, &spec, T0);
    /* The output tail at its largest rendering: control bytes become 6-byte escapes. */
    char out[CORRAL_OUTPUT_TAIL_BYTES + 1];
    memset(out, 1, CORRAL_OUTPUT_TAIL_BYTES);
    out[CORRAL_OUTPUT_TAIL_BYTES] = '\0';
    t->output = strdup(out);
}

/* ASSIGN (to a worker with a 128-byte id), START, then ev at now. */
static void run_and(struct corral_task *t, enum corral_event ev, int64_t now)
{
    static char worker[CORRAL_WORKER_ID_MAX + 1];
    memset(worker, 'w', CORRAL_WORKER_ID_MAX);
    struct corral_transition_ctx ctx = {
        .now_ms = now, .worker = worker, .epoch = INT64_MAX, .error = "boom"};
    assert_int_equal(corral_task_transition(t, CORRAL_EV_ASSIGN, &ctx, NULL), CORRAL_OK);
    assert_int_equal(corral_task_transition(t, CORRAL_EV_START, &ctx, NULL), CORRAL_OK);
    ctx.now_ms = now + 1;
    ctx.has_exit_code = true;
    ctx.exit_code = INT32_MIN;
    assert_int_equal(corral_task_transition(t, ev, &ctx, NULL), CORRAL_OK);
}

static size_t count_outcome(const struct corral_task *t, enum corral_outcome o)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n_history; i++)
        n += t->history[i].outcome == o;
    return n;
}

/* Rendered size of t, which must parse back to the same text. */
static size_t rendered_size_round_trips(const struct corral_task *t)
{
    char *text = corral_task_render(t);
    struct corral_task back = {0};
    struct corral_error err = {0};
    if (corral_task_parse(text, strlen(text), &back, &err))
        fail_msg("parse: %s", err.msg);
    assert_true(back.history_omitted == t->history_omitted);
    assert_int_equal(back.n_history, t->n_history);
    char *again = corral_task_render(&back);
    assert_string_equal(text, again);
    size_t n = strlen(text);
    free(again);
    free(text);
    corral_task_cleanup(&back);
    return n;
}

/* ZooKeeper refuses a znode over 1 MiB; a task stays under a quarter of it. */
#define TASK_RENDER_BUDGET (256u * 1024u)

static void task_history_stays_bounded_under_10000_returns(void **state)
{
    (void)state;
    struct corral_task t;
    new_max_task(&t, 3);
    for (int64_t i = 0; i < 10000; i++)
        run_and(&t, CORRAL_EV_RETURN, T0 + 10 * i);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.attempt, 1);
    /* The first entry and the newest CORRAL_HISTORY_RETURNS_KEPT returns. */
    assert_int_equal(t.n_history, 1 + CORRAL_HISTORY_RETURNS_KEPT);
    assert_true(t.history_omitted == 10000 - 1 - CORRAL_HISTORY_RETURNS_KEPT);
    assert_true(t.history[0].finished_at_ms == T0 + 1);
    assert_true(t.history[1].finished_at_ms == T0 + 10 * (10000 - CORRAL_HISTORY_RETURNS_KEPT) + 1);
    assert_true(t.history[t.n_history - 1].finished_at_ms == T0 + 10 * 9999 + 1);
    assert_int_equal(count_outcome(&t, CORRAL_OUTCOME_RETURNED), t.n_history);
    size_t size = rendered_size_round_trips(&t);
    print_message("      -> %zu bytes rendered after 10000 returns\n", size);
    assert_true(size < TASK_RENDER_BUDGET);
    json_t *j = corral_task_to_json(&t);
    assert_int_equal(json_integer_value(json_object_get(j, "history_omitted")),
                     10000 - 1 - CORRAL_HISTORY_RETURNS_KEPT);
    json_decref(j);
    /* Its only counted attempt is still there to use. */
    run_and(&t, CORRAL_EV_SUCCEED, T0 + 200000);
    assert_int_equal(t.state, CORRAL_STATE_SUCCEEDED);
    corral_task_cleanup(&t);
}

static void task_history_keeps_every_counted_attempt_among_many_returns(void **state)
{
    (void)state;
    struct corral_task t;
    new_max_task(&t, CORRAL_MAX_ATTEMPTS_MAX);
    int64_t now = T0;
    enum corral_event counted[] = {CORRAL_EV_FAIL, CORRAL_EV_TIMEOUT, CORRAL_EV_WORKER_LOST};
    for (uint32_t a = 1; a <= CORRAL_MAX_ATTEMPTS_MAX; a++) {
        for (int r = 0; r < 30; r++, now += 10)
            run_and(&t, CORRAL_EV_RETURN, now);
        assert_int_equal(t.attempt, a);
        run_and(&t, counted[a % 3], now);
        now = t.not_before_ms > now ? t.not_before_ms : now + 10;
    }
    assert_int_equal(t.state, CORRAL_STATE_FAILED);
    assert_int_equal(t.attempt, CORRAL_MAX_ATTEMPTS_MAX);
    /* Every counted attempt but the last (which is the task's own result), in order. */
    size_t seen = 0;
    for (size_t i = 0; i < t.n_history; i++) {
        if (t.history[i].outcome == CORRAL_OUTCOME_RETURNED)
            continue;
        seen++;
        assert_int_equal(t.history[i].attempt, seen);
    }
    assert_int_equal(seen, CORRAL_MAX_ATTEMPTS_MAX - 1);
    assert_int_equal(t.n_history, 1 + (CORRAL_MAX_ATTEMPTS_MAX - 1) + CORRAL_HISTORY_RETURNS_KEPT);
    assert_true(t.history_omitted ==
                30u * CORRAL_MAX_ATTEMPTS_MAX - 1u - CORRAL_HISTORY_RETURNS_KEPT);
    size_t size = rendered_size_round_trips(&t);
    print_message("      -> %zu bytes rendered, the largest history kept\n", size);
    assert_true(size < TASK_RENDER_BUDGET);
    corral_task_cleanup(&t);
}

static void task_retries_without_returns_keep_all_attempts(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, CORRAL_MAX_ATTEMPTS_MAX);
    for (uint32_t a = 1; a <= CORRAL_MAX_ATTEMPTS_MAX; a++)
        run_and(&t, CORRAL_EV_WORKER_LOST, T0 + 10 * (int64_t)a);
    assert_int_equal(t.state, CORRAL_STATE_FAILED);
    assert_int_equal(t.n_history, CORRAL_MAX_ATTEMPTS_MAX - 1);
    assert_true(t.history_omitted == 0);
    for (size_t i = 0; i < t.n_history; i++)
        assert_int_equal(t.history[i].attempt, i + 1);
    corral_task_cleanup(&t);
}

static void task_overlong_stored_history_is_trimmed_at_the_next_return(void **state)
{
    (void)state;
    /* A task written before the bound existed, with 50 returns: parsed as is. */
    struct corral_task t;
    new_task(&t, 3);
    t.history = calloc(50, sizeof(*t.history));
    assert_non_null(t.history);
    for (size_t i = 0; i < 50; i++) {
        t.history[i] = (struct corral_attempt){.attempt = 1,
                                               .started_at_ms = -1,
                                               .finished_at_ms = T0 + (int64_t)i,
                                               .outcome = CORRAL_OUTCOME_RETURNED};
    }
    t.n_history = 50;
    char *text = corral_task_render(&t);
    assert_null(strstr(text, "history_omitted")); /* only there when something was dropped */
    struct corral_task back = {0};
    assert_int_equal(corral_task_parse(text, strlen(text), &back, NULL), CORRAL_OK);
    free(text);
    assert_int_equal(back.n_history, 50);
    run_and(&back, CORRAL_EV_RETURN, T0 + 100);
    assert_int_equal(back.n_history, 1 + CORRAL_HISTORY_RETURNS_KEPT);
    assert_true(back.history_omitted == 51 - 1 - CORRAL_HISTORY_RETURNS_KEPT);
    assert_true(back.history[0].finished_at_ms == T0);
    corral_task_cleanup(&back);
    corral_task_cleanup(&t);
}

static void task_fail_from_assigned_is_a_spawn_failure(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_ASSIGNED, 3);
    struct corral_transition_ctx ctx = {.now_ms = T0 + 3, .error = "exec: No such file"};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_FAIL, &ctx, NULL), CORRAL_OK);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_true(t.history[0].started_at_ms == -1); /* it never started */
    assert_string_equal(t.error, "exec: No such file");
    corral_task_cleanup(&t);
}

static void task_cancel_queued_is_final_at_once(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    step(&t, CORRAL_EV_CANCEL, T0 + 4);
    assert_int_equal(t.state, CORRAL_STATE_CANCELLED);
    assert_true(t.finished_at_ms == T0 + 4);
    corral_task_cleanup(&t);
}

static void task_cancel_running_goes_through_cancelling(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 3);
    step(&t, CORRAL_EV_CANCEL, T0 + 4);
    assert_int_equal(t.state, CORRAL_STATE_CANCELLING);
    assert_false(corral_state_is_final(t.state));
    struct corral_transition_ctx ctx = {
        .now_ms = T0 + 5, .has_exit_code = true, .exit_code = -15, .output = "bye"};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_CANCELLED, &ctx, NULL), CORRAL_OK);
    assert_int_equal(t.state, CORRAL_STATE_CANCELLED);
    assert_true(t.finished_at_ms == T0 + 5);
    assert_int_equal(t.exit_code, -15);
    assert_string_equal(t.output, "bye");
    corral_task_cleanup(&t);
}

static void task_worker_lost_while_cancelling_cancels(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_CANCELLING, 3);
    step(&t, CORRAL_EV_WORKER_LOST, T0 + 6);
    assert_int_equal(t.state, CORRAL_STATE_CANCELLED);
    assert_int_equal(t.n_history, 0);
    assert_int_equal(t.attempt, 1);
    corral_task_cleanup(&t);
}

/* ---- JSON ---- */

/* A task with every field set, for round trips. */
static void rich_task(struct corral_task *t)
{
    new_task(t, 3);
    step(t, CORRAL_EV_ASSIGN, T0 + 1);
    step(t, CORRAL_EV_START, T0 + 2);
    struct corral_transition_ctx fail = {
        .now_ms = T0 + 3, .has_exit_code = true, .exit_code = 2, .error = "bad", .output = "x"};
    assert_int_equal(corral_task_transition(t, CORRAL_EV_FAIL, &fail, NULL), CORRAL_OK);
    step(t, CORRAL_EV_ASSIGN, T0 + 4);
    step(t, CORRAL_EV_RETURN, T0 + 5);
    step(t, CORRAL_EV_ASSIGN, T0 + 6);
    step(t, CORRAL_EV_START, T0 + 7);
    struct corral_transition_ctx ok = {.now_ms = T0 + 8,
                                       .has_exit_code = true,
                                       .exit_code = 0,
                                       .output = "line 1\nline \"2\" \xc3\xa9\n"};
    assert_int_equal(corral_task_transition(t, CORRAL_EV_SUCCEED, &ok, NULL), CORRAL_OK);
    t->not_before_ms = T0 + 99;
}

static void task_json_has_the_contract_shape(void **state)
{
    (void)state;
    struct corral_task t;
    rich_task(&t);
    json_t *j = corral_task_to_json(&t);
    static const char *const keys[] = {"id",          "name",      "state",        "spec",
                                       "attempt",     "worker",    "submitted_at", "started_at",
                                       "finished_at", "exit_code", "error",        "output",
                                       "epoch",       "history",   "not_before"};
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        assert_true(i < sizeof(keys) / sizeof(*keys));
        assert_string_equal(key, keys[i]);
        i++;
    }
    assert_int_equal(i, sizeof(keys) / sizeof(*keys));
    assert_string_equal(json_string_value(json_object_get(j, "state")), "succeeded");
    assert_string_equal(json_string_value(json_object_get(j, "submitted_at")),
                        "2026-11-24T08:52:52.123Z");
    assert_true(json_is_null(json_object_get(j, "name")));
    assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "epoch")), 7);
    json_t *hist = json_object_get(j, "history");
    assert_int_equal(json_array_size(hist), 2);
    json_t *h0 = json_array_get(hist, 0);
    static const char *const hkeys[] = {"attempt",     "worker",  "epoch",    "started_at",
                                        "finished_at", "outcome", "exit_code"};
    i = 0;
    json_object_foreach(h0, key, v)
    {
        assert_string_equal(key, hkeys[i]);
        i++;
    }
    assert_int_equal(i, 7);
    assert_string_equal(json_string_value(json_object_get(h0, "outcome")), "failed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 1), "outcome")),
                        "returned");
    assert_true(json_is_object(json_object_get(j, "spec")));
    json_decref(j);
    corral_task_cleanup(&t);
}

static void task_json_of_new_task_has_nulls_and_empty_output(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    json_t *j = corral_task_to_json(&t);
    static const char *const nulls[] = {"worker",    "started_at", "finished_at",
                                        "exit_code", "error",      "not_before"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
        assert_true(json_is_null(json_object_get(j, nulls[i])));
    assert_string_equal(json_string_value(json_object_get(j, "output")), "");
    assert_int_equal(json_array_size(json_object_get(j, "history")), 0);
    json_decref(j);
    corral_task_cleanup(&t);
}

static void task_render_and_parse_round_trip_exactly(void **state)
{
    (void)state;
    for (int s = -1; s < CORRAL_STATE_COUNT; s++) {
        struct corral_task t = {0};
        if (s < 0)
            rich_task(&t);
        else
            task_in_state(&t, (enum corral_state)s, 3);
        char *text = corral_task_render(&t);
        struct corral_task back = {0};
        struct corral_error err = {0};
        if (corral_task_parse(text, strlen(text), &back, &err))
            fail_msg("parse of %s: %s", text, err.msg);
        char *again = corral_task_render(&back);
        assert_string_equal(text, again);
        assert_int_equal(back.state, t.state);
        assert_int_equal(back.n_history, t.n_history);
        assert_true(back.not_before_ms == t.not_before_ms);
        free(text);
        free(again);
        corral_task_cleanup(&back);
        corral_task_cleanup(&t);
    }
}

static void task_parse_accepts_missing_not_before_and_name(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    json_t *j = corral_task_to_json(&t);
    json_object_del(j, "not_before");
    json_object_del(j, "name");
    char *text = json_dumps(j, JSON_COMPACT);
    struct corral_task back = {0};
    assert_int_equal(corral_task_parse(text, strlen(text), &back, NULL), CORRAL_OK);
    assert_true(back.not_before_ms == 0);
    corral_task_cleanup(&back);
    free(text);
    json_decref(j);
    corral_task_cleanup(&t);
}

static void expect_parse_fails(const char *text)
{
    struct corral_task t = {0};
    struct corral_error err = {0};
    int rc = corral_task_parse(text, strlen(text), &t, &err);
    if (rc != CORRAL_EINVAL)
        fail_msg("accepted: %s", text);
    assert_int_equal(err.code, CORRAL_EINVAL);
    static const struct corral_task zero;
    assert_memory_equal(&t, &zero, sizeof(zero));
}

static void task_parse_rejects_every_truncation(void **state)
{
    (void)state;
    struct corral_task t;
    rich_task(&t);
    char *text = corral_task_render(&t);
    size_t n = strlen(text);
    for (size_t len = 0; len < n; len++) {
        char saved = text[len];
        text[len] = '\0';
        expect_parse_fails(text);
        text[len] = saved;
    }
    free(text);
    corral_task_cleanup(&t);
}

static void task_parse_rejects_each_missing_required_key(void **state)
{
    (void)state;
    struct corral_task t;
    rich_task(&t);
    json_t *j = corral_task_to_json(&t);
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (strcmp(key, "name") == 0 || strcmp(key, "not_before") == 0)
            continue;
        json_t *copy = json_deep_copy(j);
        json_object_del(copy, key);
        char *text = json_dumps(copy, JSON_COMPACT);
        expect_parse_fails(text);
        free(text);
        json_decref(copy);
    }
    json_decref(j);
    corral_task_cleanup(&t);
}

static void task_parse_rejects_bad_values(void **state)
{
    (void)state;
    struct corral_task t;
    rich_task(&t);
    json_t *j = corral_task_to_json(&t);
    struct {
        const char *key;
        json_t *value;
    } bad[] = {
        {"id", json_string("not-an-id")},
        {"id", json_integer(1)},
        {"state", json_string("sleeping")},
        {"spec", json_pack("{s:i}", "priority", 1)},
        {"spec", json_string("x")},
        {"attempt", json_integer(0)},
        {"attempt", json_real(1.5)},
        {"worker", json_integer(3)},
        {"submitted_at", json_null()},
        {"submitted_at", json_string("yesterday")},
        {"started_at", json_string("2026-11-24T08:52:52.123")},
        {"exit_code", json_string("0")},
        {"exit_code", json_integer(INT64_C(1) << 40)},
        {"error", json_false()},
        {"output", json_null()},
        {"epoch", json_integer(-1)},
        {"history", json_object()},
        {"history", json_pack("[i]", 1)},
        {"history", json_pack("[{s:i}]", "attempt", 1)},
        {"not_before", json_string("soon")},
        {"history_omitted", json_integer(0)}, /* absent when 0, so 0 is not what corral wrote */
        {"history_omitted", json_integer(-3)},
        {"history_omitted", json_string("7")},
        {"history_omitted", json_null()},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        json_t *copy = json_deep_copy(j);
        json_object_set_new(copy, bad[i].key, bad[i].value);
        char *text = json_dumps(copy, JSON_COMPACT);
        expect_parse_fails(text);
        free(text);
        json_decref(copy);
    }
    expect_parse_fails("");
    expect_parse_fails("[]");
    expect_parse_fails("null");
    expect_parse_fails("{}");
    expect_parse_fails("{\"id\": \"019a1b2c3d4e-9f8e7d6c\", \"id\": \"019a1b2c3d4e-9f8e7d6c\"}");
    json_decref(j);
    corral_task_cleanup(&t);
}

static void task_render_prints_fractional_cpu_short(void **state)
{
    (void)state;
    struct corral_task t;
    new_task(&t, 3);
    t.spec.cpu_milli = 100;
    char *text = corral_task_render(&t);
    assert_non_null(strstr(text, "\"resources\":{\"cpu\":0.1,\"mem_mb\":0}"));
    struct corral_task back = {0};
    assert_int_equal(corral_task_parse(text, strlen(text), &back, NULL), CORRAL_OK);
    assert_int_equal(back.spec.cpu_milli, 100);
    corral_task_cleanup(&back);
    free(text);
    corral_task_cleanup(&t);
}

static void task_output_with_invalid_utf8_still_renders_valid_json(void **state)
{
    (void)state;
    struct corral_task t;
    task_in_state(&t, CORRAL_STATE_RUNNING, 3);
    /* Through the transition: stored repaired. */
    struct corral_transition_ctx ctx = {.now_ms = T0 + 9, .output = "ok\xff\xfe end"};
    assert_int_equal(corral_task_transition(&t, CORRAL_EV_SUCCEED, &ctx, NULL), CORRAL_OK);
    assert_string_equal(t.output, "ok\xEF\xBF\xBD\xEF\xBF\xBD end");
    /* Set directly by a careless caller: to_json still repairs. */
    free(t.output);
    t.output = strdup("bad \xc3");
    free(t.error);
    t.error = strdup("err \xed\xa0\x80");
    char *text = corral_task_render(&t);
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "output")), "bad \xEF\xBF\xBD");
    json_decref(j);
    free(text);
    corral_task_cleanup(&t);
}

/* ---- names ---- */

static void task_names_come_from_the_tables(void **state)
{
    (void)state;
    for (int s = 0; s < CORRAL_STATE_COUNT; s++)
        assert_int_equal(corral_state_parse(corral_state_name((enum corral_state)s)), s);
    assert_int_equal(corral_state_parse("sleeping"), -1);
    assert_int_equal(corral_state_parse(NULL), -1);
    assert_string_equal(corral_state_name(CORRAL_STATE_CANCELLING), "cancelling");
    assert_string_equal(corral_outcome_name(CORRAL_OUTCOME_WORKER_LOST), "worker_lost");
    assert_string_equal(corral_outcome_name(CORRAL_OUTCOME_TIMED_OUT), "timed_out");
    assert_string_equal(corral_event_name(CORRAL_EV_RETURN), "return");
    assert_string_equal(corral_state_name(CORRAL_STATE_COUNT), "unknown");
    assert_true(corral_state_is_final(CORRAL_STATE_SUCCEEDED));
    assert_true(corral_state_is_final(CORRAL_STATE_FAILED));
    assert_true(corral_state_is_final(CORRAL_STATE_CANCELLED));
    assert_false(corral_state_is_final(CORRAL_STATE_QUEUED));
}

static void task_cleanup_works_on_zeroed_struct(void **state)
{
    (void)state;
    struct corral_task t = {0};
    corral_task_cleanup(&t);
    corral_task_cleanup(&t);
    corral_task_cleanup(NULL);
}

/* ---- retry backoff ---- */

static void fail_with_jitter(struct corral_task *t, enum corral_event ev, int64_t now,
                             uint32_t jitter)
{
    struct corral_transition_ctx ctx = {
        .now_ms = now, .worker = "w1", .epoch = 7, .jitter = jitter, .error = "boom"};
    assert_int_equal(corral_task_transition(t, ev, &ctx, NULL), CORRAL_OK);
}

static void task_retry_backoff_doubles_with_equal_jitter(void **state)
{
    (void)state;
    struct corral_task t = {0};
    new_task(&t, 5); /* retry_backoff_s defaults to 1 */
    step(&t, CORRAL_EV_ASSIGN, T0);
    step(&t, CORRAL_EV_START, T0);
    fail_with_jitter(&t, CORRAL_EV_FAIL, T0 + 10, 0);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.not_before_ms, T0 + 10 + 500); /* 1 s, jitter 0: the fixed half */
    step(&t, CORRAL_EV_ASSIGN, T0 + 600);
    assert_int_equal(t.not_before_ms, 0); /* an assignment clears it */
    step(&t, CORRAL_EV_START, T0 + 600);
    fail_with_jitter(&t, CORRAL_EV_TIMEOUT, T0 + 700, UINT32_MAX);
    /* second failure: 2 s, jitter at its maximum gives almost all of it */
    assert_in_range(t.not_before_ms, T0 + 700 + 1999, T0 + 700 + 2000);
    corral_task_cleanup(&t);
}

static void task_retry_backoff_is_capped(void **state)
{
    (void)state;
    const char *text =
        "{\"command\": [\"true\"], \"max_attempts\": 100, \"retry_backoff_s\": 3600}";
    struct corral_spec spec = {0};
    assert_int_equal(corral_spec_parse(text, strlen(text), &spec, NULL), CORRAL_OK);
    struct corral_task t = {0};
    corral_task_init_new(&t, TASK_ID, &spec, T0);
    for (int i = 0; i < 20; i++) {
        step(&t, CORRAL_EV_ASSIGN, T0);
        step(&t, CORRAL_EV_START, T0);
        fail_with_jitter(&t, CORRAL_EV_FAIL, T0, UINT32_MAX);
        assert_true(t.not_before_ms - T0 <= (int64_t)CORRAL_RETRY_DELAY_CAP_MS);
    }
    assert_true(t.not_before_ms - T0 >= (int64_t)CORRAL_RETRY_DELAY_CAP_MS - 1);
    corral_task_cleanup(&t);
}

static void init_from(struct corral_task *t, const char *spec_text, int64_t now)
{
    struct corral_spec spec = {0};
    assert_int_equal(corral_spec_parse(spec_text, strlen(spec_text), &spec, NULL), CORRAL_OK);
    corral_task_init_new(t, TASK_ID, &spec, now);
}

static void task_delayed_is_scheduled_until_its_due_time(void **state)
{
    (void)state;
    struct corral_task t;
    init_from(&t, "{\"command\": [\"true\"], \"delay_s\": 2.5}", T0);
    assert_int_equal(t.state, CORRAL_STATE_SCHEDULED);
    assert_int_equal(t.not_before_ms, T0 + 2500);
    assert_int_equal(corral_task_due_ms(&t.spec, t.submitted_at_ms), T0 + 2500);
    /* Stored and read back as it is. */
    char *text = corral_task_render(&t);
    assert_non_null(strstr(text, "\"state\":\"scheduled\""));
    assert_non_null(strstr(text, "\"not_before\":\"2026-11-24T08:52:54.623Z\""));
    struct corral_task back = {0};
    assert_int_equal(corral_task_parse(text, strlen(text), &back, NULL), CORRAL_OK);
    assert_int_equal(back.state, CORRAL_STATE_SCHEDULED);
    assert_int_equal(back.not_before_ms, T0 + 2500);
    assert_true(back.spec.has_delay);
    free(text);
    corral_task_cleanup(&back);
    /* Nobody assigns or starts it early; the leader releases it, keeping the due time so that
     * its queue entry's name does not change. */
    assert_false(corral_task_can(CORRAL_STATE_SCHEDULED, CORRAL_EV_ASSIGN));
    step(&t, CORRAL_EV_RELEASE, T0 + 2600);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.not_before_ms, T0 + 2500);
    assert_int_equal(t.attempt, 1);
    assert_int_equal(t.n_history, 0);
    step(&t, CORRAL_EV_ASSIGN, T0 + 2700);
    assert_int_equal(t.not_before_ms, 0);
    corral_task_cleanup(&t);
}

static void task_run_at_future_past_and_zero_delay(void **state)
{
    (void)state;
    struct corral_task t;
    /* One hour after T0 (08:52:52.123Z), given in New York's winter offset. */
    init_from(&t, "{\"command\": [\"true\"], \"run_at\": \"2026-11-24T04:52:52.123-05:00\"}", T0);
    assert_int_equal(t.state, CORRAL_STATE_SCHEDULED);
    assert_int_equal(t.not_before_ms, T0 + 3600000);
    corral_task_cleanup(&t);
    /* A time in the past, or a delay of 0: queued at once, no due time. */
    init_from(&t, "{\"command\": [\"true\"], \"run_at\": \"2026-11-24T08:52:52Z\"}", T0);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.not_before_ms, 0);
    corral_task_cleanup(&t);
    init_from(&t, "{\"command\": [\"true\"], \"delay_s\": 0}", T0);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.not_before_ms, 0);
    corral_task_cleanup(&t);
}

static void task_scheduled_cancel_is_final_at_once(void **state)
{
    (void)state;
    struct corral_task t;
    init_from(&t, "{\"command\": [\"true\"], \"delay_s\": 60}", T0);
    step(&t, CORRAL_EV_CANCEL, T0 + 10);
    assert_int_equal(t.state, CORRAL_STATE_CANCELLED);
    assert_int_equal(t.finished_at_ms, T0 + 10);
    assert_true(corral_state_is_final(t.state));
    corral_task_cleanup(&t);
}

static void task_worker_lost_requeues_without_backoff(void **state)
{
    (void)state;
    struct corral_task t = {0};
    new_task(&t, 3);
    step(&t, CORRAL_EV_ASSIGN, T0);
    step(&t, CORRAL_EV_START, T0);
    fail_with_jitter(&t, CORRAL_EV_WORKER_LOST, T0 + 5, 12345);
    assert_int_equal(t.state, CORRAL_STATE_QUEUED);
    assert_int_equal(t.not_before_ms, 0);
    corral_task_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(task_transition_table_matches_every_pair_with_attempts_left),
        cmocka_unit_test(task_transition_table_matches_every_pair_on_last_attempt),
        cmocka_unit_test(task_can_rejects_out_of_range_values),
        cmocka_unit_test(task_init_new_is_queued_attempt_one_and_takes_the_spec),
        cmocka_unit_test(task_assign_sets_worker_epoch_and_clears_last_result),
        cmocka_unit_test(task_assign_without_worker_is_invalid_and_changes_nothing),
        cmocka_unit_test(task_succeed_records_finish_exit_code_and_output),
        cmocka_unit_test(task_retries_until_max_attempts_then_fails),
        cmocka_unit_test(task_requeue_clears_worker_epoch_and_times),
        cmocka_unit_test(task_timeout_records_outcome_and_message),
        cmocka_unit_test(task_return_does_not_count_an_attempt),
        cmocka_unit_test(task_history_stays_bounded_under_10000_returns),
        cmocka_unit_test(task_history_keeps_every_counted_attempt_among_many_returns),
        cmocka_unit_test(task_retries_without_returns_keep_all_attempts),
        cmocka_unit_test(task_overlong_stored_history_is_trimmed_at_the_next_return),
        cmocka_unit_test(task_fail_from_assigned_is_a_spawn_failure),
        cmocka_unit_test(task_cancel_queued_is_final_at_once),
        cmocka_unit_test(task_cancel_running_goes_through_cancelling),
        cmocka_unit_test(task_worker_lost_while_cancelling_cancels),
        cmocka_unit_test(task_json_has_the_contract_shape),
        cmocka_unit_test(task_json_of_new_task_has_nulls_and_empty_output),
        cmocka_unit_test(task_render_and_parse_round_trip_exactly),
        cmocka_unit_test(task_parse_accepts_missing_not_before_and_name),
        cmocka_unit_test(task_parse_rejects_every_truncation),
        cmocka_unit_test(task_parse_rejects_each_missing_required_key),
        cmocka_unit_test(task_parse_rejects_bad_values),
        cmocka_unit_test(task_render_prints_fractional_cpu_short),
        cmocka_unit_test(task_output_with_invalid_utf8_still_renders_valid_json),
        cmocka_unit_test(task_names_come_from_the_tables),
        cmocka_unit_test(task_cleanup_works_on_zeroed_struct),
        cmocka_unit_test(task_retry_backoff_doubles_with_equal_jitter),
        cmocka_unit_test(task_retry_backoff_is_capped),
        cmocka_unit_test(task_worker_lost_requeues_without_backoff),
        cmocka_unit_test(task_delayed_is_scheduled_until_its_due_time),
        cmocka_unit_test(task_run_at_future_past_and_zero_delay),
        cmocka_unit_test(task_scheduled_cancel_is_final_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
