/* SPDX-License-Identifier: MIT */
/*
 * Scheduling loop of the leader (see leader.h, docs/znodes.md). Every write here is one multi
 * that starts with a check of our own election znode: a replica that lost leadership during a
 * tick (session expired, a newer leader took over) can change nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "corral/metrics.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"
#include "corral/sched.h"
#include "corral/strlist.h"
#include "corral/task.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "leader"

/* Reconcile at least this often even without watch events (watches are only hints). */
#define LEADER_PERIOD_MS 1000
/* The head of the queue a round looks at (head_size()). */
#define LEADER_HEAD_MIN 256u
#define LEADER_HEAD_MAX 8192u
/* Coalesce bursts of events into one round. */
#define LEADER_MIN_GAP_MS 5
/* Run one bounded retention step this often (leader_retention.c: prepares the done index's
 * time slots, deletes up to 2,048 finished tasks past --retention, about 4,000 a second). */
#define LEADER_RETENTION_PERIOD_MS 500

struct leader *leader_new(void)
{
    struct leader *l = corral_xcalloc(1, sizeof *l);
    l->dirty = true;
    l->queue_all_dirty = true;
    l->crons_dirty = true;
    l->deps_dirty = true;
    l->last_retention_ms = -1;
    l->retention_period_ms = LEADER_RETENTION_PERIOD_MS;
    leader_finishes_reset(l);
    leader_events_init(l);
#ifdef CORRAL_TEST_HOOKS
    /* Test builds: CORRAL_TEST_RETENTION_PERIOD_MS lets a test see a whole sweep in seconds. */
    const char *period = getenv("CORRAL_TEST_RETENTION_PERIOD_MS");
    if (period && atoll(period) > 0)
        l->retention_period_ms = atoll(period);
#endif
    return l;
}

void leader_free(struct leader *l)
{
    if (!l)
        return;
    leader_queue_reset(l);
    leader_crons_reset(l);
    leader_finishes_reset(l);
    leader_events_reset(l);
    free(l->costs);
    free(l->cost_slots);
    corral_strlist_cleanup(&l->known_workers);
    workers_cleanup(&l->workers);
    leader_assign_reset(l);
    corral_strlist_cleanup(&l->id_bound);
    free(l);
}

