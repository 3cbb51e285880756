/* SPDX-License-Identifier: MIT */
/* What the end of an attempt means (result.h). */
#include <stdio.h>
#include <string.h>

#include "corral/result.h"

static const char *const outcome_names[] = {
#define CORRAL_X_NAME(e, s) [e] = s,
    CORRAL_RUN_OUTCOMES(CORRAL_X_NAME)
#undef CORRAL_X_NAME
};

const char *corral_run_outcome_name(enum corral_run_outcome o)
{
    return (unsigned)o < CORRAL_RUN_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

int corral_run_outcome_parse(const char *s)
{
    for (int i = 0; s && i < CORRAL_RUN_OUTCOME_COUNT; i++)
        if (strcmp(outcome_names[i], s) == 0)
            return i;
    return -1;
}

bool corral_result_decide(const struct corral_task *t, const struct corral_attempt_end *end,
                          enum corral_event *ev, struct corral_transition_ctx *ctx, char *errbuf,
                          size_t n)
{
    errbuf[0] = '\0';
    /* A cancel won the race against the result: whatever happened, the user asked to stop. */
    if (t->state == CORRAL_STATE_CANCELLING) {
        *ev = CORRAL_EV_CANCELLED;
        return true;
    }
    if (t->state != CORRAL_STATE_ASSIGNED && t->state != CORRAL_STATE_RUNNING)
        return false;
    if (!t->worker || !end->worker || strcmp(t->worker, end->worker) != 0 ||
        t->attempt != end->attempt)
        return false;
    if (t->state == CORRAL_STATE_ASSIGNED || end->returning || !end->res) {
        *ev = CORRAL_EV_RETURN;
        return true;
    }
    const struct corral_run_result *r = end->res;
    switch (r->outcome) {
        case CORRAL_RUN_EXITED:
            *ev = r->exit_code == 0 ? CORRAL_EV_SUCCEED : CORRAL_EV_FAIL;
            if (end->is_http) {
                snprintf(errbuf, n, "%s", r->error);
            } else {
                ctx->has_exit_code = true;
                ctx->exit_code = r->exit_code;
                snprintf(errbuf, n, "exit code %d", r->exit_code);
            }
            break;
        case CORRAL_RUN_SIGNALED:
            *ev = CORRAL_EV_FAIL;
            snprintf(errbuf, n, "killed by signal %d", r->signal);
            break;
        case CORRAL_RUN_TIMED_OUT:
            *ev = CORRAL_EV_TIMEOUT;
            break;
        case CORRAL_RUN_SPAWN_FAILED:
        case CORRAL_RUN_LOST:
            *ev = CORRAL_EV_FAIL;
            snprintf(errbuf, n, "%s", r->error[0] ? r->error : "could not start");
            break;
        case CORRAL_RUN_LEASE_EXPIRED:
            *ev = CORRAL_EV_WORKER_LOST;
            snprintf(errbuf, n, "worker lost contact with ZooKeeper; task killed");
            break;
        case CORRAL_RUN_CANCELLED:
        default:
            /* Killed by us without a cancel in the task (drain, worker shutting down). */
            *ev = CORRAL_EV_RETURN;
            break;
    }
    if (*ev != CORRAL_EV_SUCCEED && errbuf[0])
        ctx->error = errbuf;
    return true;
}

enum corral_lost_action corral_lost_decide(const struct corral_task *t, const char *worker)
{
    if (!t || !t->worker || !worker || strcmp(t->worker, worker) != 0 ||
        corral_state_is_final(t->state))
        return CORRAL_LOST_DROP_ASSIGNMENT;
    return CORRAL_LOST_REQUEUE;
}
