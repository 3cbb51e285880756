/* SPDX-License-Identifier: MIT */
/*
 * A simulated worker (simworker.h). Registration follows worker/agent_register.c, the checks of
 * an assignment worker/agent_assign.c, the end of an attempt worker/agent_finish.c: START, then
 * corral_result_decide on a run that exited 0, then corral_ops_release, committed as a multi of
 * up to cfg.batch tasks (each with its own fence on its assignment).
 */
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/simworker.h"
#include "bench/zkraw.h"
#include "corral/assignment.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/result.h"
#include "corral/strlist.h"
#include "corral/task.h"
#include "corral/txn.h"
#include "corral/worker_reg.h"
#include "corral/xalloc.h"
#include "io/clock.h"
#include "io/zk.h"
#include "io/zk_txn.h"

#define BATCH_MAX    1000           /* assignments read per pass */
#define TXN_SOFT_MAX (600u * 1000u) /* commit before a multi passes this (limit ~1 MB) */
#define READ_TIMEOUT 10000          /* ms for one pipelined read */
#define RELIST_MS    1000           /* list the assignments this often anyway (watches are hints) */

struct simworker {
    char id[64];
    char reg[CORRAL_REG_MAX + 1];
    char *hosts, *ns;
    struct simworker_cfg cfg;
    pthread_t thread;
    bool started;
    atomic_bool stop, registered, failed;
    atomic_uint_fast64_t finished;
    struct simworker_stats st;
    struct zk *zk;
    struct zkraw *raw;
    char p_worker[CORRAL_PATH_MAX], p_assign_dir[CORRAL_PATH_MAX];
    struct corral_strlist ignored; /* assignments left alone until they vanish */
    bool relist;                   /* a read failed: list again before waiting */
};

/* One assignment being finished. */
struct item {
    struct corral_task t;
    int32_t version;
    int64_t start_wall_ms;
};

static void fail(struct simworker *w, const char *fmt, ...) CORRAL_PRINTF(2, 3);
static void fail(struct simworker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->st.error, sizeof w->st.error, fmt, ap);
    va_end(ap);
    atomic_store(&w->failed, true);
}

static void add_latency(struct simworker *w, int64_t start, int64_t end)
{
    struct simworker_stats *s = &w->st;
    if (s->n_lat == s->cap_lat) {
        s->cap_lat = s->cap_lat ? s->cap_lat * 2 : 1024;
        s->start_ms = corral_xrealloc(s->start_ms, s->cap_lat * sizeof *s->start_ms);
        s->end_ms = corral_xrealloc(s->end_ms, s->cap_lat * sizeof *s->end_ms);
    }
    s->start_ms[s->n_lat] = start;
    s->end_ms[s->n_lat] = end;
    s->n_lat++;
}

static void saw_epoch(struct simworker *w, uint64_t epoch, int64_t now)
{
    struct simworker_stats *s = &w->st;
    if (s->first_seen_wall_ms == 0)
        s->first_seen_wall_ms = now;
    for (size_t i = 0; i < s->n_epochs; i++)
        if (s->epochs[i].epoch == epoch)
            return;
    if (s->n_epochs < SIM_EPOCHS_MAX)
        s->epochs[s->n_epochs++] = (struct sim_epoch){.epoch = epoch, .first_wall_ms = now};
}

/* ------------------------------------------------------------------ registration */

static bool do_register(struct simworker *w)
{
    struct corral_error err = {0};
    w->zk = zk_open(w->hosts, w->cfg.session_ms, NULL, &err);
    if (!w->zk || zk_wait_connected(w->zk, 15000, &err) != CORRAL_OK) {
        fail(w, "no ZooKeeper session: %s", err.msg);
        return false;
    }
    w->raw = zkraw_open(w->hosts, w->cfg.session_ms, &err);
    if (!w->raw) {
        fail(w, "no reader session: %s", err.msg);
        return false;
    }
    char p_workers[CORRAL_PATH_MAX], p_assign[CORRAL_PATH_MAX], p_signal[CORRAL_PATH_MAX];
    if (corral_path_dir(p_workers, sizeof p_workers, w->ns, CORRAL_DIR_WORKERS) ||
        corral_path_dir(p_assign, sizeof p_assign, w->ns, CORRAL_DIR_ASSIGN) ||
        corral_path_queue_signal(p_signal, sizeof p_signal, w->ns) ||
        corral_path_worker(w->p_worker, sizeof w->p_worker, w->ns, w->id) ||
        corral_path_assign_dir(w->p_assign_dir, sizeof w->p_assign_dir, w->ns, w->id)) {
        fail(w, "%s", "namespace or id too long");
        return false;
    }
    /* As agent_register does: the folders, then the ephemeral registration, then our
     * assignment folder. */
    if (zk_ensure_path(w->zk, p_workers, &err) || zk_ensure_path(w->zk, p_assign, &err) ||
        zk_ensure_path(w->zk, p_signal, &err)) {
        fail(w, "cannot prepare znodes: %s", err.msg);
        return false;
    }
    snprintf(w->reg, sizeof w->reg, "%016" PRIx64, rand_u64());
    uint64_t cpu = (uint64_t)w->cfg.slots * 1000u;
    struct corral_worker_reg r = {
        .id = w->id,
        .slots = w->cfg.slots,
        .cpu_milli = (uint32_t)(cpu > CORRAL_CPU_MAX_MILLI ? CORRAL_CPU_MAX_MILLI : cpu),
        .mem_mb = 1024u * 1024u,
        .weight = 1,
    };
    snprintf(r.reg, sizeof r.reg, "%s", w->reg);
    char *json = corral_worker_reg_encode(&r);
    int rc = zk_create(w->zk, w->p_worker, json, strlen(json), ZK_EPHEMERAL, NULL, 0, &err);
    free(json);
    if (rc == CORRAL_OK)
        rc = zk_ensure_path(w->zk, w->p_assign_dir, &err);
    if (rc != CORRAL_OK) {
        fail(w, "registration failed: %s", err.msg);
        return false;
    }
    w->st.registered_wall_ms = clock_wall_ms();
    atomic_store(&w->registered, true);
    return true;
}

