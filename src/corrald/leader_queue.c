/* SPDX-License-Identifier: MIT */
/*
 * The leader's view of the queue (leader_internal.h). Entry names carry each task's order keys
 * (corral/queue_entry.h), so the leader keeps only the keys of the queued tasks (about 80 bytes
 * each), ordered from the listing alone:
 *   - a bucket is listed (getChildren2, with a child watch) when a new term starts; after
 *     that, when its watch fired or a write of ours touched it, and every bucket every
 *     LEADER_QUEUE_CHECK_MS (watches are hints), its stat is read (pipelined, no names): it is
 *     listed again only if its cversion differs from the listing's plus the entries we deleted
 *     ourselves. The leader's own assignments therefore cost no listing, and a drain of a
 *     million entries lists nothing but what others changed;
 *   - each round picks the head: the first K entries in the exact order of the policy at this
 *     instant (one pass over the keys with a bounded heap; no task read);
 *   - only the head's tasks are read (pipelined), and kept while they stay queued (up to
 *     LEADER_CACHE_MAX), so each task is read about once however the head's size swings.
 * An entry whose name is not the canonical name of its queued task (the bare-id form of older
 * versions, or anything else) is rewritten in one fenced multi; one with no queued task behind
 * it is removed.
 *
 * A scheduled (delayed) task has its entry from the start, with its due time as not_before: the
 * keys are the time index. Each round, the entries that became due since the last round, in
 * (due, id) order, have their tasks read, and the scheduled ones are released (scheduled ->
 * queued, fenced, RELEASE_PER_ROUND at most); a scheduled task met in the head is released the
 * same way. Nothing scans the scheduled tasks that are not due.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/metrics.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"
#include "corral/text.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "leader"

/* Buckets listed per pipelined batch: bounds the names held at once (a full listing of a
 * million entries is ~4,000 names per bucket). */
#define RELIST_CHUNK 32u
/* At most this many odd entries are rewritten per round. */
#define REWRITE_PER_ROUND 256u
/* At most this many due entries are looked at per round by the release pass. */
#define RELEASE_PER_ROUND 2048u

void leader_queue_reset(struct leader *l)
{
    leader_cache_clear(l);
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        free(l->queue_keys[b].k);
        free(l->queue_keys[b].gone);
        l->queue_keys[b] = (struct corral_queue_keys){.cversion = -1};
    }
    leader_unsched_clear(l);
    l->queue_all_dirty = true;
    l->release_mark_ms = 0;
    l->release_mark_id[0] = '\0';
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

void leader_unsched_clear(struct leader *l)
{
    free(l->unsched);
    l->unsched = NULL;
    l->n_unsched = l->cap_unsched = 0;
}

void leader_unsched_add(struct leader *l, const char *id)
{
    if (l->n_unsched == l->cap_unsched) {
        l->cap_unsched = l->cap_unsched ? l->cap_unsched * 2 : 64;
        l->unsched = corral_xrealloc(l->unsched, l->cap_unsched * sizeof *l->unsched);
    }
    snprintf(l->unsched[l->n_unsched++], sizeof *l->unsched, "%s", id);
    qsort(l->unsched, l->n_unsched, sizeof *l->unsched, cmp_id);
}

static bool unsched_has(const struct leader *l, const char *id)
{
    return l->n_unsched > 0 &&
           bsearch(id, l->unsched, l->n_unsched, sizeof *l->unsched, cmp_id) != NULL;
}

