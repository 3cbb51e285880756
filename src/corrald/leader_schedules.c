/* SPDX-License-Identifier: MIT */
/*
 * The leader fires cron schedules (corral/schedule.h, docs/workflows.md). It keeps the
 * schedules as last read (all of them: a schedule is one small znode), knows when each is next
 * due, and at that time decides with corral_schedule_decide and writes the fire's tasks and the
 * schedule's new state in ONE fenced multi that sets the schedule at the version read: a fire is
 * recorded exactly when its task exists, a deposed leader writes nothing, and a change by the
 * API in between (pause) makes the write fail and the schedule is read again. The task ids are
 * derived from (schedule, scheduled time), so even a replayed decision cannot double a fire.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/schedule.h"
#include "corral/text.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"
#include "io/tz.h"

#define CORRAL_LOG_MODULE "leader"

static void crons_free(struct leader *l)
{
    for (size_t i = 0; i < l->n_crons; i++)
        corral_schedule_cleanup(&l->crons[i].s);
    free(l->crons);
    l->crons = NULL;
    l->n_crons = 0;
}

void leader_crons_reset(struct leader *l)
{
    crons_free(l);
    l->crons_dirty = true;
    l->crons_wake_wall = 0;
}

void leader_crons_on_event(struct leader *l, const struct zk_event *ev)
{
    size_t n = strlen(l->crons_dir);
    if (ev->type == ZK_EV_SESSION || (n > 0 && strncmp(ev->path, l->crons_dir, n) == 0 &&
                                      (ev->path[n] == '\0' || ev->path[n] == '/')))
        l->crons_dirty = true;
}

/* When entry e must be looked at next (wall ms). */
static int64_t due_of(const struct corral_schedule *s, int64_t now_wall)
{
    if (s->held_ms >= 0)
        return now_wall + LEADER_CRON_POLL_MS; /* waits for the task ahead of it */
    if (s->paused)
        return INT64_MAX;
    struct corral_tz *tz = corral_xcalloc(1, sizeof *tz);
    struct corral_error err = {0};
    int64_t due = INT64_MAX, since = s->last_fire_ms >= 0 ? s->last_fire_ms : s->created_at_ms;
    if (tz_load(s->timezone, tz, &err) != CORRAL_OK)
        CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "cron-tz", s->name,
                        "schedule=%s cannot load its time zone: %s", s->name, err.msg);
    else if (corral_cron_next(&s->cron, tz, since, &due, &err) != CORRAL_OK)
        due = INT64_MAX;
    free(tz);
    return due;
}

/* Read every schedule again (and arm the watches). */
static int reload(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    if (!l->crons_dir[0])
        store_dir_path(r, CORRAL_DIR_SCHEDULES, l->crons_dir);
    l->crons_dirty = false;
    l->crons_read_ms = clock_mono_ms();
    struct corral_strlist names = {0};
    int rc = zk_children(r->zk, l->crons_dir, true, &names, err);
    if (rc != CORRAL_OK) {
        l->crons_dirty = true;
        return rc;
    }
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(names.n ? names.n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(names.n ? names.n : 1, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(names.n ? names.n : 1, sizeof *got);
    size_t n = 0;
    for (size_t i = 0; i < names.n; i++) {
        if (!corral_schedule_name_is_valid(names.items[i]) ||
            corral_path_schedule(paths[n], CORRAL_PATH_MAX, r->opts.ns, names.items[i]) !=
                CORRAL_OK) {
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "cron-name", names.items[i],
                            "ignoring odd schedule name=%.64s", names.items[i]);
            continue;
        }
        ptrs[n] = paths[n];
        n++;
    }
    zk_get_many(r->zk, ptrs, n, true, got);
    crons_free(l);
    l->crons = corral_xcalloc(n ? n : 1, sizeof *l->crons);
    for (size_t i = 0; i < n; i++) {
        struct cron_entry *e = &l->crons[l->n_crons];
        if (got[i].rc == CORRAL_OK &&
            corral_schedule_decode(got[i].data, got[i].len, &e->s, &got[i].err) == CORRAL_OK) {
            e->version = got[i].version;
            e->due_wall = due_of(&e->s, now_wall);
            l->n_crons++;
        } else if (got[i].rc == CORRAL_OK || got[i].rc == CORRAL_EINVAL) {
            CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "schedule-corrupt", paths[i],
                            "corrupt schedule znode path=%s: %s", paths[i], got[i].err.msg);
        } else if (got[i].rc != CORRAL_ENOTFOUND && rc == CORRAL_OK) {
            rc = got[i].rc;
            *err = got[i].err;
            l->crons_dirty = true;
        }
        zk_got_cleanup(&got[i]);
    }
    free(got);
    free(ptrs);
    free(paths);
    corral_strlist_cleanup(&names);
    return rc;
}

