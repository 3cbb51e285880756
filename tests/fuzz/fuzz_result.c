/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target "result": what a worker decides at the end of an attempt (corral_result_decide)
 * from a task read back from ZooKeeper and the supervisor's result. Input: 8 bytes of result
 * (outcome, exit code, signal, HTTP status, flags), a line with the supervisor's error text,
 * then the task JSON. Invariant: an event the decision picks is legal for the task and applies.
 */
#include "corral/result.h"
#include "corral/task.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    struct corral_run_result res = {
        .outcome = (enum corral_run_outcome)(data[0] % CORRAL_RUN_OUTCOME_COUNT),
        .has_exit_code = data[1] & 1u,
        .exit_code = (int8_t)data[2],
        .signal = data[3] % 65u,
        .http_status = (int)data[4] * 4,
    };
    bool returning = data[5] & 1u, is_http = data[5] & 2u, no_res = data[5] & 4u;
    uint32_t attempt = data[6] % 4u;
    const char *worker = data[7] & 1u ? "w1" : "w2";
    const uint8_t *rest;
    size_t rest_len;
    char *error = fuzz_split(data + 8, size - 8, &rest, &rest_len);
    snprintf(res.error, sizeof res.error, "%s", error);
    free(error);
    (void)corral_run_outcome_parse(res.error);

    struct corral_task t = {0};
    struct corral_error err = {0};
    if (corral_task_parse((const char *)rest, rest_len, &t, &err) == CORRAL_OK) {
        struct corral_attempt_end end = {.worker = worker,
                                         .attempt = attempt ? attempt : t.attempt,
                                         .is_http = is_http,
                                         .returning = returning,
                                         .res = no_res ? NULL : &res};
        enum corral_event ev = CORRAL_EV_COUNT;
        struct corral_transition_ctx ctx = {.now_ms = INT64_C(1800000000000), .jitter = 7};
        char errbuf[300];
        if (corral_result_decide(&t, &end, &ev, &ctx, errbuf, sizeof errbuf)) {
            FUZZ_CHECK(ev < CORRAL_EV_COUNT && corral_task_can(t.state, ev));
            FUZZ_CHECK(strlen(errbuf) < sizeof errbuf);
            FUZZ_CHECK(corral_task_transition(&t, ev, &ctx, &err) == CORRAL_OK);
            free(corral_task_render(&t));
        }
        (void)corral_lost_decide(&t, worker);
    }
    (void)corral_lost_decide(NULL, worker);
    corral_task_cleanup(&t);
    return 0;
}
