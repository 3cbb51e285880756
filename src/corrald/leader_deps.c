/* SPDX-License-Identifier: MIT */
/*
 * The leader resolves task dependencies (docs/workflows.md "Task dependencies"). A waiting
 * dependent has an edge deps/<bb>/<dep>.<dependent> for each dependency that had not succeeded
 * when it was stored. The leader lists the edge buckets (child watches) and reads each edge's
 * dependency (data watch); when a dependency is final (or gone), each of its edges is resolved
 * in one fenced multi: the dependent is released (queued), cancelled naming the failed
 * dependency, or left waiting for its other dependencies; the edge goes in the same multi. No
 * round reads the waiting tasks themselves, only the edges whose dependency changed; a new
 * leader continues from the edges in ZooKeeper.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/deps.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "leader"

/* Bucket folders listed per pipelined batch. */
#define DEPS_LIST_CHUNK 32u

struct edge {
    char dep[CORRAL_ID_LEN + 1];
    char dependent[CORRAL_ID_LEN + 1];
};

/* A task's state as read this tick (-1: gone), sorted by id. */
struct known {
    char id[CORRAL_ID_LEN + 1];
    int state;
};

static int cmp_known(const void *a, const void *b)
{
    return strcmp(((const struct known *)a)->id, ((const struct known *)b)->id);
}

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    int c = strcmp(x->dep, y->dep);
    return c ? c : strcmp(x->dependent, y->dependent);
}

static bool under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 0 && strncmp(path, prefix, n) == 0;
}

void leader_deps_on_event(struct leader *l, const struct zk_event *ev)
{
    if (ev->type == ZK_EV_SESSION || under(ev->path, l->deps_prefix) ||
        ((ev->type == ZK_EV_CHANGED || ev->type == ZK_EV_DELETED) &&
         under(ev->path, l->deps_tasks_prefix)))
        l->deps_dirty = true;
}

void leader_deps_reset(struct leader *l)
{
    l->deps_dirty = true;
}

/* Every edge, with child watches on the buckets. */
static int list_edges(struct replica *r, struct edge **out, size_t *n_out, struct corral_error *err)
{
    *out = NULL;
    *n_out = 0;
    size_t cap = 0;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(DEPS_LIST_CHUNK, CORRAL_PATH_MAX);
    const char *ptrs[DEPS_LIST_CHUNK];
    int rc = CORRAL_OK;
    for (unsigned at = 0; at < CORRAL_BUCKETS && rc == CORRAL_OK; at += DEPS_LIST_CHUNK) {
        struct corral_strlist names[DEPS_LIST_CHUNK];
        int32_t cvs[DEPS_LIST_CHUNK];
        memset(names, 0, sizeof names);
        for (unsigned i = 0; i < DEPS_LIST_CHUNK; i++) {
            if (corral_path_bucket_dir(paths[i], CORRAL_PATH_MAX, r->opts.ns, CORRAL_DIR_DEPS,
                                       at + i) != CORRAL_OK)
                abort(); /* a validated namespace always fits */
            ptrs[i] = paths[i];
        }
        rc = zk_children_watch_many(r->zk, ptrs, DEPS_LIST_CHUNK, names, cvs, err);
        for (unsigned i = 0; i < DEPS_LIST_CHUNK; i++) {
            for (size_t k = 0; rc == CORRAL_OK && k < names[i].n; k++) {
                struct edge e;
                if (!corral_dep_edge_parse(names[i].items[k], e.dep, e.dependent)) {
                    CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "dep-edge", names[i].items[k],
                                    "ignoring odd dependency edge name=%.64s", names[i].items[k]);
                    continue;
                }
                if (*n_out == cap) {
                    cap = cap ? cap * 2 : 64;
                    *out = corral_xrealloc(*out, cap * sizeof **out);
                }
                (*out)[(*n_out)++] = e;
            }
            corral_strlist_cleanup(&names[i]);
        }
    }
    free(paths);
    if (rc != CORRAL_OK) {
        free(*out);
        *out = NULL;
        *n_out = 0;
    }
    return rc;
}

/* Read the states of ids[0..n) (pipelined; with a data watch when watch) into known. */
static int read_states(struct replica *r, char (*ids)[CORRAL_ID_LEN + 1], size_t n, bool watch,
                       struct known *known, struct corral_error *err)
{
    const char **idv = corral_xcalloc(n ? n : 1, sizeof *idv);
    for (size_t i = 0; i < n; i++)
        idv[i] = ids[i];
    struct zk_got *got = store_get_tasks(r, idv, n, watch);
    free(idv);
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        snprintf(known[i].id, sizeof known[i].id, "%s", ids[i]);
        known[i].state = -1;
        struct corral_task t = {0};
        if (got[i].rc == CORRAL_OK &&
            corral_task_parse(got[i].data, got[i].len, &t, &got[i].err) == CORRAL_OK)
            known[i].state = (int)t.state;
        else if (got[i].rc == CORRAL_OK || got[i].rc == CORRAL_EINVAL)
            CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "task-corrupt", ids[i],
                            "corrupt task znode id=%s: %s", ids[i], got[i].err.msg);
        else if (got[i].rc != CORRAL_ENOTFOUND && rc == CORRAL_OK) {
            rc = got[i].rc;
            *err = got[i].err;
        }
        corral_task_cleanup(&t);
        zk_got_cleanup(&got[i]);
    }
    free(got);
    return rc;
}

