/* SPDX-License-Identifier: MIT */
/*
 * Scheduling loop of the leader (see leader.h, docs/znodes.md). Every write here is one multi
 * that starts with a check of our own election znode: a replica that lost leadership during a
 * tick (session expired, a newer leader took over) can change nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "corral/id.h"
#include "corral/opts.h"
#include "corral/paths.h"
#include "corral/sched.h"
#include "corral/task.h"
#include "corral/xalloc.h"
#include "corrald/leader.h"
#include "corrald/store.h"
#include "corrald/workers.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "leader"

/* Reconcile at least this often even without watch events (watches are only hints). */
#define LEADER_PERIOD_MS 1000
/* Coalesce bursts of events into one round. */
#define LEADER_MIN_GAP_MS 20
/* Sweep one slice of the task buckets for tasks past --retention this often (a full pass over
 * all buckets takes CORRAL_BUCKETS / LEADER_RETENTION_SLICE slices: 64 s). */
#define LEADER_RETENTION_PERIOD_MS 4000
#define LEADER_RETENTION_SLICE     16u

struct qtask {
    struct corral_task task;
    int32_t version;
    bool gone; /* assigned or changed this round: drop from the cache */
};

struct acost {
    char path[CORRAL_PATH_MAX];
    char reg[32];
    uint32_t cpu_milli;
    uint64_t mem_mb;
    bool seen; /* listed in this round */
};

struct leader {
    struct corral_sched_state sched;
    bool dirty;
    int64_t last_round_ms;
    int64_t last_retention_ms;   /* -1: not leading yet */
    int64_t retention_period_ms; /* LEADER_RETENTION_PERIOD_MS (tests may shorten it) */
    unsigned retention_cursor;   /* next task bucket to sweep */
    int64_t wake_at_ms;          /* monotonic: a retry backoff ends then; 0 = none */
    uint64_t rounds;
    /* Queued tasks as last read, sorted by id. Safe to keep between rounds: a queued task
     * changes only together with its queue entry (cancel, assign), and every write we base on
     * it checks the version we read. */
    struct qtask *cache;
    size_t n_cache;
    /* What each live assignment costs its worker, by assignment path. An assignment znode's
     * reg and its task's resources never change while it exists, so one read per assignment
     * is enough; entries whose znode is no longer listed are dropped every round. */
    struct acost *costs;
    size_t n_costs, cap_costs;
};

struct leader *leader_new(void)
{
    struct leader *l = calloc(1, sizeof *l);
    if (!l)
        abort();
    l->dirty = true;
    l->last_retention_ms = -1;
    l->retention_period_ms = LEADER_RETENTION_PERIOD_MS;
#ifdef CORRAL_TEST_HOOKS
    /* Test builds: CORRAL_TEST_RETENTION_PERIOD_MS lets a test see a whole sweep in seconds. */
    const char *period = getenv("CORRAL_TEST_RETENTION_PERIOD_MS");
    if (period && atoll(period) > 0)
        l->retention_period_ms = atoll(period);
#endif
    return l;
}

static void cache_clear(struct leader *l)
{
    for (size_t i = 0; i < l->n_cache; i++)
        corral_task_cleanup(&l->cache[i].task);
    free(l->cache);
    l->cache = NULL;
    l->n_cache = 0;
}

void leader_free(struct leader *l)
{
    if (!l)
        return;
    cache_clear(l);
    free(l->costs);
    free(l);
}

static struct acost *cost_find(struct leader *l, const char *path)
{
    for (size_t i = 0; i < l->n_costs; i++)
        if (strcmp(l->costs[i].path, path) == 0)
            return &l->costs[i];
    return NULL;
}

/* Remember (or replace) what the assignment at path costs. */
static struct acost *cost_put(struct leader *l, const char *path, const char *reg,
                              uint32_t cpu_milli, uint64_t mem_mb)
{
    struct acost *c = cost_find(l, path);
    if (!c) {
        if (l->n_costs == l->cap_costs) {
            l->cap_costs = l->cap_costs ? l->cap_costs * 2 : 32;
            l->costs = realloc(l->costs, l->cap_costs * sizeof *l->costs);
            if (!l->costs)
                abort();
        }
        c = &l->costs[l->n_costs++];
        snprintf(c->path, sizeof c->path, "%s", path);
    }
    snprintf(c->reg, sizeof c->reg, "%s", reg);
    c->cpu_milli = cpu_milli;
    c->mem_mb = mem_mb;
    c->seen = true;
    return c;
}

