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
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

static struct local *start_supervisor(struct agent *a, const struct corral_task *t,
                                      const char *json, size_t len, int32_t version)
{
    struct local *l = agent_add_local(a);
    snprintf(l->id, sizeof l->id, "%s", t->id);
    l->attempt = t->attempt;
    l->epoch = t->epoch;
    l->is_http = t->spec.has_http;
    if (json) {
        /* The task as we stored it: the finish needs no read unless someone changed it. */
        l->task_json = corral_xstrndup(json, len);
        l->task_len = len;
        l->task_version = version;
    }
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
        return l;
    }
    CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s attempt=%u supervisor pid=%ld", t->id, t->attempt,
               (long)l->run.pid);
    return l;
}

/* A new assignment on its way through agent_start_new. */
struct fresh {
    const char *name;
    char p_assign[CORRAL_PATH_MAX], p_task[CORRAL_PATH_MAX];
    struct corral_assignment as;
    struct corral_task task; /* after the START transition when starting */
    int32_t version;         /* of the task as read */
    bool starting;           /* its start is in the batch */
};

/* Decide what to do with a new assignment whose task was read: start it (f->starting), or
 * finish, refuse or ignore it here. */
static void decide(struct agent *a, struct fresh *f, size_t *n_starting)
{
    const char *name = f->name;
    struct corral_task *t = &f->task;
    bool ours = t->worker && strcmp(t->worker, a->cfg->id) == 0 && t->attempt == f->as.attempt;
    if (t->state == CORRAL_STATE_CANCELLING && ours) {
        struct finish_req fr = {.id = name, .attempt = f->as.attempt};
        (void)agent_finish_write(a, &fr);
        return;
    }
    if (!ours || (t->state != CORRAL_STATE_ASSIGNED && t->state != CORRAL_STATE_RUNNING)) {
        CORRAL_LOG(CORRAL_LOG_DEBUG, "assignment task=%s: task is %s worker=%s; left alone", name,
                   corral_state_name(t->state), t->worker ? t->worker : "-");
        corral_strlist_add(&a->ignored, name);
        return;
    }
    /* The leader guarantees a free slot; refusing beyond --slots is defence only. */
    const char *refuse = a->draining            ? "worker is draining"
                         : !agent_takes_work(a) ? "worker is cordoned"
                         : agent_running_count(a) + *n_starting >= a->cfg->slots ? "no free slot"
                                                                                 : NULL;
    if (refuse) {
        agent_finish_unstarted(a, name, f->as.attempt, refuse);
        return;
    }
    if (t->state == CORRAL_STATE_RUNNING) {
        /* Our own START whose outcome was unknown did apply: run it now. */
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s start was applied earlier; running it", name);
        start_supervisor(a, t, NULL, 0, -1)->follow_until_ms = f->as.follow_until_ms;
        return;
    }
    struct corral_error err = {0};
    struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms()};
    if (corral_task_transition(t, CORRAL_EV_START, &ctx, &err) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot start: %s", name, err.msg);
        corral_strlist_add(&a->ignored, name);
        return;
    }
    f->starting = true;
    (*n_starting)++;
}

/* Read the assignments (with a data watch: how a cancel reaches us) and their tasks, all in
 * one pipelined batch (a task behind an assignment that is not ours is read for nothing, which
 * is rare; one round trip less on every new assignment); ok[i] false for an entry to skip. */
static void read_fresh(struct agent *a, struct fresh *fs, size_t n, bool *ok)
{
    const char **paths = corral_xcalloc(2 * n, sizeof *paths);
    struct zk_got *got = corral_xcalloc(2 * n, sizeof *got);
    for (size_t i = 0; i < n; i++) {
        paths[i] = fs[i].p_assign;
        paths[n + i] = fs[i].p_task;
    }
    zk_get_many_watch_first(a->zk, paths, 2 * n, n, got); /* watches on the assignments */
    for (size_t i = 0; i < n; i++) {
        struct fresh *f = &fs[i];
        struct zk_got *ga = &got[i], *gt = &got[n + i];
        ok[i] = false;
        if (ga->rc) {
            if (ga->rc != CORRAL_ENOTFOUND)
                CORRAL_LOG(CORRAL_LOG_DEBUG, "assignment %s: %s", f->name, ga->err.msg);
            continue;
        }
        struct corral_error err = {0};
        bool dec = corral_assignment_decode(ga->data, ga->len, &f->as, &err) == CORRAL_OK;
        if (!dec || strcmp(f->as.task, f->name) != 0) {
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "assignment", f->name,
                            "ignoring malformed assignment task=%s: %s", f->name,
                            dec ? "names another task" : err.msg);
            corral_strlist_add(&a->ignored, f->name);
        } else if (strcmp(f->as.reg, a->reg) != 0) {
            /* Made for an earlier registration of this id: the leader requeues those. */
            CORRAL_LOG(CORRAL_LOG_DEBUG, "ignoring assignment task=%s of reg=%s (ours is %s)",
                       f->name, f->as.reg, a->reg);
            corral_strlist_add(&a->ignored, f->name);
        } else if (gt->rc) {
            if (gt->rc == CORRAL_ENOTFOUND)
                corral_strlist_add(&a->ignored, f->name);
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot read: %s", f->name, gt->err.msg);
        } else if (corral_task_parse(gt->data, gt->len, &f->task, &err) != CORRAL_OK) {
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "task", f->name, "task=%s unreadable: %s", f->name,
                            err.msg);
            corral_strlist_add(&a->ignored, f->name);
        } else {
            f->version = gt->version;
            ok[i] = true;
        }
    }
    for (size_t i = 0; i < 2 * n; i++)
        zk_got_cleanup(&got[i]);
    free(got);
    free(paths);
}

