/* SPDX-License-Identifier: MIT */
/*
 * The leader's care of the events feed (corral/event.h, docs/znodes.md "The events feed"):
 * once a second it stats the current generation (one round trip); every 10 s, and while a trim
 * goes on, it looks at all of them (one listing of events/, one pipelined stat and read of each,
 * at most CORRAL_EVENTS_KEEP_GENS + 2 of them). It seals the
 * current generation once it holds CORRAL_EVENTS_GEN_SIZE event znodes (fenced: the next
 * generation is created in the same multi), and trims old generations a slice per tick:
 * a generation's children are listed once and deleted 2,000 a tick in fenced multis sent
 * together, then the folder.
 * Writers never wait for any of it: a writer whose generation was sealed learns the new one
 * from its failed check and sends its multi again (io/zk_txn.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "corral/event.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "leader"

/* Event znodes deleted per trim multi, and per tick. */
#define TRIM_PER_MULTI 1000u
#define TRIM_PER_TICK  2000u

void leader_events_reset(struct leader *l)
{
    l->events_last_ms = -1;
    l->events_cur_gen = 0;
    l->events_full_ms = 0;
    l->outputs_last_ms = -1;
    corral_strlist_cleanup(&l->trim_names);
    l->trim_gen = 0;
    l->trim_done = 0;
}

void leader_events_init(struct leader *l)
{
    leader_events_reset(l);
    l->events_gen_size = CORRAL_EVENTS_GEN_SIZE;
    l->events_keep_ms = CORRAL_EVENTS_KEEP_MS;
#ifdef CORRAL_TEST_HOOKS
    /* Test builds: seal and trim generations within seconds, with a few events. */
    const char *v = getenv("CORRAL_TEST_EVENTS_GEN_SIZE");
    if (v && atoi(v) > 0)
        l->events_gen_size = atoi(v);
    v = getenv("CORRAL_TEST_EVENTS_KEEP_MS");
    if (v && atoll(v) > 0)
        l->events_keep_ms = atoll(v);
#endif
}

/*
 * Delete generation gen, a bounded slice per call: its children as listed once (kept across
 * calls), TRIM_PER_TICK of them in fenced multis sent together, the folder with the last ones.
 * A slice costs the leader's loop one pipelined round trip; a whole generation of 10,000 takes
 * five ticks.
 */