/* Whether the schedule's newest task is still unfinished (a gone task is finished). */
static int previous_unfinished(struct replica *r, const struct corral_schedule *s, bool *out,
                               struct corral_error *err)
{
    *out = false;
    if (!s->last_task[0])
        return CORRAL_OK;
    char path[CORRAL_PATH_MAX];
    store_task_path(r, s->last_task, path);
    struct corral_task t = {0};
    int rc = store_read_task(r, path, &t, NULL, err);
    if (rc == CORRAL_ENOTFOUND || rc == CORRAL_EINVAL) {
        corral_error_clear(err);
        return CORRAL_OK;
    }
    if (rc == CORRAL_OK)
        *out = !corral_state_is_final(t.state);
    corral_task_cleanup(&t);
    return rc;
}

/* One fire or skip of a decision, in time order. */
struct step {
    int64_t ms;
    bool fire;
};

static int cmp_step(const void *a, const void *b)
{
    const struct step *x = a, *y = b;
    return x->ms < y->ms ? -1 : x->ms > y->ms;
}

static void observe_lateness(struct replica *r, int64_t late_ms)
{
    static const int64_t le_ms[CORRAL_FIRE_LATE_BUCKETS] = {10,   50,   100,  250,   500,
                                                            1000, 2000, 5000, 10000, 60000};
    if (late_ms < 0)
        late_ms = 0;
    for (size_t i = 0; i < CORRAL_FIRE_LATE_BUCKETS; i++)
        if (late_ms <= le_ms[i])
            atomic_fetch_add(&r->fire_late_le[i], 1);
    atomic_fetch_add(&r->fire_late_count, 1);
    atomic_fetch_add(&r->fire_late_sum_ms, (uint64_t)late_ms);
}