/*
 * Start the new assignments names[0..n): read them pipelined, decide each, write all starts
 * in as few multis as fit (each member fenced by its own assignment; agent_finish.c commits),
 * then start the supervisors of those written.
 */
static void start_new(struct agent *a, char **names, size_t n)
{
    struct fresh *fs = corral_xcalloc(n, sizeof *fs);
    bool *ok = corral_xcalloc(n, sizeof *ok);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct fresh *f = &fs[m];
        if (!corral_id_is_valid(names[i]) ||
            !agent_assign_path(a, names[i], f->p_assign, sizeof f->p_assign) ||
            corral_path_task(f->p_task, sizeof f->p_task, a->cfg->ns, names[i]) != CORRAL_OK) {
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "assignment", names[i],
                            "ignoring odd assignment name=%s", names[i]);
            corral_strlist_add(&a->ignored, names[i]);
            continue;
        }
        f->name = names[i];
        m++;
    }
    if (m > 0)
        read_fresh(a, fs, m, ok);
    size_t n_starting = 0;
    for (size_t i = 0; i < m && !a->stop; i++)
        if (ok[i])
            decide(a, &fs[i], &n_starting);
    if (n_starting > 0) {
        struct corral_task **ts = corral_xcalloc(n_starting, sizeof *ts);
        int32_t *versions = corral_xcalloc(n_starting, sizeof *versions);
        struct start_out *outs = corral_xcalloc(n_starting, sizeof *outs);
        int64_t *follows = corral_xcalloc(n_starting, sizeof *follows);
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            if (fs[i].starting) {
                ts[k] = &fs[i].task;
                follows[k] = fs[i].as.follow_until_ms; /* someone already follows it */
                versions[k++] = fs[i].version;
            }
        agent_start_many(a, ts, versions, k, outs);
        for (size_t i = 0; i < k; i++) {
            if (outs[i].rc == CORRAL_OK)
                start_supervisor(a, ts[i], outs[i].json, outs[i].len, outs[i].version)
                    ->follow_until_ms = follows[i];
            else if (outs[i].rc == CORRAL_ESTATE || outs[i].rc == CORRAL_EINVAL)
                corral_strlist_add(&a->ignored, ts[i]->id);
            else
                /* EFENCED: taken back. CONFLICT: changed meanwhile. EUNKNOWN/EUNAVAIL: the
                 * next reconcile sees assigned (start again) or running (adopt, above). */
                a->need_reconcile = outs[i].rc != CORRAL_EFENCED;
            free(outs[i].json);
        }
        free(outs);
        free(versions);
        free(follows);
        free(ts);
    }
    for (size_t i = 0; i < n; i++)
        corral_task_cleanup(&fs[i].task);
    free(ok);
    free(fs);
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
        CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "assignment", l->id, "task=%s malformed assignment: %s",
                        l->id, err.msg);
    if (ok && as.follow_until_ms > l->follow_until_ms)
        l->follow_until_ms = as.follow_until_ms; /* someone follows its output */
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

    char **fresh = corral_xcalloc(kids.n ? kids.n : 1, sizeof *fresh);
    size_t n_fresh = 0;
    for (size_t i = 0; i < kids.n; i++) {
        char *name = kids.items[i];
        struct local *l = agent_find_local(a, name);
        if (l) {
            if (a->need_reread)
                agent_reread_assignment(a, l);
            continue;
        }
        if (!corral_strlist_has(&a->ignored, name))
            fresh[n_fresh++] = name;
    }
    if (n_fresh > 0 && !a->stop)
        start_new(a, fresh, n_fresh);
    free(fresh);
    a->need_reread = false;
    corral_strlist_intersect(&a->ignored, &kids);
    corral_strlist_cleanup(&kids);
    if (a->draining && a->drain_written && now >= a->drain_written_ms + DRAIN_SETTLE_MS)
        a->drain_reconciled = true;
}
