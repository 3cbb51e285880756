/* SPDX-License-Identifier: MIT */
/*
 * Draining (agent_internal.h, CONTRACT "corral-worker"): on SIGTERM/SIGINT the worker marks
 * itself draining (the leader assigns it nothing more), returns what it has not started, lets
 * running tasks finish for --drain-timeout, then stops them and returns them to the queue
 * (RETURN costs no attempt), and exits once everything is reported or a last deadline passed.
 */
#include <stdint.h>

#include "io/log.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

void agent_begin_drain(struct agent *a, int64_t now, int sig)
{
    if (a->draining) {
        CORRAL_LOG(CORRAL_LOG_INFO, "second signal %d: stopping running tasks now", sig);
        a->drain_deadline_ms = now;
        return;
    }
    a->draining = true;
    a->drain_written = false;
    a->drain_reconciled = false;
    a->need_reconcile = true;
    a->drain_deadline_ms = now + (int64_t)a->cfg->drain_timeout_s * 1000;
    int64_t extra = 2 * (int64_t)a->timeout_ms;
    if (extra < DRAIN_EXTRA_MIN_MS)
        extra = DRAIN_EXTRA_MIN_MS;
    a->drain_give_up_ms = a->drain_deadline_ms + SUP_KILL_GRACE_MS + extra;
    CORRAL_LOG(CORRAL_LOG_INFO, "signal %d: draining, running=%zu drain_timeout_s=%u", sig,
               agent_running_count(a), a->cfg->drain_timeout_s);
}

void agent_drain_tick(struct agent *a, int64_t now)
{
    if (!a->drain_killed && now >= a->drain_deadline_ms) {
        a->drain_killed = true;
        for (size_t i = 0; i < a->n_locals; i++) {
            struct local *l = a->locals[i];
            if (!l->dropped && !l->run.done) {
                l->returning = true;
                CORRAL_LOG(CORRAL_LOG_INFO, "task=%s drain timeout: stopping it", l->id);
                runner_cancel(&l->run);
            }
        }
    }
    bool returned = a->drain_reconciled || !a->registered;
    if (a->n_locals == 0 && returned) {
        a->stop = true;
    } else if (now >= a->drain_give_up_ms) {
        CORRAL_LOG(CORRAL_LOG_WARN,
                   "drain: %zu tasks not reported in time; the leader will requeue them",
                   a->n_locals);
        a->stop = true;
    }
}
