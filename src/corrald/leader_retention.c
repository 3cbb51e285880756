/* SPDX-License-Identifier: MIT */
/*
 * Retention and the folders of the done index (leader_internal.h; docs/znodes.md "The done
 * index"). One call does a bounded step and returns:
 *  1. prepare the slot folders of the next seconds, so that finishing writers find them;
 *  2. prune slot folders prepared in the past that nobody used;
 *  3. retire finished tasks whose index time is past --retention, oldest slot first, many per
 *     multi (one fence each), the multis pipelined, reading a task only for its idempotency key;
 *  4. a slow pass over one task bucket per call for finished tasks with no index entry (they
 *     finished before the index existed: an upgraded namespace).
 * Every write carries the fence of our election node: a replica that lost leadership during the
 * call changes nothing. Main thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/done_entry.h"
#include "corral/id.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "leader"

/* Tasks retired per call at most, committed in pipelined waves of RETENTION_WAVE; no new wave
 * starts once a call has spent RETENTION_BUDGET_MS. */
#define RETENTION_MAX_TASKS 2048u
#define RETENTION_WAVE      512u
#define RETENTION_BUDGET_MS 50
/* Synchronous folder listings per call at most (the walk to the oldest slots). */
#define RETENTION_MAX_LISTINGS 64
/* Slot folders listed per pipelined read. */
#define RETENTION_READ_BATCH 64u
/* Slot folders exist from now - DONE_BEHIND_MS to now + DONE_AHEAD_MS; they are made again
 * when the one at now + DONE_REFILL_MS is missing (about every 12 s, one pipelined batch). */
#define DONE_BEHIND_MS 2000
#define DONE_AHEAD_MS  20000
#define DONE_REFILL_MS 8000
/* An empty folder whose time lies this far in the past is removed. A writer whose clock lags
 * by more finds its slot gone and makes it again (corral_ops_missing_dir). */
#define DONE_IDLE_MS       30000
#define DONE_PRUNE_SPAN_MS 5000
/* The slow pass only considers tasks finished this long before the horizon (the index pass
 * deletes indexed ones first), and reads at most LEGACY_READS tasks per call. */
#define LEGACY_GRACE_MS 60000
#define LEGACY_READS    256u

/* ------------------------------------------------------------------ members */

/* Independent fenced changes committed together (zk_txn_commit_members). */
struct members {
    struct corral_txn *txns;
    size_t n, cap;
};

static struct corral_txn *member_new(struct members *m, const char *label)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->txns = corral_xrealloc(m->txns, m->cap * sizeof *m->txns);
    }
    struct corral_txn *t = &m->txns[m->n++];
    corral_txn_init(t, label);
    return t;
}

/* Keep the member just built only when its builder succeeded. */
static void member_end(struct members *m, int rc)
{
    if (rc != CORRAL_OK)
        corral_txn_cleanup(&m->txns[--m->n]);
}

static void members_cleanup(struct members *m)
{
    for (size_t i = 0; i < m->n; i++)
        corral_txn_cleanup(&m->txns[i]);
    free(m->txns);
    memset(m, 0, sizeof *m);
}

/* Commit members [first, first + n) pipelined; rcs (n) gets each one's result. Returns
 * CORRAL_EFENCED when we lost leadership, else 0. */
static int commit(struct replica *r, const char *label, struct members *m, size_t first, size_t n,
                  int *rcs)
{
    struct corral_error *errs = corral_xcalloc(n ? n : 1, sizeof *errs);
    zk_txn_commit_members(r->zk, label, m->txns + first, n, rcs, NULL, errs);
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        if (rcs[i] == CORRAL_EFENCED)
            rc = CORRAL_EFENCED;
        else if (rcs[i] != CORRAL_OK && rcs[i] != CORRAL_EEXIST && rcs[i] != CORRAL_ENOTFOUND &&
                 rcs[i] != CORRAL_ECONFLICT)
            CORRAL_LOG(CORRAL_LOG_DEBUG, "%s: %s", label, errs[i].msg);
    }
    free(errs);
    return rc;
}

/* A fenced create or delete of one folder of the index. */
static void add_dir_op(struct replica *r, struct members *m, const char *path, bool make)
{
    struct corral_txn *t = member_new(m, "leader.done_dirs");
    member_end(m, make ? corral_ops_make_dir(t, r->el.node, path)
                       : corral_ops_drop_dir(t, r->el.node, path));
}