/* ------------------------------------------------------------------ finishing */

/* Count a committed group of items. */
static void committed(struct simworker *w, struct item *it, size_t n)
{
    int64_t now = clock_wall_ms();
    for (size_t i = 0; i < n; i++)
        add_latency(w, it[i].start_wall_ms - it[i].t.submitted_at_ms,
                    now - it[i].t.submitted_at_ms);
    w->st.finished += n;
    w->st.last_finish_wall_ms = now;
    atomic_fetch_add(&w->finished, n);
}

/*
 * A commit failed with CORRAL_ENOTFOUND on op failed_op. When that op is a create, its folder
 * is one corral makes on demand (a queue bucket, a slot of the done index): create it, as
 * corral-worker does, and say that the same multi may be committed again. The ops of a release
 * that are not creates (the fence, the task's set, the assignment's delete) never get here with
 * a missing parent unless the namespace is gone.
 */
static bool make_missing_folder(struct simworker *w, const struct corral_txn *txn, int failed_op)
{
    if (failed_op < 0 || (size_t)failed_op >= txn->n ||
        txn->ops[failed_op].kind != CORRAL_OP_CREATE)
        return false;
    char dir[CORRAL_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", txn->ops[failed_op].path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return false;
    *slash = '\0';
    struct corral_error err = {0};
    return zk_ensure_path(w->zk, dir, &err) == CORRAL_OK;
}

/* Commit txn; a missing folder of a create is made and the commit tried again (bounded). */
static int commit(struct simworker *w, const struct corral_txn *txn)
{
    int rc = CORRAL_EUNAVAIL;
    for (int tries = 0; tries < 4; tries++) {
        struct corral_error err = {0};
        int failed_op = -1;
        rc = zk_txn_commit(w->zk, txn, &failed_op, &err);
        if (rc != CORRAL_ENOTFOUND || !make_missing_folder(w, txn, failed_op))
            break;
    }
    return rc;
}

/* Commit items one multi each (after a group failed: one of them is the culprit). */
static void commit_each(struct simworker *w, struct item *it, size_t n)
{
    w->st.fallbacks++;
    for (size_t i = 0; i < n; i++) {
        struct corral_txn txn;
        corral_txn_init(&txn, "bench.finish");
        int rc = corral_ops_release(&txn, w->ns, NULL, w->id, &it[i].t, it[i].version, NULL);
        if (rc == CORRAL_OK)
            rc = commit(w, &txn);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK) {
            w->st.multis++;
            committed(w, &it[i], 1);
        } else if (rc == CORRAL_EUNKNOWN || rc == CORRAL_EUNAVAIL) {
            w->st.unknown++; /* the next listing shows whether it is still ours */
        } else {
            w->st.dropped++; /* fenced (taken back) or changed under us */
            w->st.dropped_commit++;
            if (!w->st.last_commit_error[0])
                snprintf(w->st.last_commit_error, sizeof w->st.last_commit_error, "%s",
                         corral_err_name(rc));
        }
    }
}