/* Is path dir itself or below it? */
static bool at_or_below(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return n > 0 && strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

void leader_on_event(struct leader *l, const struct zk_event *ev)
{
    leader_queue_on_event(l, ev);
    leader_crons_on_event(l, ev);
    leader_deps_on_event(l, ev);
    leader_assign_on_event(l, ev);
    if (ev->type == ZK_EV_SESSION) {
        /* Watches may be gone with the connection. */
        l->workers_valid = false;
        l->signal_armed = false;
    } else if (at_or_below(ev->path, l->workers_dir) || at_or_below(ev->path, l->fleet_dir)) {
        /* joined, left, a registration changed (draining, failures), or a fleet record */
        l->workers_valid = false;
    } else if (l->signal_path[0] && strcmp(ev->path, l->signal_path) == 0) {
        l->signal_armed = false;
    }
    l->dirty = true;
}

void leader_reset(struct leader *l)
{
    memset(&l->sched, 0, sizeof l->sched);
    l->dirty = true;
    l->last_retention_ms = -1;
    l->wake_at_ms = 0;
    leader_queue_reset(l);
    leader_crons_reset(l);
    leader_deps_reset(l);
    leader_costs_reset(l);
    leader_finishes_reset(l);
    leader_events_reset(l);
    corral_strlist_cleanup(&l->known_workers);
    workers_cleanup(&l->workers);
    leader_assign_reset(l);
    corral_strlist_cleanup(&l->id_bound);
    l->workers_valid = false;
    l->signal_armed = false;
}

int leader_next_timeout_ms(const struct leader *l, int64_t now_ms)
{
    int64_t due = l->last_round_ms + (l->dirty ? LEADER_MIN_GAP_MS : LEADER_PERIOD_MS);
    if (l->wake_at_ms > 0 && l->wake_at_ms < due)
        due = l->wake_at_ms > l->last_round_ms + LEADER_MIN_GAP_MS
                  ? l->wake_at_ms
                  : l->last_round_ms + LEADER_MIN_GAP_MS;
    /* The retention step is due too (finished tasks go within retention + a few seconds). */
    if (l->last_retention_ms >= 0 && l->last_retention_ms + l->retention_period_ms < due)
        due = l->last_retention_ms + l->retention_period_ms;
    int64_t wait = due - now_ms;
    return wait < 0 ? 0 : (int)(wait > LEADER_PERIOD_MS ? LEADER_PERIOD_MS : wait);
}

/* ------------------------------------------------------------------ fenced writes */

bool leader_stopping(const struct replica *r)
{
    return r->stop && *r->stop;
}

/* ------------------------------------------------------------------ the round */

static void round_cleanup(struct round *rd)
{
    free(rd->has_dir);
    free(rd->q);
    memset(rd, 0, sizeof *rd);
}

/* Log workers that joined or left since the last round (by id and registration). */
static void note_workers(struct leader *l, const struct worker_set *ws, struct corral_strlist *gone)
{
    struct corral_strlist now = {0}, ids = {0};
    for (size_t i = 0; i < ws->n; i++) {
        const struct corral_worker_reg *g = &ws->items[i].reg;
        char key[CORRAL_WORKER_ID_MAX + CORRAL_REG_MAX + 2];
        snprintf(key, sizeof key, "%s %s", g->id, g->reg);
        corral_strlist_add(&now, key);
        corral_strlist_add(&ids, g->id);
        if (!corral_strlist_has(&l->known_workers, key))
            CORRAL_LOG(CORRAL_LOG_INFO,
                       "worker joined worker=%s reg=%s slots=%u cpu_milli=%u mem_mb=%" PRIu64,
                       g->id, g->reg, g->slots, g->cpu_milli, g->mem_mb);
    }
    for (size_t i = 0; i < l->known_workers.n; i++)
        if (!corral_strlist_has(&now, l->known_workers.items[i])) {
            const char *k = l->known_workers.items[i];
            const char *sp = strchr(k, ' ');
            int id_len = (int)(sp ? sp - k : (ptrdiff_t)strlen(k));
            CORRAL_LOG(CORRAL_LOG_INFO, "worker left worker=%.*s reg=%s", id_len, k,
                       sp ? sp + 1 : "");
            /* Gone from the feed's view only when no registration of that id is left (a
             * restarted worker announces itself). */
            char id[CORRAL_WORKER_ID_MAX + 1];
            snprintf(id, sizeof id, "%.*s", id_len, k);
            if (!corral_strlist_has(&ids, id) && !corral_strlist_has(gone, id))
                corral_strlist_add(gone, id);
        }
    corral_strlist_cleanup(&ids);
    /* Another set of workers: tasks that fit none of the old set may fit now. */
    bool same = now.n == l->known_workers.n;
    for (size_t i = 0; same && i < now.n; i++)
        same = corral_strlist_has(&l->known_workers, now.items[i]);
    if (!same)
        leader_unsched_clear(l);
    corral_strlist_cleanup(&l->known_workers);
    l->known_workers = now;
}

/* --cordon-after-failures: cordon each worker whose failed attempts in a row reached the
 * threshold (fenced, like every leader write); this round already treats it as cordoned. */
static int failure_rule(struct replica *r, struct worker_set *ws, struct corral_error *err)
{
    uint32_t n = (uint32_t)r->opts.cordon_after_failures;
    for (size_t i = 0; n > 0 && i < ws->n; i++) {
        struct worker_info *w = &ws->items[i];
        if (!corral_fleet_should_cordon(workers_fleet(w), &w->reg, n))
            continue;
        struct corral_fleet_rec rec = {
            .state = CORRAL_FLEET_CORDONED, .automatic = true, .at_ms = clock_wall_ms()};
        snprintf(rec.reason, sizeof rec.reason, "%u failed attempts in a row (threshold %u)",
                 w->reg.fail_streak, n);
        char *data = corral_fleet_encode(&rec);
        struct corral_txn txn;
        corral_txn_init(&txn, "leader.cordon");
        int rc = corral_ops_fleet_write(&txn, r->opts.ns, r->el.node, w->reg.id, data, w->has_fleet,
                                        w->fleet_version);
        free(data);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_EEXIST || rc == CORRAL_ECONFLICT || rc == CORRAL_ENOTFOUND) {
            /* an operator wrote the record meanwhile: its watch brings the new one */
            corral_error_clear(err);
        } else if (rc != CORRAL_OK) {
            return rc;
        } else {
            CORRAL_LOG(CORRAL_LOG_WARN, "worker=%s cordoned: %s", w->reg.id, rec.reason);
        }
        w->has_fleet = true;
        w->fleet = rec;
    }
    return CORRAL_OK;
}