/* ------------------------------------------------------------------ 1. prepare */

/* The slot folders of [first, end) that exist: listing their minute folders (at most 600 names
 * each) costs one pipelined read. With hours, the hour folders are listed too, and have[h]
 * tells whether each minute folder exists. minute_names[i] lists minute m0 + i. */
struct span {
    int64_t m0, h0;
    size_t nm, nh;
    struct corral_strlist *lists; /* nh hour listings, then nm minute listings */
};

static int span_read(struct replica *r, struct span *sp, int64_t first, int64_t end, bool hours,
                     struct corral_error *err)
{
    sp->m0 = first / CORRAL_DONE_SLOTS_PER_MINUTE;
    int64_t m1 = (end - 1) / CORRAL_DONE_SLOTS_PER_MINUTE;
    sp->nm = (size_t)(m1 - sp->m0 + 1);
    sp->h0 = sp->m0 / CORRAL_DONE_MINUTES_PER_HOUR;
    sp->nh = hours ? (size_t)(m1 / CORRAL_DONE_MINUTES_PER_HOUR - sp->h0 + 1) : 0;
    size_t n = sp->nh + sp->nm;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    sp->lists = corral_xcalloc(n, sizeof *sp->lists);
    for (size_t i = 0; i < n; i++) {
        int brc = i < sp->nh ? corral_done_hour_path(paths[i], CORRAL_PATH_MAX, r->opts.ns,
                                                     sp->h0 + (int64_t)i)
                             : corral_done_minute_path(paths[i], CORRAL_PATH_MAX, r->opts.ns,
                                                       sp->m0 + (int64_t)(i - sp->nh));
        if (brc != CORRAL_OK)
            abort(); /* times come from the clock and fit the names */
        ptrs[i] = paths[i];
    }
    /* A folder that does not exist lists as empty. */
    int rc = zk_children_many(r->zk, ptrs, n, sp->lists, err);
    free(ptrs);
    free(paths);
    return rc;
}

static void span_cleanup(struct span *sp)
{
    for (size_t i = 0; sp->lists && i < sp->nh + sp->nm; i++)
        corral_strlist_cleanup(&sp->lists[i]);
    free(sp->lists);
    memset(sp, 0, sizeof *sp);
}

/* The last path component of path (a folder name just built). */
static const char *base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static bool span_has_slot(const struct span *sp, const char *slot_path, int64_t slot)
{
    size_t i = (size_t)(slot / CORRAL_DONE_SLOTS_PER_MINUTE - sp->m0);
    return corral_strlist_has(&sp->lists[sp->nh + i], base(slot_path));
}

/* Make the slot folders of [now - DONE_BEHIND_MS, now + DONE_AHEAD_MS] that are missing, with
 * their minute and hour folders, when the one at now + DONE_REFILL_MS is missing. */
static int prepare(struct replica *r, int64_t now, struct corral_error *err)
{
    const char *ns = r->opts.ns;
    char path[CORRAL_PATH_MAX];
    if (corral_done_slot_path(path, sizeof path, ns, corral_done_slot_of(now + DONE_REFILL_MS)) !=
        CORRAL_OK)
        return CORRAL_OK; /* a clock past the year 2286 */
    int rc = zk_exists(r->zk, path, false, NULL, err);
    if (rc != CORRAL_ENOTFOUND)
        return rc; /* prepared already, or ZooKeeper unavailable */
    corral_error_clear(err);
    int64_t first = corral_done_slot_of(now > DONE_BEHIND_MS ? now - DONE_BEHIND_MS : 0);
    int64_t end = corral_done_slot_of(now + DONE_AHEAD_MS) + 1;
    struct span sp = {0};
    rc = span_read(r, &sp, first, end, true, err);
    struct members m = {0};
    for (size_t h = 0; rc == CORRAL_OK && h < sp.nh; h++) {
        /* An hour that lists empty may exist: its create then fails alone ("exists"). */
        if (sp.lists[h].n == 0) {
            if (corral_done_hour_path(path, sizeof path, ns, sp.h0 + (int64_t)h) != CORRAL_OK)
                abort();
            add_dir_op(r, &m, path, true);
        }
    }
    for (size_t i = 0; rc == CORRAL_OK && i < sp.nm; i++) {
        int64_t minute = sp.m0 + (int64_t)i;
        size_t h = (size_t)(minute / CORRAL_DONE_MINUTES_PER_HOUR - sp.h0);
        if (corral_done_minute_path(path, sizeof path, ns, minute) != CORRAL_OK)
            abort();
        if (!corral_strlist_has(&sp.lists[h], base(path)))
            add_dir_op(r, &m, path, true);
    }
    for (int64_t s = first; rc == CORRAL_OK && s < end; s++) {
        if (corral_done_slot_path(path, sizeof path, ns, s) != CORRAL_OK)
            abort();
        if (!span_has_slot(&sp, path, s))
            add_dir_op(r, &m, path, true);
    }
    /* Members commit in order (pipelined multis apply in order): parents before children. */
    if (rc == CORRAL_OK && m.n > 0) {
        int *rcs = corral_xcalloc(m.n, sizeof *rcs);
        rc = commit(r, "leader.done_dirs", &m, 0, m.n, rcs);
        free(rcs);
        CORRAL_LOG(CORRAL_LOG_DEBUG, "done index: prepared folders=%zu", m.n);
    }
    members_cleanup(&m);
    span_cleanup(&sp);
    return rc;
}