/* Commit items in multis of at most batch tasks (and well under 1 MiB). */
static void commit_all(struct simworker *w, struct item *it, size_t n)
{
    size_t first = 0;
    while (first < n) {
        struct corral_txn txn;
        corral_txn_init(&txn, "bench.finish");
        size_t end = first;
        bool bad = false;
        while (end < n && end - first < w->cfg.batch) {
            if (corral_ops_release(&txn, w->ns, NULL, w->id, &it[end].t, it[end].version, NULL) !=
                CORRAL_OK) {
                bad = true;
                break;
            }
            end++;
            if (corral_txn_wire_bytes(&txn) >= TXN_SOFT_MAX)
                break;
        }
        if (bad) {
            /* A path that cannot be built: a bug; count the task as dropped. */
            w->st.dropped++;
            corral_txn_cleanup(&txn);
            commit_each(w, it + first, end - first);
            first = end + 1;
            continue;
        }
        int rc = commit(w, &txn);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK) {
            w->st.multis++;
            committed(w, it + first, end - first);
        } else if (rc == CORRAL_EUNKNOWN) {
            w->st.unknown += end - first;
        } else {
            commit_each(w, it + first, end - first);
        }
        first = end;
    }
}

/* Read, check and finish the assignments names[0..n). */
static void finish_batch(struct simworker *w, char **names, size_t n)
{
    struct zkraw_get *g = corral_xcalloc(2 * n, sizeof *g);
    struct item *items = corral_xcalloc(n, sizeof *items);
    size_t n_items = 0;
    for (size_t i = 0; i < n; i++) {
        if (corral_path_assign(g[2 * i].path, sizeof g[2 * i].path, w->ns, w->id, names[i]) ||
            corral_path_task(g[2 * i + 1].path, sizeof g[2 * i + 1].path, w->ns, names[i]))
            g[2 * i].path[0] = g[2 * i + 1].path[0] = '\0';
    }
    struct corral_error err = {0};
    /* The sync first: the reader session must see the leader's assignment multi. */
    int rc = zkraw_get_many(w->raw, g, 2 * n, w->p_assign_dir, 1000, clock_mono_ms() + READ_TIMEOUT,
                            &err);
    if (rc != CORRAL_OK) {
        fail(w, "reads failed: %s", err.msg);
        goto out;
    }
    int64_t seen = clock_wall_ms();
    for (size_t i = 0; i < n; i++) {
        struct zkraw_get *ga = &g[2 * i], *gt = &g[2 * i + 1];
        if (ga->rc == ZNONODE)
            continue; /* taken back or already finished */
        if (ga->rc != ZOK || gt->rc != ZOK) {
            if (gt->rc == ZNONODE) {
                corral_strlist_add(&w->ignored, names[i]);
                w->st.dropped++;
            } else {
                /* Neither ours to finish nor gone: read it again at the next listing, as
                 * corral-worker's reconcile does, instead of never again. */
                w->st.read_errors++;
                w->relist = true;
            }
            continue;
        }
        struct corral_assignment as;
        corral_error_clear(&err);
        if (corral_assignment_decode(ga->data, ga->len, &as, &err) != CORRAL_OK ||
            strcmp(as.task, names[i]) != 0 || strcmp(as.reg, w->reg) != 0) {
            /* Malformed, or made for another registration: the leader's to repair. */
            corral_strlist_add(&w->ignored, names[i]);
            w->st.dropped++;
            continue;
        }
        saw_epoch(w, as.epoch, seen);
        struct item *it = &items[n_items];
        memset(it, 0, sizeof *it);
        if (corral_task_parse(gt->data, gt->len, &it->t, &err) != CORRAL_OK) {
            corral_task_cleanup(&it->t);
            corral_strlist_add(&w->ignored, names[i]);
            w->st.dropped++;
            continue;
        }
        bool ours = it->t.worker && strcmp(it->t.worker, w->id) == 0 && it->t.attempt == as.attempt;
        bool ok = ours &&
                  (it->t.state == CORRAL_STATE_ASSIGNED || it->t.state == CORRAL_STATE_CANCELLING);
        /* What agent_assign.c and agent_finish.c do, without the process: START, then the
         * decision on a run that exited 0 (a cancel that raced wins there), then that event. */
        struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms()};
        if (ok && it->t.state == CORRAL_STATE_ASSIGNED)
            ok = corral_task_transition(&it->t, CORRAL_EV_START, &ctx, &err) == CORRAL_OK;
        it->start_wall_ms = ctx.now_ms;
        struct corral_run_result res = {
            .outcome = CORRAL_RUN_EXITED, .has_exit_code = true, .exit_code = 0};
        struct corral_attempt_end end = {
            .worker = w->id, .attempt = as.attempt, .is_http = it->t.spec.has_http, .res = &res};
        enum corral_event ev = CORRAL_EV_SUCCEED;
        char errtext[300];
        struct corral_transition_ctx fctx = {.now_ms = clock_wall_ms(), .jitter = rand_u32()};
        if (ok)
            ok = corral_result_decide(&it->t, &end, &ev, &fctx, errtext, sizeof errtext) &&
                 corral_task_transition(&it->t, ev, &fctx, &err) == CORRAL_OK;
        if (!ok) {
            corral_task_cleanup(&it->t);
            corral_strlist_add(&w->ignored, names[i]);
            w->st.dropped++;
            continue;
        }
        it->version = gt->version;
        n_items++;
    }
    commit_all(w, items, n_items);
