/* SPDX-License-Identifier: MIT */
/*
 * The worker's task writes (agent_internal.h): the start of an attempt and its end. This is
 * the one place where corral-worker changes a task: it re-reads the task, asks the core what
 * the end means (corral_result_decide) and which ops that needs (corral_ops_start,
 * corral_ops_release), commits them as one multi fenced by the assignment, and logs the
 * transition once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/result.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_txn.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

/* Log a transition the worker stored, once ("task=<id> state=a->b ..."). */
static void log_applied(const char *id, uint32_t attempt, enum corral_state from,
                        const struct corral_task *t, const struct corral_transition_ctx *ctx)
{
    char extra[320] = "";
    size_t off = 0;
    if (ctx && ctx->has_exit_code)
        off += (size_t)snprintf(extra + off, sizeof extra - off, " exit_code=%d", ctx->exit_code);
    if (ctx && ctx->error && off < sizeof extra)
        snprintf(extra + off, sizeof extra - off, " error=\"%s\"", ctx->error);
    CORRAL_LOG(CORRAL_LOG_INFO, "task=%s state=%s->%s attempt=%u epoch=%" PRIu64 "%s", id,
               corral_state_name(from), corral_state_name(t->state), attempt, t->epoch, extra);
}

/* Commit txn and log the transition of the task once. */
static int commit(struct agent *a, const struct corral_txn *txn, const char *id, uint32_t attempt,
                  enum corral_state from, const struct corral_task *t,
                  const struct corral_transition_ctx *ctx, int *failed_op, struct corral_error *err)
{
    int rc = zk_txn_commit(a->zk, txn, failed_op, err);
    if (rc == CORRAL_OK)
        log_applied(id, attempt, from, t, ctx);
    return rc;
}

/* Read the task and its version; logs why not. */
static int read_task(struct agent *a, const char *id, struct corral_task *t, int32_t *version,
                     struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    if (corral_path_task(path, sizeof path, a->cfg->ns, id) != CORRAL_OK)
        return corral_error_set(err, CORRAL_EINVAL, NULL, "task path too long");
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(a->zk, path, false, &data, &len, version, err);
    if (rc != CORRAL_OK)
        return rc;
    rc = corral_task_parse(data, len, t, err);
    free(data);
    return rc;
}

void agent_start_many(struct agent *a, struct corral_task *const *ts, const int32_t *versions,
                      size_t n, struct start_out *outs)
{
    struct corral_txn *ms = corral_xcalloc(n ? n : 1, sizeof *ms);
    int *rcs = corral_xcalloc(n ? n : 1, sizeof *rcs);
    struct corral_error *errs = corral_xcalloc(n ? n : 1, sizeof *errs);
    for (size_t i = 0; i < n; i++) {
        corral_txn_init(&ms[i], "worker.start");
        outs[i] = (struct start_out){.rc = CORRAL_OK};
        if (corral_ops_start(&ms[i], a->cfg->ns, ts[i], versions[i]) != CORRAL_OK) {
            outs[i].rc =
                corral_error_set(&errs[i], CORRAL_EINVAL, NULL, "cannot build the start's paths");
            corral_txn_cleanup(&ms[i]); /* an empty member: committed as nothing */
        }
    }
    zk_txn_commit_members(a->zk, "worker.start", ms, n, rcs, NULL, errs);
    for (size_t i = 0; i < n; i++) {
        const struct corral_task *t = ts[i];
        if (outs[i].rc == CORRAL_OK)
            outs[i].rc = rcs[i];
        if (outs[i].rc == CORRAL_OK) {
            log_applied(t->id, t->attempt, CORRAL_STATE_ASSIGNED, t, NULL);
            /* The set of the task is the start's only SET: keep what it stored. */
            for (size_t k = 0; k < ms[i].n; k++)
                if (ms[i].ops[k].kind == CORRAL_OP_SET) {
                    outs[i].json = corral_xstrndup(ms[i].ops[k].data, ms[i].ops[k].len);
                    outs[i].len = ms[i].ops[k].len;
                    outs[i].version = versions[i] + 1;
                }
        } else {
            CORRAL_LOG(outs[i].rc == CORRAL_EFENCED ? CORRAL_LOG_INFO : CORRAL_LOG_WARN,
                       "task=%s not started: %s", t->id, errs[i].msg);
        }
        corral_txn_cleanup(&ms[i]);
    }
    free(ms);
    free(rcs);
    free(errs);
}

