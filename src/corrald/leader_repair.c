/* SPDX-License-Identifier: MIT */
/*
 * The leader's repairs (leader_internal.h): assignments whose worker incarnation is gone go
 * back to the queue (the core decides, corral_lost_decide; the ops are corral_ops_release),
 * empty assignment folders of gone workers and orphan queue entries go away. Each repair is
 * one multi fenced by our election node.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/assignment.h"
#include "corral/id.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/result.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "leader"

/* Costs are found by path through a hash index: a round looks up every live assignment, and a
 * scan per lookup was quadratic in them (1,024 assignments: half a million path compares). */
static uint64_t path_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void slot_insert(struct leader *l, size_t pos)
{
    size_t mask = l->n_cost_slots - 1;
    for (size_t i = path_hash(l->costs[pos].path) & mask;; i = (i + 1) & mask)
        if (l->cost_slots[i] == 0) {
            l->cost_slots[i] = pos + 1;
            return;
        }
}

/* Rebuild the index for the costs as they are, at least twice as large as needed. */
static void slots_rebuild(struct leader *l)
{
    size_t want = 64;
    while (want < 2 * (l->n_costs + 1))
        want *= 2;
    if (want != l->n_cost_slots) {
        free(l->cost_slots);
        l->cost_slots = corral_xcalloc(want, sizeof *l->cost_slots);
        l->n_cost_slots = want;
    } else {
        memset(l->cost_slots, 0, want * sizeof *l->cost_slots);
    }
    for (size_t i = 0; i < l->n_costs; i++)
        slot_insert(l, i);
}

static struct acost *cost_find(struct leader *l, const char *path)
{
    if (l->n_cost_slots == 0)
        return NULL;
    size_t mask = l->n_cost_slots - 1;
    for (size_t i = path_hash(path) & mask; l->cost_slots[i] != 0; i = (i + 1) & mask) {
        struct acost *c = &l->costs[l->cost_slots[i] - 1];
        if (strcmp(c->path, path) == 0)
            return c;
    }
    return NULL;
}

void leader_costs_reset(struct leader *l)
{
    l->n_costs = 0;
    if (l->cost_slots)
        memset(l->cost_slots, 0, l->n_cost_slots * sizeof *l->cost_slots);
}

void leader_cost_put(struct leader *l, const char *path, const char *reg, uint32_t cpu_milli,
                     uint64_t mem_mb)
{
    struct acost *c = cost_find(l, path);
    if (!c) {
        if (l->n_costs == l->cap_costs) {
            l->cap_costs = l->cap_costs ? l->cap_costs * 2 : 32;
            l->costs = corral_xrealloc(l->costs, l->cap_costs * sizeof *l->costs);
        }
        c = &l->costs[l->n_costs++];
        snprintf(c->path, sizeof c->path, "%s", path);
        if (2 * (l->n_costs + 1) > l->n_cost_slots)
            slots_rebuild(l);
        else
            slot_insert(l, l->n_costs - 1);
    }
    snprintf(c->reg, sizeof c->reg, "%s", reg);
    c->cpu_milli = cpu_milli;
    c->mem_mb = mem_mb;
    c->seen = true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Separate identities: an assignment gone since the last round (finished, returned, taken
 * back) closes its task to the worker it was opened to, unless the task has been assigned
 * again meanwhile (its new worker keeps it). Sent now, answered later; the grants of this
 * round's assignments follow it on the same session. */
static void close_finished(struct replica *r)
{
    struct leader *l = r->leader;
    const char **live = corral_xcalloc(l->n_costs ? l->n_costs : 1, sizeof *live);
    size_t n_live = 0;
    for (size_t i = 0; i < l->n_costs; i++)
        if (l->costs[i].seen)
            live[n_live++] = strrchr(l->costs[i].path, '/') + 1;
    qsort(live, n_live, sizeof *live, cmp_str);
    for (size_t i = 0; i < l->n_costs; i++) {
        if (l->costs[i].seen)
            continue;
        const char *task = strrchr(l->costs[i].path, '/') + 1;
        char tpath[CORRAL_PATH_MAX];
        if ((n_live == 0 || !bsearch(&task, live, n_live, sizeof *live, cmp_str)) &&
            corral_path_task(tpath, sizeof tpath, r->opts.ns, task) == CORRAL_OK)
            zk_acl_grant(r->zk, tpath, NULL);
    }
    free(live);
}

/* Drop the entries of assignments not listed in this round. */
static void costs_sweep(struct replica *r)
{
    struct leader *l = r->leader;
    if (zk_acl_has_setup(r->zk))
        close_finished(r);
    size_t k = 0;
    for (size_t i = 0; i < l->n_costs; i++)
        if (l->costs[i].seen)
            l->costs[k++] = l->costs[i];
    bool dropped = k != l->n_costs;
    l->n_costs = k;
    if (dropped)
        slots_rebuild(l);
}

/* Read an assignment this leader does not know yet: its reg and its task's resources.
 * CORRAL_ENOTFOUND when it finished meanwhile. A malformed assignment costs nothing and has
 * no reg, so it is requeued like one of a gone incarnation. */
static int cost_load(struct replica *r, const char *apath, const char *id, struct acost **out,
                     struct corral_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, apath, false, &data, &len, NULL, err);
    if (rc != CORRAL_OK)
        return rc;
    struct corral_assignment a;
    struct corral_error derr = {0};
    if (corral_assignment_decode(data, len, &a, &derr) != CORRAL_OK) {
        CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "assignment-malformed", apath,
                        "malformed assignment path=%s: %s%s%s", apath, derr.field,
                        derr.field[0] ? ": " : "", derr.msg);
        a.reg[0] = '\0';
    }
    free(data);
    struct corral_task t = {0};
    char tpath[CORRAL_PATH_MAX];
    store_task_path(r, id, tpath);
    int trc = store_read_task(r, tpath, &t, NULL, err);
    if (trc != CORRAL_OK)
        corral_error_clear(err); /* gone or corrupt: it costs nothing */
    leader_cost_put(r->leader, apath, a.reg, trc == CORRAL_OK ? t.spec.cpu_milli : 0,
                    trc == CORRAL_OK ? t.spec.mem_mb : 0);
    *out = cost_find(r->leader, apath);
    corral_task_cleanup(&t);
    return CORRAL_OK;
}