static const struct known *find_known(const struct known *k, size_t n, const char *id)
{
    struct known key;
    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, k, n, sizeof *k, cmp_known);
}

/*
 * Resolve the edges es[0..n) (each has a final dependency): read each dependent, decide, and
 * write one fenced multi per edge, all sent together.
 */
static int resolve(struct replica *r, const struct edge *es, size_t n, const struct known *known,
                   size_t n_known, struct corral_error *err)
{
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(n, sizeof *got);
    struct corral_task *ts = corral_xcalloc(n, sizeof *ts);
    for (size_t i = 0; i < n; i++) {
        store_task_path(r, es[i].dependent, paths[i]);
        ptrs[i] = paths[i];
    }
    zk_get_many(r->zk, ptrs, n, false, got);
    int rc = CORRAL_OK;
    /* The dependencies of the waiting dependents that this tick has not read yet. */
    char(*more)[CORRAL_ID_LEN + 1] = NULL;
    size_t n_more = 0;
    for (size_t i = 0; i < n; i++) {
        if (got[i].rc == CORRAL_OK &&
            corral_task_parse(got[i].data, got[i].len, &ts[i], &got[i].err) == CORRAL_OK &&
            ts[i].state == CORRAL_STATE_WAITING) {
            for (size_t k = 0; k < ts[i].spec.n_depends_on; k++) {
                const char *d = ts[i].spec.depends_on[k];
                if (find_known(known, n_known, d))
                    continue;
                more = corral_xrealloc(more, (n_more + 1) * sizeof *more);
                snprintf(more[n_more++], CORRAL_ID_LEN + 1, "%s", d);
            }
        } else if (got[i].rc != CORRAL_OK && got[i].rc != CORRAL_ENOTFOUND && rc == CORRAL_OK) {
            rc = got[i].rc;
            *err = got[i].err;
        }
    }
    struct known *all = NULL;
    size_t n_all = 0;
    if (rc == CORRAL_OK) {
        all = corral_xcalloc(n_known + n_more + 1, sizeof *all);
        memcpy(all, known, n_known * sizeof *all);
        rc = read_states(r, more, n_more, false, all + n_known, err);
        n_all = n_known + n_more;
        qsort(all, n_all, sizeof *all, cmp_known);
    }
    struct corral_txn *ms = corral_xcalloc(n, sizeof *ms);
    int *rcs = corral_xcalloc(n, sizeof *rcs);
    struct corral_error *errs = corral_xcalloc(n, sizeof *errs);
    enum corral_deps_verdict *verdict = corral_xcalloc(n, sizeof *verdict);
    int64_t now = clock_wall_ms();
    for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
        corral_txn_init(&ms[i], "leader.deps");
        bool waiting = got[i].rc == CORRAL_OK && ts[i].state == CORRAL_STATE_WAITING;
        const struct corral_task *change = NULL;
        verdict[i] = CORRAL_DEPS_PENDING;
        if (waiting) {
            size_t nd = ts[i].spec.n_depends_on, culprit = 0;
            int *states = corral_xcalloc(nd ? nd : 1, sizeof *states);
            for (size_t k = 0; k < nd; k++) {
                const struct known *kk = find_known(all, n_all, ts[i].spec.depends_on[k]);
                states[k] = kk ? kk->state : -1;
            }
            char why[128] = "";
            verdict[i] = corral_deps_decide(&ts[i], states, &culprit, why, sizeof why);
            free(states);
            struct corral_error terr = {0};
            if (verdict[i] == CORRAL_DEPS_MET &&
                corral_task_transition(&ts[i], CORRAL_EV_DEPS_MET,
                                       &(struct corral_transition_ctx){.now_ms = now},
                                       &terr) == CORRAL_OK)
                change = &ts[i];
            else if (verdict[i] == CORRAL_DEPS_FAILED &&
                     corral_task_transition(
                         &ts[i], CORRAL_EV_CANCEL,
                         &(struct corral_transition_ctx){.now_ms = now, .error = why},
                         &terr) == CORRAL_OK)
                change = &ts[i];
        }
        /* Pending, or a dependent no longer waiting (cancelled by a user, or gone): the edge
         * alone goes, since its dependency is final. */
        if (corral_ops_resolve_edge(&ms[i], r->opts.ns, r->el.node, change,
                                    change ? got[i].version : -1, es[i].dep,
                                    es[i].dependent) != CORRAL_OK)
            rcs[i] = CORRAL_EINTERNAL;
    }
    if (rc == CORRAL_OK)
        persist_commit_members(r, "leader.deps", ms, n, rcs, errs);
    for (size_t i = 0; i < n; i++) {
        if (rc != CORRAL_OK) {
            /* nothing was written */
        } else if (rcs[i] == CORRAL_OK) {
            if (verdict[i] != CORRAL_DEPS_PENDING && ts[i].state != CORRAL_STATE_WAITING)
                persist_applied(&(struct persist_change){
                    .task = ts[i].id,
                    .from = CORRAL_STATE_WAITING,
                    .to = ts[i].state,
                    .detail = ts[i].state == CORRAL_STATE_CANCELLED ? ts[i].error : NULL});
            if (ts[i].state == CORRAL_STATE_QUEUED)
                leader_queue_touched(r->leader, ts[i].id);
        } else if (rcs[i] == CORRAL_EFENCED || rcs[i] == CORRAL_EUNKNOWN ||
                   rcs[i] == CORRAL_EUNAVAIL) {
            rc = rcs[i];
            *err = errs[i];
        } else {
            /* Lost a race (cancelled meanwhile): the next tick sees the edge again. */
            CORRAL_LOG(CORRAL_LOG_DEBUG, "dependency edge %s.%s not resolved: %s", es[i].dep,
                       es[i].dependent, errs[i].msg);
            r->leader->deps_dirty = true;
        }
        corral_txn_cleanup(&ms[i]);
        corral_task_cleanup(&ts[i]);
        zk_got_cleanup(&got[i]);
    }
    r->leader->dirty = true;
    free(verdict);
    free(errs);
    free(rcs);
    free(ms);
    free(all);
    free(more);
    free(ts);
    free(got);
    free(ptrs);
    free(paths);
    return rc;
}