/* How many queued tasks the round looks at: enough to fill every free slot several times
 * over (placement and head-of-line reservations need choice), never the whole backlog. */
static size_t head_size(const struct worker_set *ws)
{
    size_t free_slots = 0;
    for (size_t i = 0; i < ws->n; i++) {
        const struct worker_info *w = &ws->items[i];
        if (workers_takes_work(w) && w->reg.slots > w->running)
            free_slots += w->reg.slots - w->running;
    }
    size_t k = 4 * free_slots;
    return k < LEADER_HEAD_MIN ? LEADER_HEAD_MIN : k > LEADER_HEAD_MAX ? LEADER_HEAD_MAX : k;
}

/* One planned assignment on its way to ZooKeeper. */
struct pick {
    struct qtask *q;
    char entry[CORRAL_QUEUE_NAME_MAX + 1]; /* its queue entry, named before the transition */
    size_t widx;
    bool live;    /* still to be written */
    bool written; /* committed: its queue entry is gone */
};

/* The ops of assigning p's task (transitioned already) to its worker; the first assignment to
 * a worker without an assign/<id> folder in this batch creates it. */
static int pick_ops(struct replica *r, struct round *rd, const struct pick *p, bool *dir_made,
                    struct corral_txn *txn)
{
    const struct worker_info *w = &rd->ws.items[p->widx];
    bool create_dir = !rd->has_dir[p->widx] && !dir_made[p->widx];
    corral_txn_init(txn, "leader.assign");
    int rc = corral_ops_assign(txn, r->opts.ns, r->el.node, &p->q->task, p->q->version, p->entry,
                               w->reg.reg, create_dir);
    if (rc == CORRAL_OK && create_dir)
        dir_made[p->widx] = true;
    return rc;
}

static void assigned(struct replica *r, struct round *rd, const struct pick *p)
{
    const struct worker_info *w = &rd->ws.items[p->widx];
    const struct corral_task *t = &p->q->task;
    char detail[CORRAL_WORKER_ID_MAX + 64];
    snprintf(detail, sizeof detail, "worker=%s attempt=%" PRIu32 " epoch=%" PRIu64, w->reg.id,
             t->attempt, t->epoch);
    persist_applied(&(struct persist_change){
        .task = t->id, .from = CORRAL_STATE_QUEUED, .to = t->state, .detail = detail});
    if (t->attempt == 1) { /* queue wait: from submission (or the due time) to the assignment */
        int64_t since = corral_task_due_ms(&t->spec, t->submitted_at_ms);
        if (since < t->submitted_at_ms)
            since = t->submitted_at_ms;
        int64_t wait_ms = clock_wall_ms() - since;
        if (wait_ms < 0)
            wait_ms = 0;
        size_t b = corral_histo_index(corral_wait_le_s, CORRAL_WAIT_BUCKETS, (double)wait_ms / 1e3);
        atomic_fetch_add(&r->queue_wait[b], 1);
        atomic_fetch_add(&r->queue_wait_sum_ms, (uint_fast64_t)wait_ms);
    }
    rd->has_dir[p->widx] = true;
    char path[CORRAL_PATH_MAX];
    if (corral_path_assign(path, sizeof path, r->opts.ns, w->reg.id, t->id) == CORRAL_OK)
        leader_cost_put(r->leader, path, w->reg.reg, t->spec.cpu_milli, t->spec.mem_mb);
    atomic_fetch_add(&r->n_assigned, 1);
}