int agent_finish_write(struct agent *a, const struct finish_req *f)
{
    char *output =
        f->output_path ? runner_output_tail(f->output_path, CORRAL_OUTPUT_TAIL_BYTES) : NULL;
    struct corral_attempt_end end = {
        .worker = a->cfg->id,
        .attempt = f->attempt,
        .is_http = f->is_http,
        .returning = f->returning,
        .res = f->res,
    };
    int result = FINISH_RETRY;
    for (int tries = 0; tries < CONFLICT_RETRIES; tries++) {
        struct corral_error err = {0};
        struct corral_task t = {0};
        int32_t version = 0;
        int rc;
        if (tries == 0 && f->cached) {
            version = f->cached_version;
            rc = corral_task_parse(f->cached, f->cached_len, &t, &err);
        } else {
            rc = read_task(a, f->id, &t, &version, &err);
        }
        if (rc == CORRAL_ENOTFOUND || rc == CORRAL_EINVAL) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s %s; result dropped", f->id,
                       rc == CORRAL_ENOTFOUND ? "vanished" : err.msg);
            corral_task_cleanup(&t);
            result = FINISH_DONE;
            break;
        }
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s cannot read: %s", f->id, err.msg);
            break;
        }
        enum corral_event ev;
        char errtext[300];
        struct corral_transition_ctx ctx = {
            .now_ms = clock_wall_ms(), .output = output, .jitter = rand_u32()};
        if (!corral_result_decide(&t, &end, &ev, &ctx, errtext, sizeof errtext)) {
            CORRAL_LOG(CORRAL_LOG_WARN,
                       "task=%s is %s (worker=%s attempt=%u), not our attempt %u; result "
                       "dropped",
                       f->id, corral_state_name(t.state), t.worker ? t.worker : "-", t.attempt,
                       f->attempt);
            corral_task_cleanup(&t);
            result = FINISH_DONE;
            break;
        }
        enum corral_state from = t.state;
        rc = corral_task_transition(&t, ev, &ctx, &err);
        if (rc) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s: %s; result dropped", f->id, err.msg);
            corral_task_cleanup(&t);
            result = FINISH_DONE;
            break;
        }
        struct corral_txn txn;
        corral_txn_init(&txn, ev == CORRAL_EV_RETURN ? "worker.return" : "worker.finish");
        int failed_op = -1;
        rc = corral_ops_release(&txn, a->cfg->ns, NULL, a->cfg->id, &t, version, NULL);
        if (rc == CORRAL_OK)
            rc = commit(a, &txn, f->id, f->attempt, from, &t, &ctx, &failed_op, &err);
        /* A folder made on demand (a done-index time slot, a queue bucket) is missing. */
        char missing[CORRAL_PATH_MAX] = "";
        if (rc == CORRAL_ENOTFOUND &&
            !corral_ops_missing_dir(&txn, a->cfg->ns, failed_op, missing, sizeof missing))
            missing[0] = '\0';
        corral_txn_cleanup(&txn);
        corral_task_cleanup(&t);
        if (rc == CORRAL_OK) {
            agent_note_outcome(a, ev);
            result = FINISH_DONE;
            break;
        }
        if (rc == CORRAL_EFENCED) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s assignment is gone (given away); result dropped",
                       f->id);
            result = FINISH_DONE;
            break;
        }
        if (missing[0]) {
            /* Create it and try again. */
            struct corral_error e2 = {0};
            if (zk_ensure_path(a->zk, missing, &e2) != CORRAL_OK)
                break;
            continue;
        }
        if (rc == CORRAL_ECONFLICT) {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "task=%s changed under us; re-reading", f->id);
            continue;
        }
        if (rc == CORRAL_EUNKNOWN) {
            CORRAL_LOG(CORRAL_LOG_WARN, "task=%s finish outcome unknown: %s", f->id, err.msg);
            result = FINISH_UNKNOWN;
            break;
        }
        CORRAL_LOG(CORRAL_LOG_WARN, "task=%s finish not written: %s", f->id, err.msg);
        break;
    }
    free(output);
    return result;
}

void agent_finish_local(struct agent *a, struct local *l, int64_t now)
{
    if (l->unknown_write) {
        /* After an unknown outcome: if the assignment is gone, the write happened (or the
         * leader took the task); either way there is nothing left to write. */
        char p[CORRAL_PATH_MAX];
        struct corral_error err = {0};
        int rc = agent_assign_path(a, l->id, p, sizeof p) ? zk_exists(a->zk, p, false, NULL, &err)
                                                          : CORRAL_ENOTFOUND;
        if (rc == CORRAL_ENOTFOUND) {
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s finish was applied (assignment gone)", l->id);
            agent_remove_local(a, l);
            return;
        }
        if (rc) {
            l->next_try_ms = now + WRITE_RETRY_MS;
            return;
        }
    }
    struct finish_req f = {
        .id = l->id,
        .attempt = l->attempt,
        .is_http = l->is_http,
        .returning = l->returning,
        .res = &l->run.result,
        .output_path = l->run.output_path,
        .cached = l->task_json,
        .cached_len = l->task_len,
        .cached_version = l->task_version,
    };
    int r = agent_finish_write(a, &f);
    if (r == FINISH_DONE) {
        agent_remove_local(a, l);
        return;
    }
    l->unknown_write = l->unknown_write || r == FINISH_UNKNOWN;
    l->next_try_ms = now + WRITE_RETRY_MS;
}