out:
    for (size_t i = 0; i < n_items; i++)
        corral_task_cleanup(&items[i].t);
    free(items);
    zkraw_gets_free(g, 2 * n);
    free(g);
}

/* ------------------------------------------------------------------ the loop */

static void *run(void *arg)
{
    struct simworker *w = arg;
    if (!do_register(w))
        return NULL;
    struct corral_strlist kids = {0};
    size_t next = 0;
    bool need_list = true;
    int64_t next_list_ms = 0;
    char **names = corral_xcalloc(BATCH_MAX, sizeof *names);
    while (!atomic_load(&w->stop) && !bench_stopping() && !atomic_load(&w->failed)) {
        struct zk_event ev;
        while (zk_next_event(w->zk, &ev)) {
            if (ev.type == ZK_EV_CHILD ||
                (ev.type == ZK_EV_SESSION && ev.state == ZK_SESSION_CONNECTED))
                need_list = true;
            if (ev.type == ZK_EV_SESSION && ev.state == ZK_SESSION_EXPIRED)
                fail(w, "%s", "ZooKeeper session expired (the leader requeues its tasks)");
            zk_event_cleanup(&ev);
        }
        if (atomic_load(&w->failed))
            break;
        if (w->relist || clock_mono_ms() >= next_list_ms) {
            w->relist = false;
            need_list = true;
        }
        if (next >= kids.n && need_list) {
            corral_strlist_cleanup(&kids);
            struct corral_error err = {0};
            if (zk_children(w->zk, w->p_assign_dir, true, &kids, &err) != CORRAL_OK) {
                bench_sleep_ms(50);
                continue;
            }
            need_list = false;
            next_list_ms = clock_mono_ms() + RELIST_MS;
            next = 0;
            corral_strlist_intersect(&w->ignored, &kids);
        }
        size_t n = 0;
        size_t cap = w->cfg.slots < BATCH_MAX ? w->cfg.slots : BATCH_MAX;
        while (next < kids.n && n < cap) {
            const char *name = kids.items[next++];
            if (!corral_strlist_has(&w->ignored, name))
                names[n++] = (char *)(uintptr_t)name;
        }
        if (n == 0) {
            struct pollfd p = {.fd = zk_event_fd(w->zk), .events = POLLIN};
            (void)poll(&p, 1, need_list ? 0 : 100);
            continue;
        }
        finish_batch(w, names, n);
    }
    free(names);
    corral_strlist_cleanup(&kids);
    return NULL;
}

struct simworker *simworker_start(const struct simworker_cfg *cfg, const char *id)
{
    struct simworker *w = corral_xcalloc(1, sizeof *w);
    snprintf(w->id, sizeof w->id, "%s", id);
    w->hosts = corral_xstrdup(cfg->hosts);
    w->ns = corral_xstrdup(cfg->ns);
    w->cfg = *cfg;
    w->cfg.hosts = w->hosts;
    w->cfg.ns = w->ns;
    if (w->cfg.batch == 0)
        w->cfg.batch = 1;
    if (w->cfg.slots == 0)
        w->cfg.slots = 1;
    atomic_init(&w->stop, false);
    atomic_init(&w->registered, false);
    atomic_init(&w->failed, false);
    atomic_init(&w->finished, 0);
    bench_thread_start(&w->thread, run, w);
    w->started = true;
    return w;
}

bool simworker_registered(struct simworker *w)
{
    return atomic_load(&w->registered);
}

bool simworker_failed(struct simworker *w, char *why, size_t n)
{
    if (!atomic_load(&w->failed))
        return false;
    if (why)
        snprintf(why, n, "%s", w->st.error);
    return true;
}

uint64_t simworker_finished(struct simworker *w)
{
    return atomic_load(&w->finished);
}

void simworker_stop(struct simworker *w)
{
    if (!w->started)
        return;
    atomic_store(&w->stop, true);
    pthread_join(w->thread, NULL);
    w->started = false;
    zkraw_close(w->raw);
    w->raw = NULL;
    zk_close(w->zk); /* the registration vanishes with the session */
    w->zk = NULL;
}

const struct simworker_stats *simworker_stats(const struct simworker *w)
{
    return &w->st;
}

void simworker_free(struct simworker *w)
{
    if (!w)
        return;
    simworker_stop(w);
    corral_strlist_cleanup(&w->ignored);
    free(w->st.start_ms);
    free(w->st.end_ms);
    free(w->hosts);
    free(w->ns);
    free(w);
}