void leader_cache_clear(struct leader *l)
{
    for (size_t i = 0; i < l->n_cache; i++)
        corral_task_cleanup(&l->cache[i].task);
    free(l->cache);
    l->cache = NULL;
    l->n_cache = 0;
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

static int cmp_qtask(const void *a, const void *b)
{
    return strcmp(((const struct qtask *)a)->task.id, ((const struct qtask *)b)->task.id);
}

void leader_queue_on_event(struct leader *l, const struct zk_event *ev)
{
    if (ev->type == ZK_EV_SESSION) {
        l->queue_all_dirty = true; /* watches may have been lost with the connection */
        return;
    }
    size_t n = strlen(l->queue_prefix);
    if (ev->type != ZK_EV_CHILD || n == 0 || strncmp(ev->path, l->queue_prefix, n) != 0)
        return;
    const char *b = ev->path + n;
    if (corral_path_is_bucket_name(b))
        l->queue_dirty[strtoul(b, NULL, 16) % CORRAL_BUCKETS] = true;
}

void leader_queue_touched(struct leader *l, const char *id)
{
    l->queue_dirty[corral_path_bucket(id)] = true;
}

static int cmp_key_id(const void *id, const void *k)
{
    return strcmp(id, ((const struct corral_queue_key *)k)->id);
}

void leader_queue_removed(struct leader *l, const char *name)
{
    struct corral_queue_key want;
    if (!corral_queue_key_decode(name, &want))
        return;
    unsigned b = corral_path_bucket(want.id);
    struct corral_queue_keys *qk = &l->queue_keys[b];
    /* Keys are in listing order (by name, so by id); an id may be listed twice (a leftover
     * beside the canonical entry): the neighbours with the same id are compared by name. */
    const struct corral_queue_key *hit = bsearch(want.id, qk->k, qk->n, sizeof *qk->k, cmp_key_id);
    if (!hit || qk->cversion < 0) {
        l->queue_dirty[b] = true; /* not as we listed it: look again */
        return;
    }
    size_t i = (size_t)(hit - qk->k);
    while (i > 0 && strcmp(qk->k[i - 1].id, want.id) == 0)
        i--;
    char listed[CORRAL_QUEUE_NAME_MAX + 1];
    for (; i < qk->n && strcmp(qk->k[i].id, want.id) == 0; i++) {
        corral_queue_key_name(&qk->k[i], listed);
        if (!qk->gone[i] && strcmp(listed, name) == 0) {
            qk->gone[i] = true;
            qk->n_gone++;
            qk->cversion++; /* our delete: one child change */
            return;
        }
    }
    l->queue_dirty[b] = true;
}

/* Decode a bucket's listing (taken at cversion) into its keys; odd names are logged and
 * skipped. */
static void take_listing(struct leader *l, unsigned b, struct corral_strlist *names,
                         int32_t cversion)
{
    struct corral_queue_keys *qk = &l->queue_keys[b];
    free(qk->k);
    free(qk->gone);
    qk->k = corral_xcalloc(names->n ? names->n : 1, sizeof *qk->k);
    qk->gone = corral_xcalloc(names->n ? names->n : 1, sizeof *qk->gone);
    qk->n = qk->n_gone = 0;
    qk->cversion = cversion;
    qk->watched = true;
    for (size_t i = 0; i < names->n; i++) {
        if (corral_queue_key_decode(names->items[i], &qk->k[qk->n]))
            qk->n++;
        else
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "queue-name", names->items[i],
                            "ignoring odd queue entry name=%.64s", names->items[i]);
    }
    corral_strlist_cleanup(names);
}

/* Fill paths/ptrs with the folders of buckets which[0..n). */
static void bucket_paths(struct replica *r, const unsigned *which, size_t n,
                         char (*paths)[CORRAL_PATH_MAX], const char **ptrs)
{
    for (size_t i = 0; i < n; i++) {
        if (corral_path_bucket_dir(paths[i], CORRAL_PATH_MAX, r->opts.ns, CORRAL_DIR_QUEUE,
                                   which[i]) != CORRAL_OK)
            abort(); /* a validated namespace always fits */
        ptrs[i] = paths[i];
    }
}

/* List buckets which[0..n) with a fresh child watch, in pipelined chunks (bounds the names
 * held at once: a full listing of a million entries is ~4,000 names per bucket). */
