/* SPDX-License-Identifier: MIT */
/*
 * The worker's assignments (agent_internal.h): reconcile assign/<id>/<task> with what runs here,
 * start what is new (the start write is agent_finish.c's), stop what was taken back, notice a
 * cancel in a running task's assignment (format: corral/assignment.h). Assignments made for
 * another registration, or malformed, are left to the leader and remembered as ignored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/assignment.h"
#include "corral/id.h"
#include "corral/paths.h"
#include "corral/strlist.h"
#include "io/clock.h"
#include "io/log.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

static void start_supervisor(struct agent *a, const struct corral_task *t)
{
    struct local *l = agent_add_local(a);
    snprintf(l->id, sizeof l->id, "%s", t->id);
    l->attempt = t->attempt;
    l->epoch = t->epoch;
    l->is_http = t->spec.has_http;
    struct corral_error err = {0};
    /* Starting many tasks in one round can take longer than the lease while the loop is busy:
     * publish the contact we just had (the start multi) before the supervisor checks it. */
    runner_set_lease(a->runner, zk_last_rx_ms(a->zk), agent_lease_ms(a));
    if (runner_start(a->runner, &l->run, t->id, t->attempt, t->epoch, &t->spec, &err)) {
        /* Report it like an exec failure: the attempt fails and may be retried elsewhere. */
        CORRAL_LOG(CORRAL_LOG_ERROR, "task=%s cannot start a supervisor: %s", t->id, err.msg);
        l->run.done = true;
        l->run.has_result = true;
        l->run.result.outcome = CORRAL_RUN_SPAWN_FAILED;
        snprintf(l->run.result.error, sizeof l->run.result.error, "worker: %s", err.msg);
        l->result_ready = true;
        return;
    }
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u supervisor pid=%ld", t->id, t->attempt,
               (long)l->run.pid);
}

/* A child of assign/<me> we do not run yet. */
static void handle_assignment(struct agent *a, const char *name)
{
    char p_assign[CORRAL_PATH_MAX], p_task[CORRAL_PATH_MAX];
    if (!corral_id_is_valid(name) || !agent_assign_path(a, name, p_assign, sizeof p_assign) ||
        corral_path_task(p_task, sizeof p_task, a->cfg->ns, name) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "ignoring odd assignment name=%s", name);
        corral_strlist_add(&a->ignored, name);
        return;
    }
    struct corral_error err = {0};
    char *data = NULL;
    size_t len = 0;
    /* The data watch is how a cancel reaches us. */
    int rc = zk_get(a->zk, p_assign, true, &data, &len, NULL, &err);
    if (rc) {
        if (rc != CORRAL_ENOTFOUND)
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assignment %s: %s", name, err.msg);
        return;
    }
    struct corral_assignment as;
    bool ok = corral_assignment_decode(data, len, &as, &err) == CORRAL_OK;
    free(data);
    if (!ok || strcmp(as.task, name) != 0) {
        CORRAL_LOG(CORRAL_LOG_WARN, "ignoring malformed assignment task=%s: %s", name,
                   ok ? "names another task" : err.msg);
        corral_strlist_add(&a->ignored, name);
        return;
    }
    if (strcmp(as.reg, a->reg) != 0) {
        /* Made for an earlier registration of this id: the leader requeues those. */
        CORRAL_LOG(CORRAL_LOG_DEBUG, "ignoring assignment task=%s of reg=%s (ours is %s)", name,
                   as.reg, a->reg);
        corral_strlist_add(&a->ignored, name);
        return;
    }

    for (int tries = 0; tries < CONFLICT_RETRIES; tries++) {
        int32_t version = 0;
        corral_error_clear(&err);
        rc = zk_get(a->zk, p_task, false, &data, &len, &version, &err);
        if (rc) {
            if (rc == CORRAL_ENOTFOUND)
                corral_strlist_add(&a->ignored, name);
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot read: %s", name, err.msg);
            return;
        }
        struct corral_task t = {0};
        rc = corral_task_parse(data, len, &t, &err);
        free(data);
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s unreadable: %s", name, err.msg);
            corral_task_cleanup(&t);
            corral_strlist_add(&a->ignored, name);
            return;
        }
        bool ours = t.worker && strcmp(t.worker, a->cfg->id) == 0 && t.attempt == as.attempt;
        if (t.state == CORRAL_STATE_CANCELLING && ours) {
            struct finish_req f = {.id = name, .attempt = as.attempt};
            (void)agent_finish_write(a, &f);
            corral_task_cleanup(&t);
            return;
        }
        if (!ours || (t.state != CORRAL_STATE_ASSIGNED && t.state != CORRAL_STATE_RUNNING)) {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assignment task=%s: task is %s worker=%s; left alone",
                       name, corral_state_name(t.state), t.worker ? t.worker : "-");
            corral_task_cleanup(&t);
            corral_strlist_add(&a->ignored, name);
            return;
        }
        /* The leader guarantees a free slot; refusing beyond --slots is defence only. */
        const char *refuse = a->draining                               ? "worker is draining"
                             : agent_running_count(a) >= a->cfg->slots ? "no free slot"
                                                                       : NULL;
        if (refuse) {
            corral_task_cleanup(&t);
            agent_finish_unstarted(a, name, as.attempt, refuse);
            return;
        }
        if (t.state == CORRAL_STATE_RUNNING) {
            /* Our own START whose outcome was unknown did apply: run it now. */
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s start was applied earlier; running it", name);
            start_supervisor(a, &t);
            corral_task_cleanup(&t);
            return;
        }
        rc = agent_start_write(a, &t, version, &err);
        if (rc == CORRAL_OK) {
            start_supervisor(a, &t);
            corral_task_cleanup(&t);
            return;
        }
        if (rc == CORRAL_ESTATE || rc == CORRAL_EINVAL) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot start: %s", name, err.msg);
            corral_task_cleanup(&t);
            corral_strlist_add(&a->ignored, name);
            return;
        }
        corral_task_cleanup(&t);
        if (rc == CORRAL_ECONFLICT)
            continue;
        /* EFENCED: taken back. EUNKNOWN/EUNAVAIL: the next reconcile sees assigned (start
         * again) or running (adopt, above). */
        CORRAL_LOG(rc == CORRAL_EFENCED ? CORRAL_LOG_INFO : CORRAL_LOG_WARN,
                   "task=%s not started: %s", name, err.msg);
        return;
    }
}