/* The assignment assign/<worker>/<id> belongs to no live incarnation: give the task back to
 * the queue (or finish it when it was being cancelled), and drop the assignment. */
static int requeue_lost(struct replica *r, const char *worker, const char *id,
                        struct corral_error *err)
{
    struct corral_task t = {0};
    int32_t version = -1;
    char tpath[CORRAL_PATH_MAX];
    /* An odd name (not a task id) has no task behind it: it is dropped like a stale one. */
    int rc =
        corral_id_is_valid(id) && corral_path_task(tpath, sizeof tpath, r->opts.ns, id) == CORRAL_OK
            ? store_read_task(r, tpath, &t, &version, err)
            : CORRAL_EINVAL;
    if (rc != CORRAL_OK && rc != CORRAL_ENOTFOUND && rc != CORRAL_EINVAL)
        return rc;
    corral_error_clear(err);
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.requeue");
    if (corral_lost_decide(rc == CORRAL_OK ? &t : NULL, worker) == CORRAL_LOST_DROP_ASSIGNMENT) {
        /* A stale assignment of a task that moved on: only the assignment goes. */
        rc = corral_ops_drop_assignment(&txn, r->opts.ns, r->el.node, worker, id);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        corral_task_cleanup(&t);
        return rc == CORRAL_ENOTFOUND ? CORRAL_OK : rc;
    }
    enum corral_state before = t.state;
    char reason[CORRAL_WORKER_ID_MAX + 32];
    snprintf(reason, sizeof reason, "worker %s lost", worker);
    struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms(), .error = reason};
    rc = corral_task_transition(&t, CORRAL_EV_WORKER_LOST, &ctx, err);
    if (rc == CORRAL_OK)
        rc = corral_ops_release(&txn, r->opts.ns, r->el.node, worker, &t, version, NULL);
    char detail[CORRAL_WORKER_ID_MAX + 48];
    snprintf(detail, sizeof detail, "worker=%s lost attempt=%" PRIu32, worker, t.attempt);
    struct persist_change chg = {.task = id, .from = before, .to = t.state, .detail = detail};
    int failed = -1;
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, &chg, &failed, err);
    /* A done-index slot or queue bucket made on demand is missing: make it, try once more. */
    char missing[CORRAL_PATH_MAX];
    if (rc == CORRAL_ENOTFOUND &&
        corral_ops_missing_dir(&txn, r->opts.ns, failed, missing, sizeof missing)) {
        corral_error_clear(err);
        rc = zk_ensure_path(r->zk, missing, err);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, &chg, NULL, err);
    }
    if (rc == CORRAL_OK)
        atomic_fetch_add(&r->n_requeued, 1);
    corral_txn_cleanup(&txn);
    corral_task_cleanup(&t);
    return rc;
}

/* Tidy the folder of a worker that is gone and owes nothing. */
static int drop_dir(struct replica *r, const char *worker, struct corral_error *err)
{
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.cleanup");
    int rc = corral_ops_drop_assign_dir(&txn, r->opts.ns, r->el.node, worker);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
    if (rc == CORRAL_EFENCED)
        return rc;
    corral_error_clear(err);
    return CORRAL_OK;
}

/* ---- the listings of assign/, kept between rounds (leader_internal.h) ---- */