/* ------------------------------------------------------------------ 2. prune */

/* Remove the empty slot folders of [now - DONE_IDLE_MS - DONE_PRUNE_SPAN_MS, now - DONE_IDLE_MS)
 * (prepared, never used), so that listings walk few empty folders. */
static int prune(struct replica *r, int64_t now, struct corral_error *err)
{
    if (now < DONE_IDLE_MS + DONE_PRUNE_SPAN_MS)
        return CORRAL_OK;
    int64_t first = corral_done_slot_of(now - DONE_IDLE_MS - DONE_PRUNE_SPAN_MS);
    int64_t end = corral_done_slot_of(now - DONE_IDLE_MS);
    struct span sp = {0};
    int rc = span_read(r, &sp, first, end, false, err);
    size_t cap = (size_t)(end - first), n = 0;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(cap, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(cap, sizeof *ptrs);
    int64_t *counts = corral_xcalloc(cap, sizeof *counts);
    for (int64_t s = first; rc == CORRAL_OK && s < end; s++) {
        if (corral_done_slot_path(paths[n], CORRAL_PATH_MAX, r->opts.ns, s) != CORRAL_OK)
            abort();
        if (span_has_slot(&sp, paths[n], s)) {
            ptrs[n] = paths[n];
            n++;
        }
    }
    /* Counts from the folders' stats: no entry name is read. */
    if (rc == CORRAL_OK && n > 0)
        rc = zk_num_children_many(r->zk, ptrs, n, counts, err);
    struct members m = {0};
    for (size_t i = 0; rc == CORRAL_OK && i < n; i++)
        if (counts[i] == 0)
            add_dir_op(r, &m, paths[i], false);
    if (rc == CORRAL_OK && m.n > 0) {
        int *rcs = corral_xcalloc(m.n, sizeof *rcs);
        rc = commit(r, "leader.done_dirs", &m, 0, m.n, rcs);
        free(rcs);
    }
    members_cleanup(&m);
    free(counts);
    free(ptrs);
    free(paths);
    span_cleanup(&sp);
    return rc;
}

/* ------------------------------------------------------------------ 3. retire by the index */

struct walk {
    struct corral_done_entry *due; /* entries past the horizon, oldest slot first */
    size_t n_due;
    struct members drops; /* empty folders in the past */
    int listings;
};

/* Children of path (missing: none). Counts against the call's listing budget. */
static int list(struct replica *r, struct walk *w, const char *path, struct corral_strlist *out,
                struct corral_error *err)
{
    w->listings++;
    int rc = zk_children(r->zk, path, false, out, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        rc = CORRAL_OK;
    }
    return rc;
}

/* Read the slot folders slots[0..n) (all before the horizon): collect due entries, note empty
 * folders that lie in the past. */
static int read_slots(struct replica *r, struct walk *w, const int64_t *slots, size_t n,
                      int64_t horizon, int64_t now, struct corral_error *err)
{
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    struct corral_strlist *lists = corral_xcalloc(n, sizeof *lists);
    for (size_t i = 0; i < n; i++) {
        if (corral_done_slot_path(paths[i], CORRAL_PATH_MAX, r->opts.ns, slots[i]) != CORRAL_OK)
            abort();
        ptrs[i] = paths[i];
    }
    w->listings++;
    int rc = zk_children_many(r->zk, ptrs, n, lists, err);
    for (size_t i = 0; rc == CORRAL_OK && i < n; i++) {
        if (lists[i].n == 0 && (slots[i] + 1) * CORRAL_DONE_SLOT_MS <= now - DONE_IDLE_MS)
            add_dir_op(r, &w->drops, paths[i], false);
        for (size_t k = 0; k < lists[i].n && w->n_due < RETENTION_MAX_TASKS; k++) {
            struct corral_done_entry e;
            if (!corral_done_entry_parse(lists[i].items[k], &e)) {
                CORRAL_LOG(CORRAL_LOG_DEBUG, "done index: ignoring odd name path=%s/%.64s",
                           paths[i], lists[i].items[k]);
                continue;
            }
            if (e.finished_ms < horizon)
                w->due[w->n_due++] = e;
        }
    }
    for (size_t i = 0; i < n; i++)
        corral_strlist_cleanup(&lists[i]);
    free(lists);
    free(ptrs);
    free(paths);
    return rc;
}

/* Walk the index from its oldest hour towards the horizon. */
static int walk_index(struct replica *r, struct walk *w, int64_t horizon, int64_t now,
                      struct corral_error *err)
{
    const char *ns = r->opts.ns;
    char path[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_DONE, path);
    struct corral_strlist hours = {0};
    int rc = list(r, w, path, &hours, err);
    for (size_t hi = 0; rc == CORRAL_OK && hi < hours.n; hi++) {
        int64_t hour;
        if (!corral_done_hour_parse(hours.items[hi], &hour))
            continue; /* not ours: ignored */
        if (hour * CORRAL_DONE_HOUR_MS >= horizon || w->n_due >= RETENTION_MAX_TASKS ||
            w->listings >= RETENTION_MAX_LISTINGS)
            break;
        char hpath[CORRAL_PATH_MAX];
        if (corral_done_hour_path(hpath, sizeof hpath, ns, hour) != CORRAL_OK)
            abort();
        struct corral_strlist minutes = {0};
        rc = list(r, w, hpath, &minutes, err);
        if (rc == CORRAL_OK && minutes.n == 0 &&
            (hour + 1) * CORRAL_DONE_HOUR_MS <= now - DONE_IDLE_MS)
            add_dir_op(r, &w->drops, hpath, false);
        for (size_t mi = 0; rc == CORRAL_OK && mi < minutes.n; mi++) {
            int64_t minute;
            if (!corral_done_minute_parse(minutes.items[mi], hour, &minute))
                continue;
            if (minute * CORRAL_DONE_MINUTE_MS >= horizon || w->n_due >= RETENTION_MAX_TASKS ||
                w->listings >= RETENTION_MAX_LISTINGS)
                break;
            if (corral_done_minute_path(path, sizeof path, ns, minute) != CORRAL_OK)
                abort();
            struct corral_strlist slots = {0};
            rc = list(r, w, path, &slots, err);
            if (rc == CORRAL_OK && slots.n == 0 &&
                (minute + 1) * CORRAL_DONE_MINUTE_MS <= now - DONE_IDLE_MS)
                add_dir_op(r, &w->drops, path, false);
            /* The slots of this minute that start before the horizon, read in batches. */
            int64_t batch[RETENTION_READ_BATCH];
            size_t nb = 0;
            for (size_t si = 0; rc == CORRAL_OK && si < slots.n; si++) {
                int64_t slot;
                if (!corral_done_slot_parse(slots.items[si], minute, &slot))
                    continue;
                if (slot * CORRAL_DONE_SLOT_MS >= horizon)
                    break;
                batch[nb++] = slot;
                if (nb == RETENTION_READ_BATCH) {
                    rc = read_slots(r, w, batch, nb, horizon, now, err);
                    nb = 0;
                    if (w->n_due >= RETENTION_MAX_TASKS || w->listings >= RETENTION_MAX_LISTINGS)
                        break;
                }
            }
            if (rc == CORRAL_OK && nb > 0)
                rc = read_slots(r, w, batch, nb, horizon, now, err);
            corral_strlist_cleanup(&slots);
        }
        corral_strlist_cleanup(&minutes);
    }
    corral_strlist_cleanup(&hours);
    return rc;
}

/* The task of an entry "k" (it has an idempotency record), read for its key. */
struct keyed {
    char *key; /* owned; NULL when unknown */
    int32_t version;
    int rc; /* of the read: 0, CORRAL_ENOTFOUND, CORRAL_EINVAL (corrupt), other: skip */
    bool final;
};

static void read_keys(struct replica *r, const struct corral_done_entry *due, size_t n,
                      struct keyed *out)
{
    size_t nk = 0;
    for (size_t i = 0; i < n; i++)
        nk += due[i].has_key;
    if (nk == 0)
        return;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(nk, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(nk, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(nk, sizeof *got);
    size_t *which = corral_xcalloc(nk, sizeof *which);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!due[i].has_key)
            continue;
        store_task_path(r, due[i].id, paths[k]);
        ptrs[k] = paths[k];
        which[k++] = i;
    }
    zk_get_many(r->zk, ptrs, nk, false, got);
    for (k = 0; k < nk; k++) {
        struct keyed *o = &out[which[k]];
        o->rc = got[k].rc;
        o->version = got[k].version;
        if (o->rc == CORRAL_OK) {
            struct corral_task t = {0};
            struct corral_error perr = {0};
            o->rc = corral_task_parse(got[k].data, got[k].len, &t, &perr);
            if (o->rc == CORRAL_OK) {
                o->final = corral_state_is_final(t.state);
                o->key = t.spec.idempotency_key ? corral_xstrdup(t.spec.idempotency_key) : NULL;
            } else {
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "task-corrupt", paths[k],
                                "retention: corrupt task path=%s: %s", paths[k], perr.msg);
                o->rc = CORRAL_EINVAL;
            }
            corral_task_cleanup(&t);
        }
        zk_got_cleanup(&got[k]);
    }
    free(which);
    free(got);
    free(ptrs);
    free(paths);
}