/* Drop the entries of assignments not listed in this round. */
static void costs_sweep(struct leader *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n_costs; i++)
        if (l->costs[i].seen)
            l->costs[k++] = l->costs[i];
    l->n_costs = k;
}

/* Read an assignment this leader does not know yet: its reg and its task's resources.
 * CORRAL_ENOTFOUND when it finished meanwhile. */
static int cost_load(struct replica *r, const char *apath, const char *id, struct acost **out,
                     struct corral_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, apath, false, &data, &len, NULL, err);
    if (rc != CORRAL_OK)
        return rc;
    json_error_t jerr;
    json_t *a = json_loadb(data, len, 0, &jerr);
    free(data);
    const char *reg = json_string_value(json_object_get(a, "reg"));
    struct corral_task t = {0};
    char tpath[CORRAL_PATH_MAX];
    store_task_path(r, id, tpath);
    int trc = store_read_task(r, tpath, &t, NULL, err);
    if (trc != CORRAL_OK)
        corral_error_clear(err); /* gone or corrupt: it costs nothing */
    *out = cost_put(r->leader, apath, reg ? reg : "", trc == CORRAL_OK ? t.spec.cpu_milli : 0,
                    trc == CORRAL_OK ? t.spec.mem_mb : 0);
    corral_task_cleanup(&t);
    json_decref(a);
    return CORRAL_OK;
}

void leader_on_event(struct leader *l, const struct zk_event *ev)
{
    (void)ev;
    l->dirty = true;
}

void leader_reset(struct leader *l)
{
    memset(&l->sched, 0, sizeof l->sched);
    l->dirty = true;
    l->last_retention_ms = -1;
    l->wake_at_ms = 0;
    cache_clear(l);
    l->n_costs = 0;
}

int leader_next_timeout_ms(const struct leader *l, int64_t now_ms)
{
    int64_t due = l->last_round_ms + (l->dirty ? LEADER_MIN_GAP_MS : LEADER_PERIOD_MS);
    if (l->wake_at_ms > 0 && l->wake_at_ms < due)
        due = l->wake_at_ms > l->last_round_ms + LEADER_MIN_GAP_MS
                  ? l->wake_at_ms
                  : l->last_round_ms + LEADER_MIN_GAP_MS;
    int64_t wait = due - now_ms;
    return wait < 0 ? 0 : (int)(wait > LEADER_PERIOD_MS ? LEADER_PERIOD_MS : wait);
}

/* ------------------------------------------------------------------ fenced writes */

static bool stopping(const struct replica *r)
{
    return r->stop && *r->stop;
}

static struct zk_multi *fenced_multi(struct replica *r, const char *label)
{
    struct zk_multi *m = zk_multi_new();
    zk_multi_label(m, label);
    /* A replica that lost leadership (its election node is gone) must change nothing. */
    zk_multi_fence(m, r->el.node, -1);
    return m;
}

static void add_task_set(struct replica *r, struct zk_multi *m, const struct corral_task *t,
                         int32_t version)
{
    char path[CORRAL_PATH_MAX];
    store_task_path(r, t->id, path);
    char *json = corral_task_render(t);
    zk_multi_set(m, path, json, strlen(json), version);
    free(json);
}

static void add_signal(struct replica *r, struct zk_multi *m)
{
    char path[CORRAL_PATH_MAX];
    store_ns_path(r, "queue", path);
    zk_multi_set(m, path, "", 0, -1);
}

static int commit(struct replica *r, struct zk_multi *m, struct corral_error *err)
{
    int rc = zk_multi_commit(r->zk, m, NULL, err);
    zk_multi_free(m);
    return rc;
}

/* ------------------------------------------------------------------ lost workers */

/* The assignment assign/<worker>/<id> belongs to no live incarnation: give the task back to
 * the queue (or finish it when it was being cancelled), and drop the assignment. */