static void append_slash(char p[CORRAL_PATH_MAX])
{
    size_t n = strlen(p);
    if (n + 1 < CORRAL_PATH_MAX) {
        p[n] = '/';
        p[n + 1] = '\0';
    }
}

int leader_deps_tick(struct replica *r, struct corral_error *err)
{
    struct leader *l = r->leader;
    if (!l->deps_prefix[0]) {
        store_dir_path(r, CORRAL_DIR_DEPS, l->deps_prefix);
        store_dir_path(r, CORRAL_DIR_TASKS, l->deps_tasks_prefix);
        append_slash(l->deps_prefix);
        append_slash(l->deps_tasks_prefix);
    }
    if (!l->deps_dirty && clock_mono_ms() - l->deps_read_ms < LEADER_DEPS_REREAD_MS)
        return CORRAL_OK;
    l->deps_dirty = false;
    l->deps_read_ms = clock_mono_ms();
    struct edge *es = NULL;
    size_t n = 0;
    int rc = list_edges(r, &es, &n, err);
    if (rc != CORRAL_OK || n == 0) {
        if (rc != CORRAL_OK)
            l->deps_dirty = true;
        free(es);
        return rc;
    }
    qsort(es, n, sizeof *es, cmp_edge);
    /* The distinct dependencies, read with a data watch: a change wakes us. */
    char(*deps)[CORRAL_ID_LEN + 1] = corral_xcalloc(n, CORRAL_ID_LEN + 1);
    size_t n_deps = 0;
    for (size_t i = 0; i < n; i++)
        if (n_deps == 0 || strcmp(deps[n_deps - 1], es[i].dep) != 0)
            snprintf(deps[n_deps++], CORRAL_ID_LEN + 1, "%s", es[i].dep);
    struct known *known = corral_xcalloc(n_deps, sizeof *known);
    rc = read_states(r, deps, n_deps, true, known, err);
    /* deps[] is sorted, so known[] is too. */
    struct edge *ready = corral_xcalloc(n, sizeof *ready);
    size_t n_ready = 0;
    for (size_t i = 0; rc == CORRAL_OK && i < n; i++) {
        const struct known *k = find_known(known, n_deps, es[i].dep);
        if (k && (k->state < 0 || corral_state_is_final((enum corral_state)k->state))) {
            if (n_ready == LEADER_DEPS_PER_TICK) {
                l->deps_dirty = true; /* the rest next round */
                break;
            }
            ready[n_ready++] = es[i];
        }
    }
    if (rc == CORRAL_OK && n_ready > 0)
        rc = resolve(r, ready, n_ready, known, n_deps, err);
    if (rc != CORRAL_OK)
        l->deps_dirty = true;
    free(ready);
    free(known);
    free(deps);
    free(es);
    return rc;
}