/* The ops that retire entry e (whose task read, for a keyed one, is kd). False to skip it this
 * call (its task could not be read). */
static bool build_retire(struct replica *r, struct members *m, const struct corral_done_entry *e,
                         const struct keyed *kd)
{
    const char *ns = r->opts.ns, *fence = r->el.node;
    struct corral_txn *t;
    if (!e->has_key) {
        /* A finished task is never written again: delete it without reading it. */
        t = member_new(m, "leader.retention");
        member_end(m, corral_ops_retire_entry(t, ns, fence, e, -1, NULL));
        return true;
    }
    switch (kd->rc) {
        case CORRAL_OK:
            t = member_new(m, "leader.retention");
            if (kd->final) {
                member_end(m, corral_ops_retire_entry(t, ns, fence, e, kd->version, kd->key));
            } else {
                /* An entry for a task that is not finished was not written by corral: the
                 * entry goes, the task stays. */
                CORRAL_LOG(CORRAL_LOG_WARN, "done index: task=%s is not finished; entry dropped",
                           e->id);
                member_end(m, corral_ops_drop_done_entry(t, ns, fence, e));
            }
            return true;
        case CORRAL_ENOTFOUND:
            t = member_new(m, "leader.retention");
            member_end(m, corral_ops_drop_done_entry(t, ns, fence, e));
            return true;
        case CORRAL_EINVAL:
            /* A corrupt task: its key is unknown, its record stays (logged above). */
            t = member_new(m, "leader.retention");
            member_end(m, corral_ops_retire_entry(t, ns, fence, e, -1, NULL));
            return true;
        default:
            return false;
    }
}