/*
 * Write the picks: as few multis as fit (corral/batch.h: one fence each, under the request
 * limit), all sent before the first answer is awaited (zk_txn_commit_members). A pick that
 * fails on its own op (the task was cancelled or changed, the worker left) is skipped: the
 * next round sees the new state. A failure that concerns every member (fenced, outcome
 * unknown, no session) ends the round: the next one reads everything afresh.
 */
static int write_picks(struct replica *r, struct round *rd, struct pick *picks, size_t n,
                       struct corral_error *err)
{
    bool *dir_made = corral_xcalloc(rd->ws.n ? rd->ws.n : 1, sizeof *dir_made);
    struct corral_txn *ms = corral_xcalloc(n ? n : 1, sizeof *ms);
    int *rcs = corral_xcalloc(n ? n : 1, sizeof *rcs);
    struct corral_error *errs = corral_xcalloc(n ? n : 1, sizeof *errs);
    for (size_t i = 0; i < n; i++)
        if (pick_ops(r, rd, &picks[i], dir_made, &ms[i]) != CORRAL_OK) {
            /* A path that cannot be built: a bug. Committed as nothing, reported here. */
            corral_txn_cleanup(&ms[i]);
            CORRAL_LOG(CORRAL_LOG_ERROR, "assign task=%s: cannot build its ops",
                       picks[i].q->task.id);
            picks[i].live = false;
        }
    /* Separate identities: each task opened to its worker before its assignment exists. */
    for (size_t i = 0; zk_acl_has_setup(r->zk) && i < n; i++) {
        char path[CORRAL_PATH_MAX];
        if (picks[i].live &&
            corral_path_task(path, sizeof path, r->opts.ns, picks[i].q->task.id) == CORRAL_OK)
            zk_acl_grant(r->zk, path, rd->ws.items[picks[i].widx].reg.id);
    }
    persist_commit_members(r, "leader.assign", ms, n, rcs, errs);
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        struct pick *p = &picks[i];
        if (!p->live) {
            /* not written */
        } else if (rcs[i] == CORRAL_OK) {
            assigned(r, rd, p);
            p->written = true;
        } else if (rcs[i] == CORRAL_EFENCED || rcs[i] == CORRAL_EUNKNOWN ||
                   rcs[i] == CORRAL_EUNAVAIL || rcs[i] == CORRAL_ETOOBIG) {
            if (rc == CORRAL_OK) {
                rc = rcs[i];
                *err = errs[i];
            }
        } else {
            /* Lost a race (cancelled, changed, worker gone; or the multi that was to create
             * its worker's folder failed): the next round sees the new state. */
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assign task=%s skipped: %s", p->q->task.id, errs[i].msg);
            /* Its version may have moved on with its entry unchanged (a new dependent was added
             * to it): read it afresh, never retry the cached copy. */
            p->q->gone = true;
            r->leader->dirty = true;
        }
        p->live = false;
        corral_txn_cleanup(&ms[i]);
    }
    free(ms);
    free(rcs);
    free(errs);
    free(dir_made);
    return rc;
}