static int list_buckets(struct replica *r, const unsigned *which, size_t n,
                        struct corral_error *err)
{
    struct leader *l = r->leader;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(RELIST_CHUNK, CORRAL_PATH_MAX);
    const char *ptrs[RELIST_CHUNK];
    struct corral_strlist outs[RELIST_CHUNK];
    int32_t cvs[RELIST_CHUNK];
    int rc = CORRAL_OK;
    for (size_t at = 0; at < n && rc == CORRAL_OK; at += RELIST_CHUNK) {
        size_t m = n - at < RELIST_CHUNK ? n - at : RELIST_CHUNK;
        bucket_paths(r, which + at, m, paths, ptrs);
        memset(outs, 0, sizeof outs);
        /* Cleared before the listing: a change after it fires the new watch and marks it
         * again. */
        for (size_t i = 0; i < m; i++)
            l->queue_dirty[which[at + i]] = false;
        rc = zk_children_watch_many(r->zk, ptrs, m, outs, cvs, err);
        for (size_t i = 0; i < m; i++) {
            if (rc == CORRAL_OK)
                take_listing(l, which[at + i], &outs[i], cvs[i]);
            else
                l->queue_dirty[which[at + i]] = true;
        }
    }
    free(paths);
    return rc;
}

/* Bring the keys up to date: every bucket listed on a new term or after a session event;
 * otherwise the buckets that may have changed (watch fired, touched by us, no watch armed,
 * or all every LEADER_QUEUE_CHECK_MS) are listed again if small (LEADER_RELIST_SMALL keys),
 * else have their stat read, and only those whose cversion shows a change that is not one of
 * our own deletes are listed again. */
static int refresh_keys(struct replica *r, struct corral_error *err)
{
    struct leader *l = r->leader;
    int64_t now = clock_mono_ms();
    if (!l->queue_prefix[0]) {
        store_dir_path(r, CORRAL_DIR_QUEUE, l->queue_prefix);
        size_t n = strlen(l->queue_prefix);
        if (n + 1 < sizeof l->queue_prefix) {
            l->queue_prefix[n] = '/';
            l->queue_prefix[n + 1] = '\0';
        }
    }
    unsigned which[CORRAL_BUCKETS];
    size_t n = 0;
    if (l->queue_all_dirty) {
        for (unsigned b = 0; b < CORRAL_BUCKETS; b++)
            which[n++] = b;
        l->queue_all_dirty = false;
        l->queue_check_ms = now;
        return list_buckets(r, which, n, err);
    }
    bool all = now - l->queue_check_ms >= LEADER_QUEUE_CHECK_MS;
    if (all)
        l->queue_check_ms = now;
    /* A small bucket is listed again at once: its listing costs what its stat would, saves
     * the stat's round trip and arms its watch again (else, after our own delete fired it, a
     * bucket's stat is read every round until a listing: at light load, soon all 256). */
    unsigned small[CORRAL_BUCKETS];
    size_t n_small = 0;
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        const struct corral_queue_keys *qk = &l->queue_keys[b];
        if (!all && !l->queue_dirty[b] && qk->watched)
            continue;
        if (qk->n - qk->n_gone <= LEADER_RELIST_SMALL)
            small[n_small++] = b;
        else
            which[n++] = b;
    }
    if (n == 0)
        return n_small > 0 ? list_buckets(r, small, n_small, err) : CORRAL_OK;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    int32_t *cvs = corral_xcalloc(n, sizeof *cvs);
    bucket_paths(r, which, n, paths, ptrs);
    /* A watch that fires after this stat marks its bucket again for the next round. */
    bool *was_dirty = corral_xcalloc(n, sizeof *was_dirty);
    for (size_t i = 0; i < n; i++) {
        was_dirty[i] = l->queue_dirty[which[i]];
        l->queue_dirty[which[i]] = false;
    }
    int rc = zk_cversion_many(r->zk, ptrs, n, cvs, err);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct corral_queue_keys *qk = &l->queue_keys[which[i]];
        if (rc != CORRAL_OK) {
            l->queue_dirty[which[i]] = true;
        } else if (cvs[i] >= 0 && cvs[i] == qk->cversion) {
            /* Only our own deletes since the listing. A watch that fired is not armed again
             * without a listing: until one, this bucket's stat is read every round. */
            if (was_dirty[i])
                qk->watched = false;
        } else {
            which[k++] = which[i];
        }
    }
    free(was_dirty);
    free(cvs);
    free(ptrs);
    free(paths);
    for (size_t i = 0; i < n_small; i++)
        which[k++] = small[i];
    if (rc == CORRAL_OK && k > 0)
        rc = list_buckets(r, which, k, err);
    return rc;
}