static int requeue_lost(struct replica *r, const char *worker, const char *id,
                        struct corral_error *err)
{
    char apath[CORRAL_PATH_MAX];
    if (corral_path_assign(apath, sizeof apath, r->opts.ns, worker, id) != CORRAL_OK)
        return CORRAL_OK;
    struct corral_task t = {0};
    int32_t version = -1;
    char tpath[CORRAL_PATH_MAX];
    store_task_path(r, id, tpath);
    int rc = store_read_task(r, tpath, &t, &version, err);
    struct zk_multi *m = fenced_multi(r, "leader.requeue");
    if (rc == CORRAL_ENOTFOUND || rc == CORRAL_EINVAL ||
        (rc == CORRAL_OK &&
         (!t.worker || strcmp(t.worker, worker) != 0 || corral_state_is_final(t.state)))) {
        /* A stale assignment of a task that moved on: only the assignment goes. */
        corral_error_clear(err);
        zk_multi_delete(m, apath, -1);
        rc = commit(r, m, err);
        corral_task_cleanup(&t);
        return rc == CORRAL_ENOTFOUND ? CORRAL_OK : rc;
    }
    if (rc != CORRAL_OK) {
        zk_multi_free(m);
        return rc;
    }
    enum corral_state before = t.state;
    char reason[CORRAL_WORKER_ID_MAX + 32];
    snprintf(reason, sizeof reason, "worker %s lost", worker);
    struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms(), .error = reason};
    rc = corral_task_transition(&t, CORRAL_EV_WORKER_LOST, &ctx, err);
    if (rc != CORRAL_OK) {
        zk_multi_free(m);
        corral_task_cleanup(&t);
        return rc;
    }
    add_task_set(r, m, &t, version);
    zk_multi_delete(m, apath, -1);
    if (t.state == CORRAL_STATE_QUEUED) {
        char qpath[CORRAL_PATH_MAX];
        store_queue_path(r, id, qpath);
        zk_multi_create(m, qpath, "", 0, ZK_PERSISTENT);
    }
    add_signal(r, m);
    rc = commit(r, m, err);
    if (rc == CORRAL_OK) {
        atomic_fetch_add(&r->n_requeued, 1);
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s state=%s->%s worker=%s lost attempt=%" PRIu32, id,
                   corral_state_name(before), corral_state_name(t.state), worker, t.attempt);
    }
    corral_task_cleanup(&t);
    return rc;
}

/* ------------------------------------------------------------------ the round */

struct round {
    struct worker_set ws;
    bool *has_dir;   /* per worker: assign/<id> exists */
    struct qtask *q; /* borrowed: the leader's cache of queued tasks */
    size_t n_q;
};

static void round_cleanup(struct round *rd)
{
    workers_cleanup(&rd->ws);
    free(rd->has_dir);
    memset(rd, 0, sizeof *rd);
}

static struct worker_info *find_worker(struct round *rd, const char *id, size_t *idx)
{
    for (size_t i = 0; i < rd->ws.n; i++)
        if (strcmp(rd->ws.items[i].id, id) == 0) {
            if (idx)
                *idx = i;
            return &rd->ws.items[i];
        }
    return NULL;
}