static int trim_gen(struct replica *r, int64_t gen, struct corral_error *err)
{
    struct leader *l = r->leader;
    char dir[CORRAL_PATH_MAX];
    int rc = corral_path_events_gen(dir, sizeof dir, r->opts.ns, gen);
    if (rc != CORRAL_OK)
        return rc;
    if (l->trim_gen != gen) {
        corral_strlist_cleanup(&l->trim_names);
        l->trim_gen = 0;
        l->trim_done = 0;
        rc = zk_children(r->zk, dir, false, &l->trim_names, err);
        if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            return CORRAL_OK; /* trimmed already */
        }
        if (rc != CORRAL_OK)
            return rc;
        l->trim_gen = gen;
    }
    const struct corral_strlist *names = &l->trim_names;
    size_t left = names->n - l->trim_done;
    size_t slice = left < TRIM_PER_TICK ? left : TRIM_PER_TICK;
    bool last = slice == left;
    size_t n_multi = slice / TRIM_PER_MULTI + (slice % TRIM_PER_MULTI || slice == 0 ? 1 : 0);
    struct corral_txn *ts = corral_xcalloc(n_multi, sizeof *ts);
    const struct corral_txn **ptrs = corral_xcalloc(n_multi, sizeof *ptrs);
    int *rcs = corral_xcalloc(n_multi, sizeof *rcs);
    int *failed = corral_xcalloc(n_multi, sizeof *failed);
    struct corral_error *errs = corral_xcalloc(n_multi, sizeof *errs);
    /* All multis but the one with the folder are sent together; that one after them. */
    for (size_t k = 0; k < n_multi; k++) {
        size_t first = l->trim_done + k * TRIM_PER_MULTI;
        size_t end = l->trim_done + slice;
        size_t cnt = end - first < TRIM_PER_MULTI ? end - first : TRIM_PER_MULTI;
        corral_txn_init(&ts[k], "leader.events_trim");
        rc = corral_ops_events_trim(&ts[k], r->opts.ns, r->el.node, gen,
                                    (const char *const *)names->items + first, cnt,
                                    last && k == n_multi - 1);
        ptrs[k] = &ts[k];
        if (rc != CORRAL_OK)
            break;
    }
    size_t together = last ? n_multi - 1 : n_multi;
    if (rc == CORRAL_OK && together > 0) {
        zk_txn_commit_many(r->zk, ptrs, together, rcs, failed, errs);
        for (size_t k = 0; rc == CORRAL_OK && k < together; k++)
            if (rcs[k] != CORRAL_OK) {
                rc = rcs[k];
                *err = errs[k];
            }
    }
    if (rc == CORRAL_OK && last)
        rc = zk_txn_commit(r->zk, ptrs[n_multi - 1], NULL, err);
    if (rc == CORRAL_OK) {
        l->trim_done += slice;
        if (last) {
            CORRAL_LOG(CORRAL_LOG_INFO, "events feed: trimmed generation %" PRId64 " events=%zu",
                       gen, names->n);
            corral_strlist_cleanup(&l->trim_names);
            l->trim_gen = 0;
            l->trim_done = 0;
        }
    } else if (rc == CORRAL_ENOTFOUND || rc == CORRAL_ECONFLICT) {
        /* Another leader's trim got there (or a late child): list again next time. */
        corral_error_clear(err);
        corral_strlist_cleanup(&l->trim_names);
        l->trim_gen = 0;
        l->trim_done = 0;
        rc = CORRAL_OK;
    }
    for (size_t k = 0; k < n_multi; k++)
        corral_txn_cleanup(&ts[k]);
    free(errs);
    free(failed);
    free(rcs);
    free(ptrs);
    free(ts);
    return rc;
}

/* Seal generation cur (holding count event znodes), fenced; sealed meanwhile is fine. */
static int seal(struct replica *r, int64_t cur, int32_t count, int64_t now_wall,
                struct corral_error *err)
{
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.events_seal");
    int rc = corral_ops_events_seal(&txn, r->opts.ns, r->el.node, cur, now_wall);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
    if (rc == CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_INFO,
                   "events feed: sealed generation %" PRId64 " events=%" PRId32 " next=%" PRId64,
                   cur, count, cur + 1);
        r->leader->events_cur_gen = cur + 1;
    } else if (rc == CORRAL_EEXIST || rc == CORRAL_ECONFLICT) {
        rc = (corral_error_clear(err), CORRAL_OK); /* sealed meanwhile: the next look sees it */
        r->leader->events_cur_gen = 0;
    }
    return rc;
}

/* Between full looks: one stat of the current generation, sealed when full. */
static int quick_look(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    char path[CORRAL_PATH_MAX];
    int32_t version = -1, count = 0;
    int rc = corral_path_events_gen(path, sizeof path, r->opts.ns, l->events_cur_gen);
    if (rc == CORRAL_OK)
        rc = zk_stat_node(r->zk, path, &version, &count, err);
    if (rc == CORRAL_ENOTFOUND || (rc == CORRAL_OK && version != 0)) {
        corral_error_clear(err); /* gone or sealed by someone else: look at everything next */
        l->events_cur_gen = 0;
        return CORRAL_OK;
    }
    if (rc == CORRAL_OK && count >= l->events_gen_size && l->events_cur_gen < CORRAL_EVENTS_GEN_MAX)
        rc = seal(r, l->events_cur_gen, count, now_wall, err);
    return rc;
}