/* ------------------------------------------------------------------ the head */

static void key_view(const struct corral_queue_key *k, struct corral_task_view *v)
{
    *v = (struct corral_task_view){
        .id = k->id,
        .priority = k->priority,
        .submitted_at_ms = k->submitted_at_ms,
        .not_before_ms = k->not_before_ms,
        .cpu_milli = k->cpu_milli,
        .mem_mb = k->mem_mb,
        .has_estimated = k->has_estimated,
        .estimated_ms = k->estimated_ms,
    };
}

/* A bounded max-heap of the best K keys seen so far: the root is the worst of them. */
struct head {
    const struct corral_queue_key **k;
    size_t n, cap;
    corral_order_fn cmp;
    int64_t now;
};

static int head_cmp(const struct head *h, const struct corral_queue_key *a,
                    const struct corral_queue_key *b)
{
    struct corral_task_view va, vb;
    key_view(a, &va);
    key_view(b, &vb);
    return h->cmp(&va, &vb, h->now);
}

static void sift_down(struct head *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < h->n && head_cmp(h, h->k[l], h->k[worst]) > 0)
            worst = l;
        if (r < h->n && head_cmp(h, h->k[r], h->k[worst]) > 0)
            worst = r;
        if (worst == i)
            return;
        const struct corral_queue_key *t = h->k[i];
        h->k[i] = h->k[worst];
        h->k[worst] = t;
        i = worst;
    }
}

static void head_offer(struct head *h, const struct corral_queue_key *k)
{
    if (h->n < h->cap) {
        size_t i = h->n++;
        h->k[i] = k;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (head_cmp(h, h->k[i], h->k[p]) <= 0)
                break;
            const struct corral_queue_key *t = h->k[i];
            h->k[i] = h->k[p];
            h->k[p] = t;
            i = p;
        }
        return;
    }
    if (head_cmp(h, k, h->k[0]) >= 0)
        return; /* not better than the worst we keep */
    h->k[0] = k;
    sift_down(h, 0);
}

/* ------------------------------------------------------------------ rewriting odd entries */

/* The entry listed as key k has a queued task t whose canonical entry is another name: replace
 * the entry in one fenced multi (at most REWRITE_PER_ROUND a round). */