/* A local the batched finish can write: ready, ours, and its task known without a read. */
static bool batchable(const struct local *l, int64_t now, bool returning)
{
    return l->result_ready && !l->dropped && !l->unknown_write && l->task_json &&
           now >= l->next_try_ms && l->returning == returning && agent_output_settled(l);
}

/* The results (or, with returning, the returns) ready now, in shared multis labelled as the
 * one-by-one path labels them ("worker.finish", "worker.return"). */
static void finish_batch(struct agent *a, int64_t now, bool returning)
{
    const char *label = returning ? "worker.return" : "worker.finish";
    size_t n = 0;
    for (size_t i = 0; i < a->n_locals; i++)
        n += batchable(a->locals[i], now, returning);
    if (n == 0)
        return;
    struct local **ls = corral_xcalloc(n, sizeof *ls);
    struct corral_txn *ms = corral_xcalloc(n, sizeof *ms);
    struct corral_task *ts = corral_xcalloc(n, sizeof *ts);
    enum corral_state *from = corral_xcalloc(n, sizeof *from);
    enum corral_event *evs = corral_xcalloc(n, sizeof *evs);
    struct corral_transition_ctx *ctxs = corral_xcalloc(n, sizeof *ctxs);
    char **outputs = corral_xcalloc(n, sizeof *outputs);
    /* Each member's error text: its context points at it until the commit is logged. */
    char(*errtexts)[300] = corral_xcalloc(n, sizeof *errtexts);
    int *rcs = corral_xcalloc(n, sizeof *rcs);
    struct corral_error *errs = corral_xcalloc(n, sizeof *errs);
    size_t k = 0;
    for (size_t i = 0; i < a->n_locals; i++) {
        struct local *l = a->locals[i];
        if (!batchable(l, now, returning))
            continue;
        struct corral_task *t = &ts[k];
        struct corral_error err = {0};
        if (corral_task_parse(l->task_json, l->task_len, t, &err) != CORRAL_OK) {
            corral_task_cleanup(t);
            continue;
        }
        struct corral_attempt_end end = {
            .worker = a->cfg->id,
            .attempt = l->attempt,
            .is_http = l->is_http,
            .returning = l->returning,
            .res = &l->run.result,
        };
        enum corral_event ev;
        outputs[k] = runner_output_tail(l->run.output_path, CORRAL_OUTPUT_TAIL_BYTES);
        ctxs[k] = (struct corral_transition_ctx){
            .now_ms = clock_wall_ms(), .output = outputs[k], .jitter = rand_u32()};
        from[k] = t->state;
        corral_txn_init(&ms[k], label);
        if (!corral_result_decide(t, &end, &ev, &ctxs[k], errtexts[k], sizeof errtexts[k]) ||
            corral_task_transition(t, ev, &ctxs[k], &err) != CORRAL_OK ||
            corral_ops_release(&ms[k], a->cfg->ns, NULL, a->cfg->id, t, l->task_version, NULL) !=
                CORRAL_OK) {
            /* Not a plain case: the one-by-one path reads the task and says why. */
            corral_txn_cleanup(&ms[k]);
            corral_task_cleanup(t);
            free(outputs[k]);
            outputs[k] = NULL;
            continue;
        }
        evs[k] = ev;
        ls[k++] = l;
    }
    zk_txn_commit_members(a->zk, label, ms, k, rcs, NULL, errs);
    for (size_t i = 0; i < k; i++) {
        struct local *l = ls[i];
        const struct corral_task *t = &ts[i];
        if (rcs[i] == CORRAL_OK) {
            log_applied(t->id, l->attempt, from[i], t, &ctxs[i]);
            agent_note_outcome(a, evs[i]);
            agent_remove_local(a, l);
        } else if (rcs[i] == CORRAL_EUNKNOWN || rcs[i] == CORRAL_EUNAVAIL) {
            l->unknown_write = l->unknown_write || rcs[i] == CORRAL_EUNKNOWN;
            l->next_try_ms = now + WRITE_RETRY_MS;
        } else {
            /* Changed under us, fenced, a missing folder: the plain path reads and decides. */
            free(l->task_json);
            l->task_json = NULL;
        }
        corral_txn_cleanup(&ms[i]);
        corral_task_cleanup(&ts[i]);
        free(outputs[i]);
    }
    free(ls);
    free(ms);
    free(ts);
    free(from);
    free(evs);
    free(ctxs);
    free(outputs);
    free(errtexts);
    free(rcs);
    free(errs);
}

void agent_finish_ready(struct agent *a, int64_t now)
{
    finish_batch(a, now, false);
    finish_batch(a, now, true);
}

void agent_finish_unstarted(struct agent *a, const char *id, uint32_t attempt, const char *why)
{
    CORRAL_LOG(CORRAL_LOG_INFO, "task=%s not started: %s", id, why);
    struct finish_req f = {.id = id, .attempt = attempt, .returning = true};
    (void)agent_finish_write(a, &f); /* on failure the next reconcile sees it again */
}