static void assign_free_lists(struct leader *l)
{
    for (size_t i = 0; l->assign_lists && i < l->assign_dirs.n; i++)
        corral_strlist_cleanup(&l->assign_lists[i]);
    free(l->assign_lists);
    free(l->assign_valid);
    l->assign_lists = NULL;
    l->assign_valid = NULL;
}

void leader_assign_reset(struct leader *l)
{
    assign_free_lists(l);
    corral_strlist_cleanup(&l->assign_dirs);
    l->assign_dirs_valid = false;
}

/* Index of folder name in assign_dirs, or -1. */
static ptrdiff_t assign_find(const struct leader *l, const char *name)
{
    size_t lo = 0, hi = l->assign_dirs.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->assign_dirs.items[mid], name);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

void leader_assign_touched(struct leader *l, const char *worker)
{
    ptrdiff_t i = assign_find(l, worker);
    if (i >= 0)
        l->assign_valid[i] = false;
    else
        l->assign_dirs_valid = false; /* a folder we have not listed yet */
}

void leader_assign_on_event(struct leader *l, const struct zk_event *ev)
{
    if (ev->type == ZK_EV_SESSION) {
        /* Watches may be gone with the connection: list everything again. */
        l->assign_dirs_valid = false;
        for (size_t i = 0; l->assign_valid && i < l->assign_dirs.n; i++)
            l->assign_valid[i] = false;
        return;
    }
    size_t n = strlen(l->assign_dir);
    if (n == 0 || strncmp(ev->path, l->assign_dir, n) != 0)
        return;
    const char *rest = ev->path + n;
    if (*rest == '\0') {
        l->assign_dirs_valid = false; /* a folder came or went */
        return;
    }
    if (*rest != '/')
        return;
    rest++;
    const char *slash = strchr(rest, '/');
    char name[CORRAL_PATH_MAX];
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len == 0 || len >= sizeof name)
        return;
    memcpy(name, rest, len);
    name[len] = '\0';
    ptrdiff_t i = assign_find(l, name);
    if (i >= 0)
        l->assign_valid[i] = false;
}

/* List assign/ again (with a child watch) and carry over what is still current. */
static int assign_relist_dirs(struct replica *r, const char *dir, struct corral_error *err)
{
    struct leader *l = r->leader;
    struct corral_strlist names = {0};
    int32_t cv = -1;
    int rc = zk_children_watch_many(r->zk, &dir, 1, &names, &cv, err);
    if (rc != CORRAL_OK)
        return rc;
    struct corral_strlist *lists = corral_xcalloc(names.n ? names.n : 1, sizeof *lists);
    bool *valid = corral_xcalloc(names.n ? names.n : 1, sizeof *valid);
    for (size_t i = 0; i < names.n; i++) {
        ptrdiff_t o = assign_find(l, names.items[i]);
        if (o < 0)
            continue;
        lists[i] = l->assign_lists[o];
        memset(&l->assign_lists[o], 0, sizeof l->assign_lists[o]);
        valid[i] = l->assign_valid[o];
    }
    leader_assign_reset(l);
    l->assign_dirs = names;
    l->assign_lists = lists;
    l->assign_valid = valid;
    l->assign_dirs_valid = cv >= 0; /* a missing assign/ sets no watch: list it again */
    return CORRAL_OK;
}

/*
 * Bring the listings of assign/ and of every worker folder in it up to date: listed again only
 * where something changed (above), all in one pipelined batch. On success (*wptrs)[i] is the
 * path of l->assign_dirs.items[i], or dir for a name too long for a path (skipped).
 */