/* Decide and write the fires of e now. */
static int fire(struct replica *r, struct cron_entry *e, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    struct corral_schedule *s = &e->s;
    bool busy;
    int rc = previous_unfinished(r, s, &busy, err);
    if (rc != CORRAL_OK)
        return rc;
    struct corral_tz *tz = corral_xcalloc(1, sizeof *tz);
    struct corral_fire_decision *d = corral_xcalloc(1, sizeof *d);
    struct corral_error derr = {0};
    if (tz_load(s->timezone, tz, &derr) != CORRAL_OK ||
        corral_schedule_decide(s, tz, now_wall, busy, d, &derr) != CORRAL_OK) {
        CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "cron-decide", s->name, "schedule=%s cannot fire: %s",
                        s->name, derr.msg);
        e->due_wall = INT64_MAX;
        goto out;
    }
    if (!d->changed) {
        e->due_wall = s->held_ms >= 0 ? now_wall + LEADER_CRON_POLL_MS
                                      : corral_schedule_next_fire(s, tz, now_wall);
        if (e->due_wall < 0)
            e->due_wall = INT64_MAX;
        goto out;
    }
    if (d->cancel_previous && busy) {
        struct corral_task prev = {0};
        struct corral_error cerr = {0};
        int crc = store_cancel(r, s->last_task, &prev, &cerr);
        if (crc == CORRAL_OK)
            CORRAL_LOG(CORRAL_LOG_INFO, "schedule=%s cancelled its previous task=%s (overlap)",
                       s->name, s->last_task);
        corral_task_cleanup(&prev);
    }
    /* The steps in time order; a prefix of them fits one multi. */
    size_t n_steps = d->n_fire + d->n_skip;
    struct step *steps = corral_xcalloc(n_steps ? n_steps : 1, sizeof *steps);
    for (size_t i = 0; i < d->n_fire; i++)
        steps[i] = (struct step){.ms = d->fire_ms[i], .fire = true};
    for (size_t i = 0; i < d->n_skip; i++)
        steps[d->n_fire + i] = (struct step){.ms = d->skip_ms[i], .fire = false};
    qsort(steps, n_steps, sizeof *steps, cmp_step);

    struct corral_txn txn;
    corral_txn_init(&txn, "leader.cron");
    struct corral_schedule next = {0};
    char *text = corral_schedule_encode(s);
    rc = corral_schedule_decode(text, strlen(text), &next, err);
    free(text);
    size_t bytes = 0, fired = 0, taken = 0;
    char(*ids)[CORRAL_ID_LEN + 1] = corral_xcalloc(n_steps ? n_steps : 1, CORRAL_ID_LEN + 1);
    int64_t *sched_ms = corral_xcalloc(n_steps ? n_steps : 1, sizeof *sched_ms);
    for (; rc == CORRAL_OK && taken < n_steps; taken++) {
        const struct step *st = &steps[taken];
        if (!st->fire) {
            corral_schedule_add_fire(&next, st->ms, now_wall, NULL);
            continue;
        }
        if (fired == LEADER_CRON_FIRES_PER_MULTI || bytes > LEADER_CRON_MULTI_BYTES)
            break;
        struct corral_task t;
        struct corral_spec spec = {0};
        corral_spec_copy(&spec, &s->task);
        corral_schedule_fire_id(s->name, st->ms, ids[fired]);
        corral_task_init_new(&t, ids[fired], &spec, now_wall);
        size_t before = txn.n;
        rc = corral_ops_submit(&txn, r->opts.ns, &t, NULL);
        for (size_t i = before; i < txn.n; i++)
            bytes += txn.ops[i].len + strlen(txn.ops[i].path) + 32;
        corral_task_cleanup(&t);
        corral_schedule_add_fire(&next, st->ms, now_wall, ids[fired]);
        snprintf(next.last_task, sizeof next.last_task, "%s", ids[fired]);
        sched_ms[fired++] = st->ms;
    }
    if (rc == CORRAL_OK) {
        bool all = taken == n_steps;
        /* A held fire that was released is not a cron time past last_fire. */
        int64_t last = all ? d->record_ms : steps[taken - 1].ms;
        if (last > next.last_fire_ms)
            next.last_fire_ms = last;
        next.held_ms = all ? d->hold_ms : s->held_ms;
        if (s->held_ms >= 0 && fired > 0 && sched_ms[0] == s->held_ms)
            next.held_ms = all ? d->hold_ms : -1;
        char *data = corral_schedule_encode(&next);
        rc = corral_ops_schedule_write(&txn, r->opts.ns, r->el.node, s->name, data, e->version);
        free(data);
    }
    int failed = -1;
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, &failed, err);
    if (rc == CORRAL_OK) {
        for (size_t i = 0; i < fired; i++) {
            char at[25];
            corral_time_format(sched_ms[i], at);
            CORRAL_LOG(CORRAL_LOG_INFO,
                       "schedule=%s fired scheduled_at=%s task=%s late_ms=%" PRId64, s->name, at,
                       ids[i], now_wall - sched_ms[i]);
            observe_lateness(r, now_wall - sched_ms[i]);
            atomic_fetch_add(&r->n_submitted, 1);
            leader_queue_touched(l, ids[i]);
        }
        for (size_t i = 0; i < d->n_skip; i++)
            CORRAL_LOG(CORRAL_LOG_INFO, "schedule=%s skipped a fire (overlap %s)", s->name,
                       corral_overlap_name(s->overlap));
        /* Our own write moves the version on: read it again (the data watch fires too). */
        l->crons_dirty = true;
        l->dirty = true;
    } else if (rc == CORRAL_ECONFLICT || rc == CORRAL_EEXIST || rc == CORRAL_ENOTFOUND) {
        /* Changed or deleted by the API meanwhile, or a task id taken: read afresh. */
        CORRAL_LOG(CORRAL_LOG_DEBUG, "schedule=%s fire not written: %s", s->name, err->msg);
        corral_error_clear(err);
        rc = CORRAL_OK;
        l->crons_dirty = true;
    }
    corral_txn_cleanup(&txn);
    corral_schedule_cleanup(&next);
    free(sched_ms);
    free(ids);
    free(steps);
out:
    free(d);
    free(tz);
    return rc;
}

int leader_crons_tick(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    int rc = CORRAL_OK;
    if (l->crons_dirty || clock_mono_ms() - l->crons_read_ms >= LEADER_CRON_REREAD_MS)
        rc = reload(r, now_wall, err);
    for (size_t i = 0; rc == CORRAL_OK && i < l->n_crons && !leader_stopping(r); i++) {
        struct cron_entry *e = &l->crons[i];
        if (e->due_wall <= now_wall && !l->crons_dirty)
            rc = fire(r, e, now_wall, err);
    }
    int64_t wake = 0;
    for (size_t i = 0; i < l->n_crons; i++)
        if (l->crons[i].due_wall != INT64_MAX && (wake == 0 || l->crons[i].due_wall < wake))
            wake = l->crons[i].due_wall;
    l->crons_wake_wall = l->crons_dirty ? now_wall : wake;
    return rc;
}