/* Show why a task waits (API "error"): written only when the reason changes. */
static int mark_unschedulable(struct replica *r, struct qtask *q, const char *reason,
                              struct corral_error *err)
{
    if (q->task.error && strcmp(q->task.error, reason) == 0)
        return CORRAL_OK;
    free(q->task.error);
    q->task.error = corral_xstrdup(reason);
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.unsched");
    int rc = corral_ops_update(&txn, r->opts.ns, r->el.node, &q->task, q->version);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
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
    struct corral_worker_view *wv = corral_xcalloc(rd->ws.n, sizeof *wv);
    struct corral_task_view *tv = corral_xcalloc(rd->n_q, sizeof *tv);
    for (size_t i = 0; i < rd->ws.n; i++) {
        const struct worker_info *w = &rd->ws.items[i];
        const struct corral_worker_reg *g = &w->reg;
        wv[i] = (struct corral_worker_view){
            .id = g->id,
            .slots = g->slots,
            /* A draining or cordoned worker takes nothing new: present it as full. */
            .running = workers_takes_work(w) ? w->running : g->slots,
            .cpu_milli = g->cpu_milli,
            .used_cpu_milli = w->used_cpu_milli,
            .mem_mb = g->mem_mb,
            .used_mem_mb = w->used_mem_mb,
            .labels = g->labels,
            .n_labels = g->n_labels,
            .weight = g->weight,
        };
    }
    for (size_t i = 0; i < rd->n_q; i++) {
        const struct corral_task *t = &rd->q[i]->task;
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
    struct pick *picks = corral_xcalloc(plan.n_assign ? plan.n_assign : 1, sizeof *picks);
    size_t n_picks = 0;
    uint64_t epoch = r->el.epoch;
    int64_t now_assign = clock_wall_ms();
    for (size_t i = 0; rc == CORRAL_OK && i < plan.n_assign; i++) {
        struct qtask *q = rd->q[plan.assign[i].task];
        /* Assigned or not, the cached copy is transitioned: read it afresh next round. */
        q->gone = true;
        /* Its worker's folder too (whatever the outcome): never count a slot as free from a
         * listing made before an assignment of ours, even when its watch's event is late. */
        leader_assign_touched(r->leader, rd->ws.items[plan.assign[i].worker].reg.id);
        struct pick *p = &picks[n_picks];
        corral_queue_entry_name(&q->task, p->entry);
        struct corral_transition_ctx ctx = {.now_ms = now_assign,
                                            .worker = rd->ws.items[plan.assign[i].worker].reg.id,
                                            .epoch = epoch};
        if (corral_task_transition(&q->task, CORRAL_EV_ASSIGN, &ctx, err) != CORRAL_OK) {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "assign task=%s skipped: %s", q->task.id, err->msg);
            corral_error_clear(err);
            r->leader->dirty = true;
            continue;
        }
        p->q = q;
        p->widx = plan.assign[i].worker;
        p->live = true;
        n_picks++;
    }
    /* A stopping leader hands over now rather than after writing the round. */
    if (rc == CORRAL_OK && n_picks > 0 && !leader_stopping(r))
        rc = write_picks(r, rd, picks, n_picks, err);
    for (size_t i = 0; i < n_picks; i++) {
        if (picks[i].written)
            leader_queue_removed(r->leader, picks[i].entry);
        else
            leader_queue_touched(r->leader, picks[i].q->task.id);
    }
    free(picks);
    for (size_t i = 0; rc == CORRAL_OK && i < plan.n_unsched; i++) {
        struct qtask *q = rd->q[plan.unsched[i].task];
        int urc = mark_unschedulable(r, q, plan.unsched[i].reason, err);
        if (urc == CORRAL_EFENCED)
            rc = urc;
        else
            corral_error_clear(err);
        leader_unsched_add(r->leader, q->task.id);
    }
    corral_plan_cleanup(&plan);
    free(wv);
    free(tv);
    return rc;
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
    if (!l->signal_path[0]) {
        if (corral_path_queue_signal(l->signal_path, sizeof l->signal_path, r->opts.ns) !=
            CORRAL_OK)
            abort(); /* a validated namespace always fits */
        store_dir_path(r, CORRAL_DIR_WORKERS, l->workers_dir);
        store_dir_path(r, CORRAL_DIR_FLEET, l->fleet_dir);
        store_dir_path(r, CORRAL_DIR_ASSIGN, l->assign_dir);
    }
    /* Arm the watches first so that no change between our reads and the next round is
     * missed: a change after this point fires them (and its event, handled after this round,
     * makes us read again). Armed watches stay armed: nothing to read until one fires. */
    int rc = CORRAL_OK;
    if (!l->signal_armed)
        l->signal_armed = zk_watch_exists_async(r->zk, l->signal_path);
    if (!l->workers_valid) {
        workers_cleanup(&l->workers);
        rc = workers_load(r, &l->workers, true, false, err);
        if (rc == CORRAL_OK)
            rc = leader_bind_workers(r, &l->workers, err);
        l->workers_valid = rc == CORRAL_OK;
        if (rc == CORRAL_OK && !leader_stopping(r))
            rc = failure_rule(r, &l->workers, err);
    }
    if (rc == CORRAL_OK) {
        rd.ws = l->workers;
        for (size_t i = 0; i < rd.ws.n; i++) {
            rd.ws.items[i].running = 0;
            rd.ws.items[i].used_cpu_milli = 0;
            rd.ws.items[i].used_mem_mb = 0;
        }
        struct corral_strlist gone = {0};
        note_workers(l, &rd.ws, &gone);
        struct corral_error gerr = {0};
        if (leader_events_workers_gone(r, &gone, &gerr) != CORRAL_OK)
            CORRAL_LOG(CORRAL_LOG_WARN, "events feed: could not record workers that left: %s",
                       gerr.msg);
        corral_strlist_cleanup(&gone);
        rd.has_dir = corral_xcalloc(rd.ws.n, sizeof *rd.has_dir);
        rc = leader_load_assignments(r, &rd, err);
    }
    if (rc == CORRAL_OK) { /* for /metrics: live assignments, workers by state */
        uint64_t running = 0, by_state[3] = {0};
        for (size_t i = 0; i < rd.ws.n; i++) {
            const struct worker_info *w = &rd.ws.items[i];
            running += w->running;
            by_state[corral_fleet_shown(workers_fleet(w), &w->reg, w->running)]++;
        }
        atomic_store(&r->g_running, running);
        for (size_t i = 0; i < 3; i++)
            atomic_store(&r->g_workers[i], by_state[i]);
    }
    int64_t now_wall = clock_wall_ms();
    /* Cron fires first: their tasks join this round's queue (their buckets are marked). */
    if (rc == CORRAL_OK && !leader_stopping(r))
        rc = leader_crons_tick(r, now_wall, err);
    /* Dependents whose dependencies finished: released ones join this round's queue. */
    if (rc == CORRAL_OK && !leader_stopping(r))
        rc = leader_deps_tick(r, err);
    int64_t t_loaded = clock_mono_ms();
    if (rc == CORRAL_OK)
        rc = leader_load_queue(r, &rd, head_size(&rd.ws), now_wall, err);
    int64_t t_queue = clock_mono_ms();
    /* Wake up when the earliest retry backoff or due time among the queued tasks ends, or
     * when a schedule is due. */
    int64_t earliest = rc == CORRAL_OK ? l->next_eligible_ms : 0;
    if (rc == CORRAL_OK && l->crons_wake_wall > 0 &&
        (earliest == 0 || l->crons_wake_wall < earliest))
        earliest = l->crons_wake_wall > now_wall ? l->crons_wake_wall : now_wall + 1;
    l->wake_at_ms = earliest > now_wall ? clock_mono_ms() + (earliest - now_wall) : 0;
    uint64_t assigned_before = atomic_load(&r->n_assigned);
    if (rc == CORRAL_OK)
        rc = plan_and_assign(r, &rd, now_wall, err);
    CORRAL_LOG(CORRAL_LOG_DEBUG,
               "round %" PRIu64 ": workers=%zu head=%zu assigned=%" PRIu64
               " ms: workers+assignments=%" PRId64 " queue=%" PRId64 " plan+write=%" PRId64,
               l->rounds, rd.ws.n, rd.n_q, atomic_load(&r->n_assigned) - assigned_before,
               t_loaded - now_ms, t_queue - t_loaded, clock_mono_ms() - t_queue);
    round_cleanup(&rd);
    if (rc == CORRAL_OK && !leader_stopping(r))
        rc = leader_finishes_tick(r, now_ms, clock_wall_ms(), err);
    if (rc == CORRAL_OK && !leader_stopping(r))
        rc = leader_events_tick(r, now_ms, clock_wall_ms(), err);
    if (rc == CORRAL_OK && !leader_stopping(r))
        rc = leader_outputs_tick(r, now_ms, clock_wall_ms(), err);
    /* Retention (and the done index's time slots, which finishes need) right after a new
     * leader's first round, then every period; each call does a bounded amount of work. */
    if (rc == CORRAL_OK && !leader_stopping(r) &&
        (l->last_retention_ms < 0 || now_ms - l->last_retention_ms >= l->retention_period_ms)) {
        l->last_retention_ms = now_ms;
        rc = leader_sweep_retention(r, now_wall, err);
    }
    /* After a failure the next round comes with the period or with the reconnect event. */
    return rc;
}