/* Walk assign/<worker>/<task>: count usage of live incarnations, requeue the rest. */
static int load_assignments(struct replica *r, struct round *rd, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_ns_path(r, "assign", dir);
    struct corral_strlist wdirs = {0};
    int rc = zk_children(r->zk, dir, false, &wdirs, err);
    if (rc != CORRAL_OK)
        return rc;
    for (size_t i = 0; i < r->leader->n_costs; i++)
        r->leader->costs[i].seen = false;
    for (size_t i = 0; i < wdirs.n && rc == CORRAL_OK; i++) {
        const char *wid = wdirs.items[i];
        size_t widx = 0;
        struct worker_info *w = find_worker(rd, wid, &widx);
        if (w)
            rd->has_dir[widx] = true;
        char wpath[CORRAL_PATH_MAX];
        (void)store_child(wpath, dir, wid);
        struct corral_strlist tasks = {0};
        rc = zk_children(r->zk, wpath, false, &tasks, err);
        if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = CORRAL_OK;
            continue;
        }
        if (!w && tasks.n == 0 && rc == CORRAL_OK) {
            /* Folder of a worker that is gone and owes nothing: tidy it away. */
            struct zk_multi *m = fenced_multi(r, "leader.cleanup");
            zk_multi_delete(m, wpath, -1);
            int drc = commit(r, m, err);
            if (drc == CORRAL_EFENCED)
                rc = drc;
            else
                corral_error_clear(err);
        }
        for (size_t j = 0; j < tasks.n && rc == CORRAL_OK; j++) {
            char apath[CORRAL_PATH_MAX];
            (void)store_child(apath, wpath, tasks.items[j]);
            struct acost *c = NULL;
            if (w) {
                c = cost_find(r->leader, apath);
                int grc = c ? CORRAL_OK : cost_load(r, apath, tasks.items[j], &c, err);
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
            if (!c || strcmp(c->reg, w->reg) != 0) {
                rc = requeue_lost(r, wid, tasks.items[j], err);
                if (rc != CORRAL_OK && rc != CORRAL_EFENCED) {
                    CORRAL_LOG(CORRAL_LOG_WARN, "requeue task=%s worker=%s: %s", tasks.items[j],
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
        corral_strlist_cleanup(&tasks);
    }
    corral_strlist_cleanup(&wdirs);
    if (rc == CORRAL_OK)
        costs_sweep(r->leader);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct qtask *cache_find(struct leader *l, const char *id)
{
    size_t lo = 0, hi = l->n_cache;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->cache[mid].task.id, id);
        if (c == 0)
            return &l->cache[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A queue entry with no queued task behind it (a crash cannot make one, since every change is
 * one multi, but an operator can): remove it. */
static int drop_entry(struct replica *r, const char *id, struct corral_error *err)
{
    struct zk_multi *m = fenced_multi(r, "leader.cleanup");
    char qpath[CORRAL_PATH_MAX];
    store_queue_path(r, id, qpath);
    zk_multi_delete(m, qpath, -1);
    int rc = commit(r, m, err);
    if (rc == CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_INFO, "removed stale queue entry task=%s", id);
    if (rc == CORRAL_EFENCED)
        return rc;
    corral_error_clear(err);
    return CORRAL_OK;
}

/* Refresh the cache of queued tasks: list every queue bucket (one pipelined batch), keep what
 * we know, read what is new, forget what left the queue. */
static int load_queue(struct replica *r, struct round *rd, struct corral_error *err)
{
    struct leader *l = r->leader;
    struct corral_strlist *buckets = corral_xcalloc(CORRAL_BUCKETS, sizeof *buckets);
    int rc = store_list_buckets(r, "queue", buckets, err);
    size_t n_ids = 0;
    for (unsigned b = 0; rc == CORRAL_OK && b < CORRAL_BUCKETS; b++)
        n_ids += buckets[b].n;
    char **ids = corral_xcalloc(n_ids, sizeof *ids);
    size_t k = 0;
    for (unsigned b = 0; rc == CORRAL_OK && b < CORRAL_BUCKETS; b++)
        for (size_t i = 0; i < buckets[b].n; i++)
            ids[k++] = buckets[b].items[i];
    qsort(ids, k, sizeof *ids, cmp_id);
    struct qtask *next = corral_xcalloc(k, sizeof *next);
    size_t n_next = 0;
    for (size_t i = 0; rc == CORRAL_OK && i < k; i++) {
        struct qtask *known = cache_find(l, ids[i]);
        if (known && !known->gone) {
            next[n_next++] = *known;
            memset(known, 0, sizeof *known); /* moved */
            known->gone = true;
            continue;
        }
        struct corral_task t = {0};
        int32_t version = -1;
        char tpath[CORRAL_PATH_MAX];
        store_task_path(r, ids[i], tpath);
        int trc = store_read_task(r, tpath, &t, &version, err);
        if (trc == CORRAL_OK && t.state == CORRAL_STATE_QUEUED) {
            next[n_next++] = (struct qtask){.task = t, .version = version};
            continue;
        }
        corral_task_cleanup(&t);
        if (trc == CORRAL_OK || trc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = drop_entry(r, ids[i], err);
        } else if (trc == CORRAL_EINVAL) {
            corral_error_clear(err); /* corrupt task: logged by store_read_task, skipped */
        } else {
            rc = trc;
        }
    }
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++)
        corral_strlist_cleanup(&buckets[b]);
    free(buckets);
    free(ids);
    if (rc != CORRAL_OK) {
        for (size_t i = 0; i < n_next; i++)
            corral_task_cleanup(&next[i].task);
        free(next);
        cache_clear(l);
        return rc;
    }
    cache_clear(l); /* what is left there is no longer queued */
    l->cache = next;
    l->n_cache = n_next;
    rd->q = l->cache;
    rd->n_q = l->n_cache;
    return CORRAL_OK;
}

static int assign(struct replica *r, struct round *rd, struct qtask *q, size_t widx,
                  struct corral_error *err)
{
    struct worker_info *w = &rd->ws.items[widx];
    uint64_t epoch = r->el.epoch;
    struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms(), .worker = w->id, .epoch = epoch};
    int rc = corral_task_transition(&q->task, CORRAL_EV_ASSIGN, &ctx, err);
    if (rc != CORRAL_OK)
        return rc;
    struct zk_multi *m = fenced_multi(r, "leader.assign");
    /* Only to a worker that is still registered (its ephemeral node exists). */
    char wpath[CORRAL_PATH_MAX];
    if (corral_path_worker(wpath, sizeof wpath, r->opts.ns, w->id) != CORRAL_OK)
        abort();
    zk_multi_check(m, wpath, -1);
    add_task_set(r, m, &q->task, q->version);
    char path[CORRAL_PATH_MAX];
    store_queue_path(r, q->task.id, path);
    zk_multi_delete(m, path, -1);
    if (!rd->has_dir[widx]) {
        if (corral_path_assign_dir(path, sizeof path, r->opts.ns, w->id) != CORRAL_OK)
            abort();
        zk_multi_create(m, path, "", 0, ZK_PERSISTENT);
    }
    if (corral_path_assign(path, sizeof path, r->opts.ns, w->id, q->task.id) != CORRAL_OK)
        abort();
    json_t *a = json_object();
    json_object_set_new(a, "task", json_string(q->task.id));
    json_object_set_new(a, "reg", json_string(w->reg));
    json_object_set_new(a, "attempt", json_integer(q->task.attempt));
    json_object_set_new(a, "epoch", json_integer((json_int_t)epoch));
    char *data = json_dumps(a, CORRAL_JSON_DUMP_FLAGS);
    json_decref(a);
    if (!data)
        abort();
    zk_multi_create(m, path, data, strlen(data), ZK_PERSISTENT);
    free(data);
    rc = commit(r, m, err);
    if (rc == CORRAL_OK) {
        rd->has_dir[widx] = true;
        cost_put(r->leader, path, w->reg, q->task.spec.cpu_milli, q->task.spec.mem_mb);
        atomic_fetch_add(&r->n_assigned, 1);
        CORRAL_LOG(CORRAL_LOG_INFO,
                   "task=%s state=queued->assigned worker=%s attempt=%" PRIu32 " epoch=%" PRIu64,
                   q->task.id, w->id, q->task.attempt, epoch);
    }
    return rc;
}

/* Show why a task waits (API "error"): written only when the reason changes. */
static int mark_unschedulable(struct replica *r, struct qtask *q, const char *reason,
                              struct corral_error *err)
{
    if (q->task.error && strcmp(q->task.error, reason) == 0)
        return CORRAL_OK;
    free(q->task.error);
    q->task.error = strdup(reason);
    if (!q->task.error)
        abort();
    struct zk_multi *m = fenced_multi(r, "leader.unsched");
    add_task_set(r, m, &q->task, q->version);
    int rc = commit(r, m, err);
    if (rc == CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s waits: %s", q->task.id, reason);
    q->gone = true; /* its version moved on (or the write failed): read it afresh */
    return rc;
}

static int plan_and_assign(struct replica *r, struct round *rd, int64_t now_wall,
                           struct corral_error *err)
{
    if (rd->n_q == 0)
        return CORRAL_OK;
    struct corral_worker_view *wv = calloc(rd->ws.n ? rd->ws.n : 1, sizeof *wv);
    struct corral_task_view *tv = calloc(rd->n_q, sizeof *tv);
    if (!wv || !tv)
        abort();
    for (size_t i = 0; i < rd->ws.n; i++) {
        struct worker_info *w = &rd->ws.items[i];
        wv[i] = (struct corral_worker_view){
            .id = w->id,
            .slots = w->slots,
            /* A draining worker takes nothing new: present it as full. */
            .running = w->draining ? w->slots : w->running,
            .cpu_milli = w->cpu_milli,
            .used_cpu_milli = w->used_cpu_milli,
            .mem_mb = w->mem_mb,
            .used_mem_mb = w->used_mem_mb,
            .labels = w->labels,
            .n_labels = w->n_labels,
            .weight = w->weight ? w->weight : 1,
        };
    }
    for (size_t i = 0; i < rd->n_q; i++) {
        const struct corral_task *t = &rd->q[i].task;
        tv[i] = (struct corral_task_view){
            .id = t->id,
            .priority = t->spec.priority,
            .submitted_at_ms = t->submitted_at_ms,
            .not_before_ms = t->not_before_ms,
            .cpu_milli = t->spec.cpu_milli,
            .mem_mb = t->spec.mem_mb,
            .constraints = t->spec.constraints,
            .n_constraints = t->spec.n_constraints,
            .has_estimated = t->spec.has_estimated,
            .estimated_ms = t->spec.estimated_ms,
        };
    }
    struct corral_view view = {
        .workers = wv, .n_workers = rd->ws.n, .tasks = tv, .n_tasks = rd->n_q};
    struct corral_plan plan = {0};
    int rc =
        corral_sched_plan(&view, &r->policy, &r->leader->sched, now_wall, rand_u64(), &plan, err);
    for (size_t i = 0; rc == CORRAL_OK && i < plan.n_assign; i++) {
        if (stopping(r))
            break; /* a stopping leader hands over now rather than after the round */
        struct qtask *q = &rd->q[plan.assign[i].task];
        /* Assigned or not, the cached copy was transitioned: read it afresh next round. */
        q->gone = true;
        int arc = assign(r, rd, q, plan.assign[i].worker, err);
        if (arc == CORRAL_EFENCED || arc == CORRAL_EUNKNOWN || arc == CORRAL_EUNAVAIL) {
            rc = arc;
            break;
        }
        if (arc != CORRAL_OK) {
            /* Lost a race (cancelled, changed): the next round sees the new state. */
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assign task=%s skipped: %s",
                       rd->q[plan.assign[i].task].task.id, err->msg);
            corral_error_clear(err);
            r->leader->dirty = true;
        }
    }
    for (size_t i = 0; rc == CORRAL_OK && i < plan.n_unsched; i++) {
        int urc = mark_unschedulable(r, &rd->q[plan.unsched[i].task], plan.unsched[i].reason, err);
        if (urc == CORRAL_EFENCED)
            rc = urc;
        else
            corral_error_clear(err);
    }
    /* Wake up when the earliest retry backoff among the waiting tasks ends. */
    int64_t earliest = 0;
    for (size_t i = 0; i < rd->n_q; i++) {
        int64_t nb = rd->q[i].task.not_before_ms;
        if (!rd->q[i].gone && nb > now_wall && (earliest == 0 || nb < earliest))
            earliest = nb;
    }
    r->leader->wake_at_ms = earliest ? clock_mono_ms() + (earliest - now_wall) : 0;
    corral_plan_cleanup(&plan);
    free(wv);
    free(tv);
    return rc;
}

/* Delete finished tasks older than --retention (with their idempotency records), one slice of
 * the task buckets at a time so that no round is held up by a full scan. */
static int sweep_retention(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    int64_t horizon = now_wall - r->opts.retention_s * 1000;
    const char *paths[LEADER_RETENTION_SLICE];
    char dirs[LEADER_RETENTION_SLICE][CORRAL_PATH_MAX];
    for (unsigned k = 0; k < LEADER_RETENTION_SLICE; k++) {
        unsigned b = (l->retention_cursor + k) % CORRAL_BUCKETS;
        if (corral_path_task_bucket(dirs[k], sizeof dirs[k], r->opts.ns, b) != CORRAL_OK)
            abort();
        paths[k] = dirs[k];
    }
    l->retention_cursor = (l->retention_cursor + LEADER_RETENTION_SLICE) % CORRAL_BUCKETS;
    struct corral_strlist lists[LEADER_RETENTION_SLICE] = {{0}};
    int rc = zk_children_many(r->zk, paths, LEADER_RETENTION_SLICE, lists, err);
    size_t deleted = 0;
    for (unsigned k = 0; rc == CORRAL_OK && k < LEADER_RETENTION_SLICE; k++) {
        for (size_t i = 0; rc == CORRAL_OK && i < lists[k].n; i++) {
            /* Ids begin with their submission time: a task submitted after the horizon
             * cannot have finished before it. */
            int64_t submitted = corral_id_time_ms(lists[k].items[i]);
            if (submitted < 0 || submitted >= horizon)
                continue;
            struct corral_task t = {0};
            int32_t version = -1;
            char tpath[CORRAL_PATH_MAX];
            (void)store_child(tpath, dirs[k], lists[k].items[i]);
            if (store_read_task(r, tpath, &t, &version, err) == CORRAL_OK &&
                corral_state_is_final(t.state) && t.finished_at_ms >= 0 &&
                t.finished_at_ms < horizon) {
                struct zk_multi *m = fenced_multi(r, "leader.retention");
                zk_multi_delete(m, tpath, version);
                char ipath[CORRAL_PATH_MAX];
                if (t.spec.idempotency_key && corral_path_idem(ipath, sizeof ipath, r->opts.ns,
                                                               t.spec.idempotency_key) == CORRAL_OK)
                    zk_multi_delete(m, ipath, -1);
                int drc = commit(r, m, err);
                if (drc == CORRAL_OK)
                    deleted++;
                else if (drc == CORRAL_EFENCED)
                    rc = drc;
            }
            if (rc != CORRAL_EFENCED)
                corral_error_clear(err);
            corral_task_cleanup(&t);
        }
    }
    for (unsigned k = 0; k < LEADER_RETENTION_SLICE; k++)
        corral_strlist_cleanup(&lists[k]);
    if (deleted)
        CORRAL_LOG(CORRAL_LOG_INFO, "retention removed tasks=%zu", deleted);
    return rc == CORRAL_EFENCED ? rc : CORRAL_OK;
}

int leader_tick(struct replica *r, int64_t now_ms, struct corral_error *err)
{
    struct leader *l = r->leader;
    if (!r->el.is_leader || !zk_is_connected(r->zk))
        return CORRAL_OK;
    if (leader_next_timeout_ms(l, now_ms) > 0)
        return CORRAL_OK;
    l->dirty = false;
    l->last_round_ms = now_ms;
    l->rounds++;

    struct round rd = {0};
    char sig[CORRAL_PATH_MAX];
    store_ns_path(r, "queue", sig);
    /* Arm the watches first so that no change between our reads and the next round is
     * missed: a change after this point fires them. */
    int rc = zk_exists(r->zk, sig, true, NULL, err);
    if (rc == CORRAL_OK)
        rc = workers_load(r, &rd.ws, true, false, err);
    if (rc == CORRAL_OK) {
        rd.has_dir = calloc(rd.ws.n ? rd.ws.n : 1, sizeof *rd.has_dir);
        if (!rd.has_dir)
            abort();
        rc = load_assignments(r, &rd, err);
    }
    if (rc == CORRAL_OK)
        rc = load_queue(r, &rd, err);
    int64_t now_wall = clock_wall_ms();
    if (rc == CORRAL_OK)
        rc = plan_and_assign(r, &rd, now_wall, err);
    round_cleanup(&rd);
    if (l->last_retention_ms < 0)
        l->last_retention_ms = now_ms; /* a new leader schedules first, sweeps later */
    if (rc == CORRAL_OK && !stopping(r) &&
        now_ms - l->last_retention_ms >= l->retention_period_ms) {
        l->last_retention_ms = now_ms;
        rc = sweep_retention(r, now_wall, err);
    }
    /* After a failure the next round comes with the period or with the reconnect event. */
    return rc;
}
