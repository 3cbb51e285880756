/* SPDX-License-Identifier: MIT */
/* What the end of an attempt means (corral/result.h): every run outcome, the "not ours" cases,
 * a cancel racing a result, and the leader's decision for a lost worker's assignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "corral/result.h"

static struct corral_task running(void)
{
    static char w1[] = "w1";
    struct corral_task t = {.state = CORRAL_STATE_RUNNING, .attempt = 2, .worker = w1};
    return t;
}

static enum corral_event decide(const struct corral_task *t, struct corral_run_result *res,
                                bool returning, bool *ours, struct corral_transition_ctx *ctx,
                                char *buf, size_t n)
{
    struct corral_attempt_end end = {
        .worker = "w1", .attempt = 2, .returning = returning, .res = res};
    enum corral_event ev = CORRAL_EV_COUNT;
    memset(ctx, 0, sizeof *ctx);
    *ours = corral_result_decide(t, &end, &ev, ctx, buf, n);
    return ev;
}

static void outcomes_map_to_events(void **state)
{
    (void)state;
    struct corral_task t = running();
    struct corral_transition_ctx ctx;
    char buf[300];
    bool ours;
    struct corral_run_result r = {.outcome = CORRAL_RUN_EXITED, .exit_code = 0};
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_SUCCEED);
    assert_true(ours);
    assert_true(ctx.has_exit_code);
    assert_null(ctx.error); /* a success carries no error */
    r.exit_code = 3;
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_FAIL);
    assert_string_equal(ctx.error, "exit code 3");
    assert_int_equal(ctx.exit_code, 3);
    r = (struct corral_run_result){.outcome = CORRAL_RUN_SIGNALED, .signal = 9};
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_FAIL);
    assert_string_equal(ctx.error, "killed by signal 9");
    r.outcome = CORRAL_RUN_TIMED_OUT;
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_TIMEOUT);
    r.outcome = CORRAL_RUN_LEASE_EXPIRED;
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_WORKER_LOST);
    r.outcome = CORRAL_RUN_SPAWN_FAILED;
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_FAIL);
    assert_string_equal(ctx.error, "could not start");
    r.outcome = CORRAL_RUN_CANCELLED; /* killed by us, no cancel in the task: drain */
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_RETURN);
}

static void http_tasks_report_the_supervisors_error(void **state)
{
    (void)state;
    struct corral_task t = running();
    struct corral_run_result r = {.outcome = CORRAL_RUN_EXITED, .exit_code = 1};
    snprintf(r.error, sizeof r.error, "HTTP 500");
    struct corral_attempt_end end = {.worker = "w1", .attempt = 2, .is_http = true, .res = &r};
    struct corral_transition_ctx ctx = {0};
    char buf[300];
    enum corral_event ev;
    assert_true(corral_result_decide(&t, &end, &ev, &ctx, buf, sizeof buf));
    assert_int_equal(ev, CORRAL_EV_FAIL);
    assert_false(ctx.has_exit_code);
    assert_string_equal(ctx.error, "HTTP 500");
}

static void returning_or_unstarted_is_return(void **state)
{
    (void)state;
    struct corral_task t = running();
    struct corral_transition_ctx ctx;
    char buf[300];
    bool ours;
    struct corral_run_result r = {.outcome = CORRAL_RUN_EXITED};
    assert_int_equal(decide(&t, &r, true, &ours, &ctx, buf, sizeof buf), CORRAL_EV_RETURN);
    assert_int_equal(decide(&t, NULL, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_RETURN);
    t.state = CORRAL_STATE_ASSIGNED; /* never started: hand it back */
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_RETURN);
}

static void a_cancel_wins_the_race(void **state)
{
    (void)state;
    struct corral_task t = running();
    t.state = CORRAL_STATE_CANCELLING;
    struct corral_transition_ctx ctx;
    char buf[300];
    bool ours;
    struct corral_run_result r = {.outcome = CORRAL_RUN_EXITED};
    assert_int_equal(decide(&t, &r, false, &ours, &ctx, buf, sizeof buf), CORRAL_EV_CANCELLED);
    assert_true(ours);
}

static void another_attempt_or_worker_is_not_ours(void **state)
{
    (void)state;
    struct corral_transition_ctx ctx;
    char buf[300];
    bool ours;
    struct corral_run_result r = {.outcome = CORRAL_RUN_EXITED};
    struct corral_task t = running();
    t.attempt = 3; /* the leader gave it a new attempt meanwhile */
    (void)decide(&t, &r, false, &ours, &ctx, buf, sizeof buf);
    assert_false(ours);
    t = running();
    char w2[] = "w2";
    t.worker = w2;
    (void)decide(&t, &r, false, &ours, &ctx, buf, sizeof buf);
    assert_false(ours);
    t = running();
    t.state = CORRAL_STATE_QUEUED;
    (void)decide(&t, &r, false, &ours, &ctx, buf, sizeof buf);
    assert_false(ours);
    t.state = CORRAL_STATE_SUCCEEDED;
    (void)decide(&t, &r, false, &ours, &ctx, buf, sizeof buf);
    assert_false(ours);
}

static void lost_worker_requeues_only_its_own_unfinished_task(void **state)
{
    (void)state;
    struct corral_task t = running();
    assert_int_equal(corral_lost_decide(&t, "w1"), CORRAL_LOST_REQUEUE);
    assert_int_equal(corral_lost_decide(&t, "w2"), CORRAL_LOST_DROP_ASSIGNMENT);
    t.state = CORRAL_STATE_CANCELLING;
    assert_int_equal(corral_lost_decide(&t, "w1"), CORRAL_LOST_REQUEUE);
    t.state = CORRAL_STATE_FAILED;
    assert_int_equal(corral_lost_decide(&t, "w1"), CORRAL_LOST_DROP_ASSIGNMENT);
    assert_int_equal(corral_lost_decide(NULL, "w1"), CORRAL_LOST_DROP_ASSIGNMENT);
}

static void outcome_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < CORRAL_RUN_OUTCOME_COUNT; i++)
        assert_int_equal(
            corral_run_outcome_parse(corral_run_outcome_name((enum corral_run_outcome)i)), i);
    assert_int_equal(corral_run_outcome_parse("exploded"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcomes_map_to_events),
        cmocka_unit_test(http_tasks_report_the_supervisors_error),
        cmocka_unit_test(returning_or_unstarted_is_return),
        cmocka_unit_test(a_cancel_wins_the_race),
        cmocka_unit_test(another_attempt_or_worker_is_not_ours),
        cmocka_unit_test(lost_worker_requeues_only_its_own_unfinished_task),
        cmocka_unit_test(outcome_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