/* Retire the due entries in waves; *retired counts tasks deleted. */
static int retire_due(struct replica *r, const struct walk *w, int64_t started_ms, size_t *retired)
{
    int rc = CORRAL_OK;
    for (size_t first = 0; rc == CORRAL_OK && first < w->n_due; first += RETENTION_WAVE) {
        if (first > 0 && clock_mono_ms() - started_ms >= RETENTION_BUDGET_MS)
            break; /* the rest next call */
        size_t n = w->n_due - first < RETENTION_WAVE ? w->n_due - first : RETENTION_WAVE;
        const struct corral_done_entry *due = w->due + first;
        struct keyed *kd = corral_xcalloc(n, sizeof *kd);
        read_keys(r, due, n, kd);
        struct members m = {0};
        const struct corral_done_entry **of = corral_xcalloc(n, sizeof *of);
        for (size_t i = 0; i < n; i++) {
            size_t before = m.n;
            if (build_retire(r, &m, &due[i], &kd[i]) && m.n > before)
                of[m.n - 1] = &due[i];
        }
        int *rcs = corral_xcalloc(m.n ? m.n : 1, sizeof *rcs);
        rc = commit(r, "leader.retention", &m, 0, m.n, rcs);
        /* A member that failed on a missing node (its task or record already gone): delete
         * what is left of it piece by piece, each alone. */
        struct members again = {0};
        for (size_t i = 0; i < m.n; i++) {
            if (rcs[i] == CORRAL_OK) {
                (*retired)++;
                continue;
            }
            if (rcs[i] != CORRAL_ENOTFOUND || !of[i])
                continue;
            struct corral_txn *t = member_new(&again, "leader.retention");
            member_end(&again, corral_ops_drop_done_entry(t, r->opts.ns, r->el.node, of[i]));
            struct corral_task bare = {0};
            memcpy(bare.id, of[i]->id, sizeof bare.id);
            t = member_new(&again, "leader.retention");
            member_end(&again, corral_ops_retire_unindexed(t, r->opts.ns, r->el.node, &bare, -1));
        }
        if (rc == CORRAL_OK && again.n > 0) {
            int *rcs2 = corral_xcalloc(again.n, sizeof *rcs2);
            rc = commit(r, "leader.retention", &again, 0, again.n, rcs2);
            free(rcs2);
        }
        members_cleanup(&again);
        free(rcs);
        free(of);
        members_cleanup(&m);
        for (size_t i = 0; i < n; i++)
            free(kd[i].key);
        free(kd);
    }
    return rc;
}