static int rewrite_entry(struct replica *r, const struct corral_queue_key *k,
                         const struct corral_task *t, struct corral_error *err)
{
    char listed[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_key_name(k, listed);
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.cleanup");
    int rc = corral_ops_rewrite_queue_entry(&txn, r->opts.ns, r->el.node, listed, t);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
    if (rc == CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s queue entry rewritten from name=%s", t->id, listed);
    leader_queue_touched(r->leader, t->id);
    if (rc == CORRAL_EEXIST) {
        /* The canonical entry is there already: the listed one is only a leftover. */
        corral_error_clear(err);
        return leader_drop_entry(r, listed, err);
    }
    if (rc == CORRAL_EFENCED)
        return rc;
    corral_error_clear(err);
    return CORRAL_OK;
}

static int drop_key(struct replica *r, const struct corral_queue_key *k, struct corral_error *err)
{
    char listed[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_key_name(k, listed);
    leader_queue_touched(r->leader, k->id);
    return leader_drop_entry(r, listed, err);
}

/* ------------------------------------------------------------------ releasing */

/* Release the due scheduled tasks ts[0..n) (read at vs): scheduled -> queued, one fenced
 * multi each, packed and sent together. One cancelled or changed meanwhile is skipped (the next
 * round sees it); a failure that concerns every member ends the round. */
static int release_tasks(struct replica *r, struct corral_task *ts, const int32_t *vs, size_t n,
                         int64_t now_wall, struct corral_error *err)
{
    if (n == 0)
        return CORRAL_OK;
    struct corral_txn *ms = corral_xcalloc(n, sizeof *ms);
    int *rcs = corral_xcalloc(n, sizeof *rcs);
    struct corral_error *errs = corral_xcalloc(n, sizeof *errs);
    bool *live = corral_xcalloc(n, sizeof *live);
    for (size_t i = 0; i < n; i++) {
        corral_txn_init(&ms[i], "leader.release");
        struct corral_error terr = {0};
        if (corral_task_transition(&ts[i], CORRAL_EV_RELEASE,
                                   &(struct corral_transition_ctx){.now_ms = now_wall},
                                   &terr) == CORRAL_OK &&
            corral_ops_release_due(&ms[i], r->opts.ns, r->el.node, &ts[i], vs[i]) == CORRAL_OK)
            live[i] = true;
    }
    persist_commit_members(r, "leader.release", ms, n, rcs, errs);
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        if (!live[i]) {
            /* not a legal release: nothing was written */
        } else if (rcs[i] == CORRAL_OK) {
            char due[25], detail[64];
            corral_time_format(ts[i].not_before_ms, due);
            snprintf(detail, sizeof detail, "due=%s late_ms=%" PRId64, due,
                     now_wall - ts[i].not_before_ms);
            persist_applied(&(struct persist_change){.task = ts[i].id,
                                                     .from = CORRAL_STATE_SCHEDULED,
                                                     .to = CORRAL_STATE_QUEUED,
                                                     .detail = detail});
            atomic_fetch_add(&r->n_released, 1);
        } else if (rcs[i] == CORRAL_EFENCED || rcs[i] == CORRAL_EUNKNOWN ||
                   rcs[i] == CORRAL_EUNAVAIL || rcs[i] == CORRAL_ETOOBIG) {
            if (rc == CORRAL_OK) {
                rc = rcs[i];
                *err = errs[i];
            }
        } else {
            CORRAL_LOG(CORRAL_LOG_DEBUG, "release task=%s skipped: %s", ts[i].id, errs[i].msg);
        }
        corral_txn_cleanup(&ms[i]);
    }
    /* The released tasks are queued now: the next round reads them as such. */
    r->leader->dirty = true;
    free(live);
    free(errs);
    free(rcs);
    free(ms);
    return rc;
}

/* True when the task behind key k is scheduled, due and still has k as its entry. */
static bool releasable(const struct corral_task *t, const struct corral_queue_key *k,
                       int64_t now_wall)
{
    if (t->state != CORRAL_STATE_SCHEDULED || t->not_before_ms > now_wall || k->legacy)
        return false;
    struct corral_queue_key want;
    corral_queue_key_of(t, &want);
    char a[CORRAL_QUEUE_NAME_MAX + 1], b[CORRAL_QUEUE_NAME_MAX + 1];
    corral_queue_key_format(&want, a);
    corral_queue_key_format(k, b);
    return strcmp(a, b) == 0;
}

static int cmp_due(const void *a, const void *b)
{
    const struct corral_queue_key *x = *(const struct corral_queue_key *const *)a;
    const struct corral_queue_key *y = *(const struct corral_queue_key *const *)b;
    if (x->not_before_ms != y->not_before_ms)
        return x->not_before_ms < y->not_before_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

static bool after_mark(const struct leader *l, const struct corral_queue_key *k)
{
    if (k->not_before_ms != l->release_mark_ms)
        return k->not_before_ms > l->release_mark_ms;
    return strcmp(k->id, l->release_mark_id) > 0;
}

/*
 * The release pass: the entries that became due since the last pass (after the mark, at most
 * RELEASE_PER_ROUND, oldest due first) have their tasks read; the scheduled ones are released.
 * Retry backoffs that end are entries of queued tasks: read once and left alone. An entry that
 * arrives already behind the mark (a replica's clock behind the leader's) is released when it
 * reaches the head instead.
 */
static int release_due(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    const struct corral_queue_key **due = NULL;
    size_t n = 0, cap = 0;
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        const struct corral_queue_keys *qk = &l->queue_keys[b];
        for (size_t i = 0; i < qk->n; i++) {
            const struct corral_queue_key *k = &qk->k[i];
            if (qk->gone[i] || k->legacy || k->not_before_ms <= 0 || k->not_before_ms > now_wall ||
                !after_mark(l, k))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                due = corral_xrealloc(due, cap * sizeof *due);
            }
            due[n++] = k;
        }
    }
    if (n == 0)
        return CORRAL_OK;
    qsort(due, n, sizeof *due, cmp_due);
    if (n > RELEASE_PER_ROUND)
        n = RELEASE_PER_ROUND;
    int rc = CORRAL_OK;
    for (size_t at = 0; rc == CORRAL_OK && at < n; at += LEADER_READ_BATCH) {
        size_t m = n - at < LEADER_READ_BATCH ? n - at : LEADER_READ_BATCH;
        char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(m, CORRAL_PATH_MAX);
        const char **ptrs = corral_xcalloc(m, sizeof *ptrs);
        struct zk_got *got = corral_xcalloc(m, sizeof *got);
        struct corral_task *ts = corral_xcalloc(m, sizeof *ts);
        int32_t *vs = corral_xcalloc(m, sizeof *vs);
        for (size_t i = 0; i < m; i++) {
            store_task_path(r, due[at + i]->id, paths[i]);
            ptrs[i] = paths[i];
        }
        zk_get_many(r->zk, ptrs, m, false, got);
        size_t n_rel = 0;
        for (size_t i = 0; i < m; i++) {
            if (got[i].rc == CORRAL_OK &&
                corral_task_parse(got[i].data, got[i].len, &ts[n_rel], &got[i].err) == CORRAL_OK) {
                if (releasable(&ts[n_rel], due[at + i], now_wall))
                    vs[n_rel++] = got[i].version;
                else
                    corral_task_cleanup(&ts[n_rel]);
            } else if (got[i].rc != CORRAL_OK && got[i].rc != CORRAL_ENOTFOUND && rc == CORRAL_OK) {
                rc = got[i].rc; /* not an answer: look again next round */
                *err = got[i].err;
            }
            /* gone or corrupt: the head deals with the entry */
            zk_got_cleanup(&got[i]);
        }
        if (rc == CORRAL_OK)
            rc = release_tasks(r, ts, vs, n_rel, now_wall, err);
        if (rc == CORRAL_OK) {
            const struct corral_queue_key *last = due[at + m - 1];
            l->release_mark_ms = last->not_before_ms;
            snprintf(l->release_mark_id, sizeof l->release_mark_id, "%s", last->id);
        }
        for (size_t i = 0; i < n_rel; i++)
            corral_task_cleanup(&ts[i]);
        free(vs);
        free(ts);
        free(got);
        free(ptrs);
        free(paths);
    }
    free(due);
    return rc;
}

/* ------------------------------------------------------------------ loading */

/* Read the tasks of keys ks[0..n) pipelined. A queued task whose entry is canonical joins next;
 * an entry with no queued task is dropped, an odd one rewritten. */
static int read_head(struct replica *r, const struct corral_queue_key *const *ks, size_t n,
                     struct qtask *next, size_t *n_next, size_t *rewrites, int64_t now_wall,
                     struct corral_error *err)
{
    struct corral_task *rel = corral_xcalloc(n ? n : 1, sizeof *rel);
    int32_t *rel_v = corral_xcalloc(n ? n : 1, sizeof *rel_v);
    size_t n_rel = 0;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n ? n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n ? n : 1, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(n ? n : 1, sizeof *got);
    for (size_t i = 0; i < n; i++) {
        store_task_path(r, ks[i]->id, paths[i]);
        ptrs[i] = paths[i];
    }
    zk_get_many(r->zk, ptrs, n, false, got);
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        struct corral_task t = {0};
        int trc = got[i].rc;
        if (trc == CORRAL_OK) {
            trc = corral_task_parse(got[i].data, got[i].len, &t, &got[i].err);
            if (trc != CORRAL_OK)
                CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "task-corrupt", paths[i],
                                "corrupt task znode path=%s: %s", paths[i], got[i].err.msg);
        }
        bool queued = trc == CORRAL_OK && t.state == CORRAL_STATE_QUEUED;
        bool canonical = false;
        if (queued && !ks[i]->legacy) {
            struct corral_queue_key want;
            corral_queue_key_of(&t, &want);
            char a[CORRAL_QUEUE_NAME_MAX + 1], b[CORRAL_QUEUE_NAME_MAX + 1];
            corral_queue_key_format(&want, a);
            corral_queue_key_format(ks[i], b);
            canonical = strcmp(a, b) == 0;
        }
        if (queued && canonical) {
            next[(*n_next)++] = (struct qtask){.task = t, .version = got[i].version};
        } else if (trc == CORRAL_OK && t.state == CORRAL_STATE_SCHEDULED) {
            /* Due (the head has only eligible keys) but not yet released: release it now,
             * assign it in a later round. Not due or not its entry: left alone, never dropped. */
            if (releasable(&t, ks[i], now_wall)) {
                rel[n_rel] = t;
                rel_v[n_rel++] = got[i].version;
            } else {
                corral_task_cleanup(&t);
            }
        } else {
            if (rc != CORRAL_OK) {
                /* a failure before: the rest waits for the next round */
            } else if (queued) {
                if ((*rewrites)++ < REWRITE_PER_ROUND)
                    rc = rewrite_entry(r, ks[i], &t, err);
            } else if (trc == CORRAL_OK || trc == CORRAL_ENOTFOUND) {
                rc = drop_key(r, ks[i], err);
            } else if (trc != CORRAL_EINVAL) {
                /* corrupt tasks (EINVAL) are logged above and skipped */
                rc = trc;
                *err = got[i].err;
            }
            corral_task_cleanup(&t);
        }
        zk_got_cleanup(&got[i]);
    }
    if (rc == CORRAL_OK)
        rc = release_tasks(r, rel, rel_v, n_rel, now_wall, err);
    for (size_t i = 0; i < n_rel; i++)
        corral_task_cleanup(&rel[i]);
    free(rel_v);
    free(rel);
    free(got);
    free(ptrs);
    free(paths);
    return rc;
}