static int list_folders(struct replica *r, const char *dir, char (**wpaths)[CORRAL_PATH_MAX],
                        const char ***wptrs, struct corral_error *err)
{
    struct leader *l = r->leader;
    int rc = CORRAL_OK;
    int64_t now = clock_mono_ms();
    if (now - l->assign_all_ms >= LEADER_ASSIGN_ALL_MS || now < l->assign_all_ms) {
        leader_assign_reset(l);
        l->assign_all_ms = now;
    }
    if (!l->assign_dirs_valid && (rc = assign_relist_dirs(r, dir, err)) != CORRAL_OK)
        return rc;
    size_t n = l->assign_dirs.n;
    *wpaths = corral_xcalloc(n ? n : 1, CORRAL_PATH_MAX);
    *wptrs = corral_xcalloc(n ? n : 1, sizeof **wptrs);
    const char **stale = corral_xcalloc(n ? n : 1, sizeof *stale);
    size_t *at = corral_xcalloc(n ? n : 1, sizeof *at);
    size_t n_stale = 0;
    for (size_t i = 0; i < n; i++) {
        /* An odd name (too long for a path) is skipped: the parent stands in for it. */
        bool odd = corral_path_child((*wpaths)[i], CORRAL_PATH_MAX, dir, l->assign_dirs.items[i]) !=
                   CORRAL_OK;
        (*wptrs)[i] = odd ? dir : (*wpaths)[i];
        if (!odd && !l->assign_valid[i]) {
            stale[n_stale] = (*wptrs)[i];
            at[n_stale++] = i;
        }
    }
    if (n_stale > 0) {
        struct corral_strlist *fresh = corral_xcalloc(n_stale, sizeof *fresh);
        int32_t *cvs = corral_xcalloc(n_stale, sizeof *cvs);
        rc = zk_children_watch_many(r->zk, stale, n_stale, fresh, cvs, err);
        for (size_t j = 0; rc == CORRAL_OK && j < n_stale; j++) {
            corral_strlist_cleanup(&l->assign_lists[at[j]]);
            l->assign_lists[at[j]] = fresh[j];
            memset(&fresh[j], 0, sizeof fresh[j]);
            /* A folder gone meanwhile sets no watch: listed again until assign/ drops it. */
            l->assign_valid[at[j]] = cvs[j] >= 0;
        }
        for (size_t j = 0; j < n_stale; j++)
            corral_strlist_cleanup(&fresh[j]);
        free(cvs);
        free(fresh);
    }
    free(at);
    free(stale);
    if (rc != CORRAL_OK) {
        free(*wptrs);
        free(*wpaths);
        *wptrs = NULL;
        *wpaths = NULL;
    }
    return rc;
}

int leader_load_assignments(struct replica *r, struct round *rd, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ASSIGN, dir);
    char(*wpaths)[CORRAL_PATH_MAX] = NULL;
    const char **wptrs = NULL;
    int rc = list_folders(r, dir, &wpaths, &wptrs, err);
    if (rc != CORRAL_OK)
        return rc;
    /* Read in place: what the loop writes (requeues, dropped folders) only marks listings to be
     * read again next round, it never changes these arrays. */
    const struct corral_strlist *wdirs = &r->leader->assign_dirs;
    for (size_t i = 0; i < r->leader->n_costs; i++)
        r->leader->costs[i].seen = false;
    for (size_t i = 0; i < wdirs->n && rc == CORRAL_OK; i++) {
        const char *wid = wdirs->items[i];
        struct worker_info *w = workers_find(&rd->ws, wid);
        if (w)
            rd->has_dir[w - rd->ws.items] = true;
        const char *wpath = wpaths[i];
        if (wptrs[i] == dir)
            continue;
        const struct corral_strlist *tasks = &r->leader->assign_lists[i];
        if (!w && tasks->n == 0 && rc == CORRAL_OK) {
            rc = drop_dir(r, wid, err);
            r->leader->assign_dirs_valid = false; /* gone, or still there: list it again */
        }
        for (size_t j = 0; j < tasks->n && rc == CORRAL_OK; j++) {
            char apath[CORRAL_PATH_MAX];
            if (corral_path_child(apath, sizeof apath, wpath, tasks->items[j]) != CORRAL_OK)
                continue;
            struct acost *c = NULL;
            if (w) {
                c = cost_find(r->leader, apath);
                int grc = c ? CORRAL_OK : cost_load(r, apath, tasks->items[j], &c, err);
                if (grc == CORRAL_ENOTFOUND) {
                    corral_error_clear(err);
                    continue; /* finished meanwhile */
                }
                if (grc != CORRAL_OK) {
                    rc = grc;
                    break;
                }
                c->seen = true;
            }
            if (!c || strcmp(c->reg, w->reg.reg) != 0) {
                leader_assign_touched(r->leader, wid); /* what we remove: list it again */
                rc = requeue_lost(r, wid, tasks->items[j], err);
                if (rc != CORRAL_OK && rc != CORRAL_EFENCED) {
                    CORRAL_LOG(CORRAL_LOG_WARN, "requeue task=%s worker=%s: %s", tasks->items[j],
                               wid, err->msg);
                    corral_error_clear(err);
                    rc = CORRAL_OK; /* retried next round */
                }
                continue;
            }
            w->running++;
            w->used_cpu_milli += c->cpu_milli;
            w->used_mem_mb += c->mem_mb;
        }
    }
    free(wptrs);
    free(wpaths);
    if (rc == CORRAL_OK)
        costs_sweep(r);
    return rc;
}

int leader_drop_entry(struct replica *r, const char *name, struct corral_error *err)
{
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.cleanup");
    int rc = corral_ops_drop_queue_entry(&txn, r->opts.ns, r->el.node, name);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
    if (rc == CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_INFO, "removed stale queue entry name=%s", name);
    if (rc == CORRAL_EFENCED)
        return rc;
    corral_error_clear(err);
    return CORRAL_OK;
}