static int expire(struct replica *r, int64_t now, int64_t horizon, int64_t started_ms,
                  size_t *retired, struct corral_error *err)
{
    struct walk w = {.due = corral_xcalloc(RETENTION_MAX_TASKS, sizeof *w.due)};
    int rc = walk_index(r, &w, horizon, now, err);
    if (rc == CORRAL_OK)
        rc = retire_due(r, &w, started_ms, retired);
    /* Folders found empty go after the tasks (a folder emptied by this call goes next call). */
    if (rc == CORRAL_OK && w.drops.n > 0) {
        int *rcs = corral_xcalloc(w.drops.n, sizeof *rcs);
        rc = commit(r, "leader.done_dirs", &w.drops, 0, w.drops.n, rcs);
        free(rcs);
    }
    members_cleanup(&w.drops);
    free(w.due);
    return rc;
}

/* ------------------------------------------------------------------ 4. the slow pass */

/* One task bucket: finished tasks past the horizon that the index pass did not delete. */
static int sweep_bucket(struct replica *r, int64_t cut, size_t *retired, struct corral_error *err)
{
    struct leader *l = r->leader;
    unsigned b = l->retention_cursor % CORRAL_BUCKETS;
    l->retention_cursor = (b + 1) % CORRAL_BUCKETS;
    char dir[CORRAL_PATH_MAX];
    if (corral_path_task_bucket(dir, sizeof dir, r->opts.ns, b) != CORRAL_OK)
        abort();
    struct corral_strlist ids = {0};
    int rc = zk_children(r->zk, dir, false, &ids, err);
    if (rc != CORRAL_OK) {
        corral_strlist_cleanup(&ids);
        return rc;
    }
    /* Ids begin with their submission time and are listed sorted: the tasks submitted before
     * the cut are a prefix (a task cannot finish before it was submitted). */
    size_t n_old = 0;
    while (n_old < ids.n) {
        int64_t at = corral_id_time_ms(ids.items[n_old]);
        if (at >= cut)
            break;
        n_old++;
    }
    /* Long-lived unfinished tasks must not hide the rest: start at a random place. */
    size_t n = n_old < LEGACY_READS ? n_old : LEGACY_READS;
    size_t start = n_old > LEGACY_READS ? rand_u32() % n_old : 0;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n ? n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n ? n : 1, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(n ? n : 1, sizeof *got);
    struct corral_task *ts = corral_xcalloc(n ? n : 1, sizeof *ts);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = ids.items[(start + i) % n_old];
        if (corral_id_is_valid(id) &&
            corral_path_child(paths[np], CORRAL_PATH_MAX, dir, id) == CORRAL_OK) {
            ptrs[np] = paths[np];
            np++;
        }
    }
    zk_get_many(r->zk, ptrs, np, false, got);
    struct members m = {0};
    int32_t *versions = corral_xcalloc(np ? np : 1, sizeof *versions);
    size_t *task_of = corral_xcalloc(np ? np : 1, sizeof *task_of);
    for (size_t i = 0; i < np; i++) {
        struct corral_error perr = {0};
        if (got[i].rc != CORRAL_OK ||
            corral_task_parse(got[i].data, got[i].len, &ts[i], &perr) != CORRAL_OK)
            continue;
        if (!corral_state_is_final(ts[i].state) || ts[i].finished_at_ms < 0 ||
            ts[i].finished_at_ms >= cut)
            continue;
        versions[i] = got[i].version;
        struct corral_txn *t = member_new(&m, "leader.retention");
        int brc = corral_ops_retire(t, r->opts.ns, r->el.node, &ts[i], versions[i]);
        member_end(&m, brc);
        if (brc == CORRAL_OK)
            task_of[m.n - 1] = i;
    }
    int *rcs = corral_xcalloc(m.n ? m.n : 1, sizeof *rcs);
    if (m.n > 0)
        rc = commit(r, "leader.retention", &m, 0, m.n, rcs);
    /* No done entry: finished before the index existed. */
    struct members again = {0};
    for (size_t i = 0; i < m.n; i++) {
        if (rcs[i] == CORRAL_OK)
            (*retired)++;
        else if (rcs[i] == CORRAL_ENOTFOUND) {
            struct corral_txn *t = member_new(&again, "leader.retention");
            size_t k = task_of[i];
            member_end(&again,
                       corral_ops_retire_unindexed(t, r->opts.ns, r->el.node, &ts[k], versions[k]));
        }
    }
    if (rc == CORRAL_OK && again.n > 0) {
        int *rcs2 = corral_xcalloc(again.n, sizeof *rcs2);
        rc = commit(r, "leader.retention", &again, 0, again.n, rcs2);
        for (size_t i = 0; i < again.n; i++)
            *retired += rcs2[i] == CORRAL_OK;
        free(rcs2);
    }
    members_cleanup(&again);
    members_cleanup(&m);
    free(rcs);
    free(task_of);
    free(versions);
    for (size_t i = 0; i < np; i++) {
        zk_got_cleanup(&got[i]);
        corral_task_cleanup(&ts[i]);
    }
    free(ts);
    free(got);
    free(ptrs);
    free(paths);
    corral_strlist_cleanup(&ids);
    return rc;
}

/* ------------------------------------------------------------------ the step */

int leader_sweep_retention(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    int64_t started = clock_mono_ms();
    int64_t horizon = now_wall - r->opts.retention_s * 1000;
    size_t retired = 0, legacy = 0;
    int rc = prepare(r, now_wall, err);
    if (rc == CORRAL_OK)
        rc = prune(r, now_wall, err);
    if (rc == CORRAL_OK && horizon > 0)
        rc = expire(r, now_wall, horizon, started, &retired, err);
    if (rc == CORRAL_OK && horizon > LEGACY_GRACE_MS)
        rc = sweep_bucket(r, horizon - LEGACY_GRACE_MS, &legacy, err);
    if (retired + legacy > 0)
        CORRAL_LOG(CORRAL_LOG_INFO, "retention removed tasks=%zu unindexed=%zu ms=%lld",
                   retired + legacy, legacy, (long long)(clock_mono_ms() - started));
    if (rc == CORRAL_EFENCED)
        return rc;
    if (rc != CORRAL_OK) {
        /* Retried next call; the step never holds up a round. */
        CORRAL_LOG(CORRAL_LOG_DEBUG, "retention step incomplete: %s", err ? err->msg : "");
        corral_error_clear(err);
    }
    return CORRAL_OK;
}