int leader_load_queue(struct replica *r, struct round *rd, size_t head_max, int64_t now_wall,
                      struct corral_error *err)
{
    struct leader *l = r->leader;
    int rc = refresh_keys(r, err);
    if (rc == CORRAL_OK)
        rc = release_due(r, now_wall, err);
    if (rc != CORRAL_OK) {
        leader_cache_clear(l);
        return rc;
    }
    /* One pass over every key: the best head_max eligible ones, in the policy's order now.
     * Entries of the older bare-id form have no keys: their tasks are read (and the entries
     * rewritten) a few hundred per round. */
    struct head h = {
        .cap = head_max ? head_max : 1, .cmp = r->policy.order->compare, .now = now_wall};
    h.k = corral_xcalloc(h.cap, sizeof *h.k);
    const struct corral_queue_key **legacy = corral_xcalloc(REWRITE_PER_ROUND, sizeof *legacy);
    size_t n_legacy = 0, total = 0;
    int64_t earliest = 0;
    /* For /metrics, from the same pass: depth by band, entries not due, unmet demand. */
    uint64_t band[CORRAL_BAND_COUNT] = {0}, later = 0, unmet = 0, unmet_cpu = 0, unmet_mem = 0;
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        const struct corral_queue_keys *qk = &l->queue_keys[b];
        total += qk->n - qk->n_gone;
        for (size_t i = 0; i < qk->n; i++) {
            const struct corral_queue_key *k = &qk->k[i];
            if (qk->gone[i])
                continue; /* assigned by us since the listing */
            if (k->legacy) {
                if (n_legacy < REWRITE_PER_ROUND)
                    legacy[n_legacy++] = k;
                continue;
            }
            if (k->not_before_ms > now_wall) {
                later++;
                if (earliest == 0 || k->not_before_ms < earliest)
                    earliest = k->not_before_ms;
                continue;
            }
            band[corral_priority_band(k->priority)]++;
            if (unsched_has(l, k->id)) {
                /* fits no worker of this set: shown as waiting already */
                unmet++;
                unmet_cpu += k->cpu_milli;
                unmet_mem += k->mem_mb;
                continue;
            }
            head_offer(&h, k);
        }
    }
    for (size_t i = 0; i < CORRAL_BAND_COUNT; i++)
        atomic_store(&r->g_queue_band[i], band[i]);
    atomic_store(&r->g_queue_later, later);
    atomic_store(&r->g_unmet_tasks, unmet);
    atomic_store(&r->g_unmet_cpu_milli, unmet_cpu);
    atomic_store(&r->g_unmet_mem_mb, unmet_mem);
    l->queued = total;
    l->next_eligible_ms = earliest;
    /* The head in order, best first (heap pops give worst first). */
    const struct corral_queue_key **order = corral_xcalloc(h.n ? h.n : 1, sizeof *order);
    size_t n_order = h.n;
    for (size_t i = n_order; i > 0; i--) {
        order[i - 1] = h.k[0];
        h.k[0] = h.k[--h.n];
        sift_down(&h, 0);
    }
    free(h.k);

    /* Tasks of the head: kept from the last round when still there, else read. */
    struct qtask *next = corral_xcalloc(n_order + n_legacy + 1, sizeof *next);
    const struct corral_queue_key **unread = corral_xcalloc(n_order + n_legacy + 1, sizeof *unread);
    size_t n_next = 0, n_unread = 0, rewrites = 0;
    for (size_t i = 0; i < n_order; i++) {
        struct qtask *known = cache_find(l, order[i]->id);
        if (known && !known->gone) {
            next[n_next++] = *known;
            memset(known, 0, sizeof *known); /* moved */
            known->gone = true;
        } else {
            unread[n_unread++] = order[i];
        }
    }
    for (size_t i = 0; i < n_legacy; i++)
        unread[n_unread++] = legacy[i];
    for (size_t i = 0; rc == CORRAL_OK && i < n_unread; i += LEADER_READ_BATCH) {
        size_t m = n_unread - i < LEADER_READ_BATCH ? n_unread - i : LEADER_READ_BATCH;
        rc = read_head(r, &unread[i], m, next, &n_next, &rewrites, now_wall, err);
    }
    free(unread);
    free(order);
    free(legacy);
    if (rc != CORRAL_OK) {
        for (size_t i = 0; i < n_next; i++)
            corral_task_cleanup(&next[i].task);
        free(next);
        leader_cache_clear(l);
        return rc;
    }
    /* The new cache: the head, then what is left of the old one (tasks of earlier heads, not
     * assigned or changed since) while there is room. */
    size_t keep = 0;
    for (size_t i = 0; i < l->n_cache; i++)
        keep += !l->cache[i].gone;
    if (n_next + keep > LEADER_CACHE_MAX)
        keep = n_next < LEADER_CACHE_MAX ? LEADER_CACHE_MAX - n_next : 0;
    next = corral_xrealloc(next, (n_next + keep + 1) * sizeof *next);
    size_t n_head = n_next;
    for (size_t i = 0; i < n_head; i++)
        next[i].head = true;
    for (size_t i = 0; i < l->n_cache; i++) {
        struct qtask *old = &l->cache[i];
        if (old->gone || n_next == n_head + keep)
            continue;
        next[n_next] = *old;
        next[n_next++].head = false;
        memset(old, 0, sizeof *old); /* moved */
        old->gone = true;
    }
    qsort(next, n_next, sizeof *next, cmp_qtask);
    leader_cache_clear(l); /* frees what did not fit */
    l->cache = next;
    l->n_cache = n_next;
    rd->q = corral_xcalloc(n_head ? n_head : 1, sizeof *rd->q);
    rd->n_q = 0;
    for (size_t i = 0; i < n_next; i++)
        if (next[i].head)
            rd->q[rd->n_q++] = &next[i];
    return CORRAL_OK;
}