/* Re-read a running task's assignment (with a new watch): is a cancel requested? */
void agent_reread_assignment(struct agent *a, struct local *l)
{
    char p[CORRAL_PATH_MAX];
    if (!agent_assign_path(a, l->id, p, sizeof p))
        return;
    char *data = NULL;
    size_t len = 0;
    struct corral_error err = {0};
    int rc = zk_get(a->zk, p, true, &data, &len, NULL, &err);
    if (rc == CORRAL_ENOTFOUND) {
        a->need_reconcile = true;
        return;
    }
    if (rc)
        return;
    struct corral_assignment as;
    bool ok = corral_assignment_decode(data, len, &as, &err) == CORRAL_OK;
    free(data);
    if (!ok)
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s malformed assignment: %s", l->id, err.msg);
    if (ok && as.cancel && !l->cancel_requested && !l->run.done) {
        l->cancel_requested = true;
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s cancel requested; stopping it", l->id);
        runner_cancel(&l->run);
    }
}

/* ------------------------------------------------------------------ reconcile */

void agent_reconcile(struct agent *a, int64_t now)
{
    struct corral_strlist kids = {0};
    struct corral_error err = {0};
    int rc = zk_children(a->zk, a->p_assign_dir, true, &kids, &err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(&err);
        if (zk_ensure_path(a->zk, a->p_assign_dir, &err) == CORRAL_OK)
            rc = zk_children(a->zk, a->p_assign_dir, true, &kids, &err);
    }
    if (rc) {
        CORRAL_LOG(CORRAL_LOG_DEBUG, "reconcile: %s", err.msg);
        return;
    }
    a->need_reconcile = false;

    /* Locals whose assignment is gone. */
    for (size_t i = 0; i < a->n_locals;) {
        struct local *l = a->locals[i];
        if (l->dropped || corral_strlist_has(&kids, l->id)) {
            i++;
            continue;
        }
        if (l->result_ready) {
            /* Our finish write with an unknown outcome did apply, or the leader took the task:
             * nothing more to write either way. */
            CORRAL_LOG(l->unknown_write ? CORRAL_LOG_INFO : CORRAL_LOG_WARN,
                       "task=%s assignment gone before the finish was confirmed; done", l->id);
            agent_remove_local(a, l);
            continue;
        }
        /* The leader gave the task away: this attempt must stop at once. */
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s assignment removed by the leader; killing it", l->id);
        l->dropped = true;
        runner_kill(&l->run);
        i++;
    }

    for (size_t i = 0; i < kids.n; i++) {
        const char *name = kids.items[i];
        struct local *l = agent_find_local(a, name);
        if (l) {
            if (a->need_reread)
                agent_reread_assignment(a, l);
            continue;
        }
        if (corral_strlist_has(&a->ignored, name))
            continue;
        handle_assignment(a, name);
        if (a->stop)
            break;
    }
    a->need_reread = false;
    corral_strlist_intersect(&a->ignored, &kids);
    corral_strlist_cleanup(&kids);
    if (a->draining && a->drain_written && now >= a->drain_written_ms + DRAIN_SETTLE_MS)
        a->drain_reconciled = true;
}