int leader_events_tick(struct replica *r, int64_t now_mono, int64_t now_wall,
                       struct corral_error *err)
{
    struct leader *l = r->leader;
    if (l->events_last_ms >= 0 && now_mono - l->events_last_ms < LEADER_EVENTS_PERIOD_MS)
        return CORRAL_OK;
    l->events_last_ms = now_mono;
    /* Every generation (for the trim) only every LEADER_EVENTS_FULL_MS or while a trim goes on;
     * in between, the current one alone. */
    if (l->events_cur_gen > 0 && l->trim_gen == 0 &&
        now_mono - l->events_full_ms < LEADER_EVENTS_FULL_MS)
        return quick_look(r, now_wall, err);
    l->events_full_ms = now_mono;
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_EVENTS, dir);
    struct corral_strlist names = {0};
    int rc = zk_children(r->zk, dir, false, &names, err);
    if (rc != CORRAL_OK)
        return rc == CORRAL_ENOTFOUND ? (corral_error_clear(err), CORRAL_OK) : rc;
    size_t n = 0;
    int64_t *gens = corral_xcalloc(names.n + 1, sizeof *gens);
    for (size_t i = 0; i < names.n; i++) {
        int64_t g = corral_event_gen_parse(names.items[i]);
        if (g > 0)
            gens[n++] = g; /* names sort as numbers: 16 digits each */
    }
    corral_strlist_cleanup(&names);
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.events_seal");
    if (n == 0) { /* a new namespace: the first generation */
        char path[CORRAL_PATH_MAX];
        rc = corral_path_events_gen(path, sizeof path, r->opts.ns, 1);
        if (rc == CORRAL_OK)
            rc = corral_ops_make_dir(&txn, r->el.node, path);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        if (rc == CORRAL_EEXIST)
            rc = (corral_error_clear(err), CORRAL_OK);
        corral_txn_cleanup(&txn);
        free(gens);
        return rc;
    }
    /* The stat (cversion) and data (seal) of each generation, pipelined. */
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        if (corral_path_events_gen(paths[i], CORRAL_PATH_MAX, r->opts.ns, gens[i]) != CORRAL_OK)
            paths[i][0] = '\0';
        ptrs[i] = paths[i];
    }
    int32_t *cv = corral_xcalloc(n, sizeof *cv);
    struct zk_got *got = corral_xcalloc(n, sizeof *got);
    int64_t *sealed = corral_xcalloc(n, sizeof *sealed);
    rc = zk_cversion_many(r->zk, ptrs, n, cv, err);
    if (rc == CORRAL_OK)
        zk_get_many(r->zk, ptrs, n, false, got);
    for (size_t i = 0; i < n; i++)
        sealed[i] = got[i].rc == CORRAL_OK ? corral_event_seal_decode(got[i].data, got[i].len) : -1;
    int64_t cur = gens[n - 1];
    l->events_cur_gen = rc == CORRAL_OK && sealed[n - 1] < 0 ? cur : 0;
    if (rc == CORRAL_OK && cv[n - 1] >= l->events_gen_size && sealed[n - 1] < 0 &&
        cur < CORRAL_EVENTS_GEN_MAX)
        rc = seal(r, cur, cv[n - 1], now_wall, err);
    if (rc == CORRAL_OK) {
        size_t drop = corral_event_trim_count_with(sealed, n, now_wall, l->events_keep_ms,
                                                   CORRAL_EVENTS_KEEP_GENS);
        if (drop > 0) { /* a slice per tick: bounded work; look at all again next tick */
            rc = trim_gen(r, gens[0], err);
            l->events_full_ms = now_mono - LEADER_EVENTS_FULL_MS;
        }
    }
    for (size_t i = 0; i < n; i++)
        zk_got_cleanup(&got[i]);
    corral_txn_cleanup(&txn);
    free(sealed);
    free(got);
    free(cv);
    free(ptrs);
    free(paths);
    free(gens);
    return rc;
}

int leader_events_workers_gone(struct replica *r, const struct corral_strlist *ids,
                               struct corral_error *err)
{
    if (ids->n == 0)
        return CORRAL_OK;
    struct corral_txn txn;
    corral_txn_init(&txn, "leader.workers_gone");
    int rc = CORRAL_OK;
    for (size_t i = 0; rc == CORRAL_OK && i < ids->n; i++)
        rc = corral_ops_worker_event(&txn, r->opts.ns, r->el.node, ids->items[i],
                                     CORRAL_EVENT_WORKER_GONE);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
    return rc;
}
