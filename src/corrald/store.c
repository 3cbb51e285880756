/* SPDX-License-Identifier: MIT */
/*
 * Task store behind the REST API (docs/znodes.md "Every state change is one multi").
 * Submits and cancels are single multis with version checks; reads never return stale
 * "not found" (sync first). Nothing here is leader-only: every replica accepts writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/assignment.h"
#include "corral/election.h"
#include "corral/id.h"
#include "corral/jsonx.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"
#include "corral/strlist.h"
#include "corral/txn.h"
#include "corral/xalloc.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "corrald/workers.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "store"

/* Bounded retries of optimistic writes that lost a version race. */
#define STORE_RACE_RETRIES 8

void store_dir_path(const struct replica *r, enum corral_dir d, char out[CORRAL_PATH_MAX])
{
    if (corral_path_dir(out, CORRAL_PATH_MAX, r->opts.ns, d) != CORRAL_OK)
        abort(); /* the namespace is validated at startup: the path always fits */
}

void store_task_path(const struct replica *r, const char *id, char out[CORRAL_PATH_MAX])
{
    if (corral_path_task(out, CORRAL_PATH_MAX, r->opts.ns, id) != CORRAL_OK)
        abort();
}

int store_list_buckets(struct replica *r, enum corral_dir d, struct corral_strlist *outs,
                       struct corral_error *err)
{
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(CORRAL_BUCKETS, CORRAL_PATH_MAX);
    const char *ptrs[CORRAL_BUCKETS];
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        if (corral_path_bucket_dir(paths[b], CORRAL_PATH_MAX, r->opts.ns, d, b) != CORRAL_OK)
            abort(); /* d is a bucketed folder of a validated namespace */
        ptrs[b] = paths[b];
    }
    int rc = zk_children_many(r->zk, ptrs, CORRAL_BUCKETS, outs, err);
    free(paths);
    return rc;
}

/* Make sure the bucketed folder d has all CORRAL_BUCKETS bucket children. */
static int ensure_buckets(struct replica *r, enum corral_dir d, struct corral_error *err)
{
    char parent[CORRAL_PATH_MAX];
    store_dir_path(r, d, parent);
    struct corral_strlist have = {0};
    int rc = zk_children(r->zk, parent, false, &have, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t n_have = 0;
    for (size_t i = 0; i < have.n; i++)
        n_have += corral_path_is_bucket_name(have.items[i]);
    corral_strlist_cleanup(&have);
    if (n_have == CORRAL_BUCKETS)
        return CORRAL_OK;
    /* First start of this namespace: one multi creates all buckets (another replica doing
     * the same makes ours fail with "exists"; then go one by one). */
    struct corral_txn txn;
    corral_txn_init(&txn, "corrald.layout");
    char path[CORRAL_PATH_MAX];
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        if (corral_path_bucket_dir(path, sizeof path, r->opts.ns, d, b) != CORRAL_OK)
            abort();
        corral_txn_create(&txn, path, NULL, 0);
    }
    rc = zk_txn_commit(r->zk, &txn, NULL, err);
    corral_txn_cleanup(&txn);
    if (rc != CORRAL_EEXIST)
        return rc;
    corral_error_clear(err);
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        if (corral_path_bucket_dir(path, sizeof path, r->opts.ns, d, b) != CORRAL_OK)
            abort();
        rc = zk_create(r->zk, path, NULL, 0, ZK_PERSISTENT, NULL, 0, err);
        if (rc == CORRAL_EEXIST) {
            corral_error_clear(err);
            continue;
        }
        if (rc != CORRAL_OK)
            return rc;
    }
    return CORRAL_OK;
}

int store_init_layout(struct replica *r, struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    for (int d = 0; d < CORRAL_DIR_COUNT; d++) {
        store_dir_path(r, (enum corral_dir)d, path);
        int rc = zk_ensure_path(r->zk, path, err);
        if (rc == CORRAL_OK && corral_dir_is_bucketed((enum corral_dir)d))
            rc = ensure_buckets(r, (enum corral_dir)d, err);
        if (rc != CORRAL_OK)
            return rc;
    }
    /* The leader record: a leader only ever sets it, so it must exist first. */
    if (corral_path_leader(path, sizeof path, r->opts.ns) != CORRAL_OK)
        abort();
    return zk_ensure_path(r->zk, path, err);
}

int store_read_task(struct replica *r, const char *path, struct corral_task *out, int32_t *version,
                    struct corral_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, path, false, &data, &len, version, err);
    if (rc != CORRAL_OK)
        return rc;
    rc = corral_task_parse(data, len, out, err);
    if (rc != CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_ERROR, "corrupt task znode path=%s: %s", path, err ? err->msg : "");
    free(data);
    return rc;
}

int store_get_task(struct replica *r, const char *id, struct corral_task *out, int32_t *version,
                   struct corral_error *err)
{
    if (!corral_id_is_valid(id))
        return corral_error_set(err, CORRAL_ENOTFOUND, "id", "no task '%.64s'", id);
    char path[CORRAL_PATH_MAX];
    store_task_path(r, id, path);
    int rc = store_read_task(r, path, out, version, err);
    if (rc != CORRAL_ENOTFOUND)
        return rc;
    /* Another replica may have acknowledged it a moment ago and our server may lag: sync
     * before saying it does not exist. */
    corral_error_clear(err);
    rc = zk_sync(r->zk, path, err);
    if (rc != CORRAL_OK)
        return rc;
    rc = store_read_task(r, path, out, version, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return corral_error_set(err, CORRAL_ENOTFOUND, "id", "no task '%s'", id);
    }
    return rc;
}

/* ------------------------------------------------------------------ submit */

static void new_id(char out[CORRAL_ID_LEN + 1])
{
    corral_id_make(out, (uint64_t)clock_wall_ms(), rand_u32());
}

/* The task already bound to key, compared with spec: 0 (same spec, out filled),
 * CORRAL_EIDEMPOTENCY, or a read error. */
static int find_by_key(struct replica *r, const char *key, const struct corral_spec *spec,
                       struct corral_task *out, struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    if (corral_path_idem(path, sizeof path, r->opts.ns, key) != CORRAL_OK)
        abort();
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        rc = zk_sync(r->zk, path, err);
        if (rc == CORRAL_OK)
            rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
    }
    if (rc != CORRAL_OK)
        return rc;
    char id[CORRAL_ID_LEN + 1];
    rc = corral_idem_decode(data, len, id, err);
    free(data);
    if (rc != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_ERROR, "corrupt idempotency record path=%s: %s", path, err->msg);
        return rc;
    }
    rc = store_get_task(r, id, out, NULL, err);
    if (rc != CORRAL_OK)
        return rc;
    if (!corral_spec_equal(&out->spec, spec)) {
        corral_task_cleanup(out);
        return corral_error_set(err, CORRAL_EIDEMPOTENCY, "idempotency_key",
                                "idempotency key already used by task with a different spec");
    }
    return CORRAL_OK;
}

/* After an unknown outcome: sync and look. 0 if the task is stored (out filled). */
static int resolve_unknown(struct replica *r, const char *id, struct corral_task *out,
                           struct corral_error *err)
{
    struct corral_error e2 = {0};
    char path[CORRAL_PATH_MAX];
    store_task_path(r, id, path);
    /* Up to ~20 s for the session to come back; a replica shutting down stops at once (the
     * client is told the outcome is unknown). */
    for (int i = 0; i < 20 && !(r->stop && *r->stop); i++) {
        if (zk_wait_connected(r->zk, 1000, NULL) != CORRAL_OK)
            continue;
        corral_error_clear(&e2);
        if (zk_sync(r->zk, path, &e2) != CORRAL_OK)
            continue;
        corral_task_cleanup(out);
        int rc = store_read_task(r, path, out, NULL, &e2);
        if (rc == CORRAL_OK)
            return CORRAL_OK;
        if (rc == CORRAL_ENOTFOUND)
            break;
    }
    corral_error_clear(err);
    return corral_error_set(err, CORRAL_EUNKNOWN, NULL,
                            "the write may or may not have been stored; retry with the same "
                            "idempotency_key");
}

int store_submit(struct replica *r, struct corral_spec *spec, struct corral_task *out,
                 bool *created, struct corral_error *err)
{
    struct corral_spec mine = *spec;
    memset(spec, 0, sizeof *spec);
    *created = false;
    int rc = CORRAL_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        char id[CORRAL_ID_LEN + 1];
        new_id(id);
        struct corral_spec copy = {0};
        corral_spec_copy(&copy, &mine);
        corral_task_cleanup(out);
        corral_task_init_new(out, id, &copy, clock_wall_ms());
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.submit");
        struct corral_op_index idx;
        int failed = -1;
        corral_error_clear(err);
        rc = corral_ops_submit(&txn, r->opts.ns, out, &idx);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, &failed, err);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK) {
            *created = true;
            atomic_fetch_add(&r->n_submitted, 1);
            CORRAL_LOG(CORRAL_LOG_INFO, "submitted task=%s state=queued priority=%d", id,
                       mine.priority);
            break;
        }
        if (rc == CORRAL_EEXIST && failed == idx.idem && mine.idempotency_key) {
            corral_task_cleanup(out);
            corral_error_clear(err);
            rc = find_by_key(r, mine.idempotency_key, &mine, out, err);
            break;
        }
        if (rc == CORRAL_EEXIST && failed == idx.task)
            continue; /* id collision: draw another */
        if (rc == CORRAL_ENOTFOUND) {
            /* A bucket is missing: the namespace was removed under us. Nothing was stored. */
            corral_error_clear(err);
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                  "namespace %s is not initialised; retry", r->opts.ns);
            break;
        }
        if (rc == CORRAL_EUNKNOWN) {
            rc = resolve_unknown(r, id, out, err);
            *created = rc == CORRAL_OK;
            if (rc == CORRAL_OK)
                corral_error_clear(err);
            break;
        }
        break;
    }
    if (rc != CORRAL_OK)
        corral_task_cleanup(out);
    corral_spec_cleanup(&mine);
    return rc;
}

int store_submit_batch(struct replica *r, struct corral_spec *specs, size_t n,
                       struct corral_task *out, struct corral_error *err)
{
    struct corral_txn txn;
    corral_txn_init(&txn, "corrald.batch");
    int64_t now = clock_wall_ms();
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n; i++) {
        char id[CORRAL_ID_LEN + 1];
        new_id(id);
        corral_task_init_new(&out[i], id, &specs[i], now);
        if (rc == CORRAL_OK)
            rc = corral_ops_submit(&txn, r->opts.ns, &out[i], NULL);
    }
    /* ZooKeeper refuses requests over jute.maxbuffer (1 MiB by default). */
    size_t bytes = corral_txn_wire_bytes(&txn);
    if (rc != CORRAL_OK)
        rc = corral_error_set(err, CORRAL_EINTERNAL, "tasks", "cannot build the batch's paths");
    else if (bytes > CORRAL_TXN_WIRE_MAX)
        rc = corral_error_set(err, CORRAL_ETOOBIG, "tasks",
                              "batch too large to store atomically (%zu bytes); split it", bytes);
    else {
        int failed = -1;
        rc = persist_commit(r, &txn, NULL, &failed, err);
        if (rc == CORRAL_EEXIST) {
            corral_error_clear(err);
            rc = corral_error_set(err, CORRAL_EIDEMPOTENCY, "tasks",
                                  "an idempotency key (or id) of this batch is already in use; "
                                  "nothing was stored");
        } else if (rc == CORRAL_EUNKNOWN && n > 0) {
            /* The batch is atomic: the first task tells whether all of it was stored. */
            struct corral_task probe = {0};
            rc = resolve_unknown(r, out[0].id, &probe, err);
            corral_task_cleanup(&probe);
            if (rc == CORRAL_OK)
                corral_error_clear(err);
        }
    }
    corral_txn_cleanup(&txn);
    if (rc == CORRAL_OK) {
        atomic_fetch_add(&r->n_submitted, n);
        CORRAL_LOG(CORRAL_LOG_INFO, "submitted batch tasks=%zu first=%s", n, n ? out[0].id : "-");
    }
    return rc;
}

/* ------------------------------------------------------------------ cancel */

/* Read the assignment of an assigned or running task, to flag it with "cancel". */
static int read_assignment(struct replica *r, const char *worker, const char *id,
                           struct corral_assignment *out, int32_t *version,
                           struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    if (corral_path_assign(path, sizeof path, r->opts.ns, worker, id) != CORRAL_OK)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "assignment path too long");
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, path, false, &data, &len, version, err);
    if (rc != CORRAL_OK)
        return rc;
    rc = corral_assignment_decode(data, len, out, err);
    free(data);
    if (rc != CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_ERROR, "corrupt assignment znode path=%s: %s", path, err->msg);
    return rc;
}

int store_cancel(struct replica *r, const char *id, struct corral_task *out,
                 struct corral_error *err)
{
    for (int attempt = 0; attempt < STORE_RACE_RETRIES && !(r->stop && *r->stop); attempt++) {
        int32_t version = -1;
        corral_task_cleanup(out);
        corral_error_clear(err);
        int rc = store_get_task(r, id, out, &version, err);
        if (rc != CORRAL_OK)
            return rc;
        if (corral_state_is_final(out->state)) {
            enum corral_state st = out->state;
            corral_task_cleanup(out); /* on failure out holds nothing */
            return corral_error_set(err, CORRAL_ECONFLICT, "state", "task %s is already %s", id,
                                    corral_state_name(st));
        }
        if (out->state == CORRAL_STATE_CANCELLING)
            return CORRAL_OK;
        enum corral_state before = out->state;
        struct corral_assignment a;
        int32_t a_version = -1;
        bool flag = before != CORRAL_STATE_QUEUED && out->worker;
        if (flag) {
            rc = read_assignment(r, out->worker, id, &a, &a_version, err);
            if (rc == CORRAL_EINVAL) {
                /* A corrupt assignment: its worker cannot read it either, and the leader
                 * requeues what nobody runs; cancel the task itself. */
                corral_error_clear(err);
                rc = CORRAL_OK;
                flag = false;
            }
            if (rc == CORRAL_ENOTFOUND)
                continue; /* the task moved on: decide again */
            if (rc != CORRAL_OK)
                return rc;
        }
        struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms()};
        rc = corral_task_transition(out, CORRAL_EV_CANCEL, &ctx, err);
        if (rc != CORRAL_OK)
            return rc;
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.cancel");
        rc = corral_ops_cancel(&txn, r->opts.ns, out, version, before, flag ? &a : NULL, a_version);
        int failed = -1;
        struct persist_change chg = {.task = id, .from = before, .to = out->state};
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, &chg, &failed, err);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK)
            return CORRAL_OK;
        if (rc == CORRAL_ECONFLICT || rc == CORRAL_ENOTFOUND)
            continue; /* the task moved on (assigned, finished): decide again */
        if (rc == CORRAL_EUNKNOWN) {
            /* Cancelling twice is harmless: re-read and go round again. */
            if (zk_wait_connected(r->zk, 2000, NULL) != CORRAL_OK)
                CORRAL_LOG(CORRAL_LOG_WARN, "cancel task=%s: still disconnected", id);
            continue;
        }
        return rc;
    }
    corral_task_cleanup(out);
    corral_error_clear(err);
    return corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                            "task %s kept changing while cancelling; try again", id);
}

/* ------------------------------------------------------------------ list */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_list(struct replica *r, int state, size_t limit, const char *after, json_t **tasks,
               char next[CORRAL_ID_LEN + 1], struct corral_error *err)
{
    /* Gather ids from every bucket, then read in id order. (A time-bucketed index would avoid
     * the full scan at very large backlogs; see docs/znodes.md.) */
    size_t n = 0, cap = 0;
    char **ids = NULL;
    int rc = CORRAL_OK;
    struct corral_strlist *buckets = corral_xcalloc(CORRAL_BUCKETS, sizeof *buckets);
    rc = store_list_buckets(r, CORRAL_DIR_TASKS, buckets, err);
    for (unsigned b = 0; b < CORRAL_BUCKETS && rc == CORRAL_OK; b++) {
        struct corral_strlist *kids = &buckets[b];
        for (size_t i = 0; i < kids->n; i++) {
            if (after && *after && strcmp(kids->items[i], after) <= 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                ids = corral_xrealloc(ids, cap * sizeof *ids);
            }
            ids[n++] = kids->items[i];
            kids->items[i] = NULL;
        }
    }
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++)
        corral_strlist_cleanup(&buckets[b]);
    free(buckets);
    next[0] = '\0';
    json_t *arr = json_array();
    if (rc == CORRAL_OK) {
        qsort(ids, n, sizeof *ids, cmp_str);
        for (size_t i = 0; i < n; i++) {
            if (json_array_size(arr) == limit) {
                /* More may follow: continue after the last one returned. */
                snprintf(next, CORRAL_ID_LEN + 1, "%s", ids[i - 1]);
                break;
            }
            struct corral_task t = {0};
            char path[CORRAL_PATH_MAX];
            store_task_path(r, ids[i], path);
            int trc = store_read_task(r, path, &t, NULL, err);
            if (trc == CORRAL_ENOTFOUND || trc == CORRAL_EINVAL) {
                corral_error_clear(err); /* deleted meanwhile (retention) or corrupt */
                continue;
            }
            if (trc != CORRAL_OK) {
                rc = trc;
                break;
            }
            if (state < 0 || (int)t.state == state)
                json_array_append_new(arr, corral_task_to_json(&t));
            corral_task_cleanup(&t);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (rc != CORRAL_OK) {
        json_decref(arr);
        return rc;
    }
    *tasks = arr;
    return CORRAL_OK;
}

/* ------------------------------------------------------------------ workers, leader */

json_t *store_workers(struct replica *r, struct corral_error *err)
{
    struct worker_set ws = {0};
    if (workers_load(r, &ws, false, true, err) != CORRAL_OK)
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < ws.n; i++)
        json_array_append_new(arr, workers_to_json(&ws.items[i]));
    workers_cleanup(&ws);
    json_t *body = json_object();
    json_object_set_new(body, "workers", arr);
    return body;
}

int store_leader(struct replica *r, json_t **out, struct corral_error *err)
{
    /* The replica that holds the epoch: the record <ns>/leader, if it carries the epoch of
     * the lowest election node and its beat is fresh. A leader killed -9 keeps its election
     * node until its session expires, but its beat stops at once: no answer names it for
     * longer than CORRAL_LEADER_STALE_MS (docs/znodes.md "leader"). */
    char dir[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ELECTION, dir);
    if (corral_path_leader(path, sizeof path, r->opts.ns) != CORRAL_OK)
        abort();
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc != CORRAL_OK)
        return rc;
    uint64_t epoch = 0;
    (void)corral_election_lowest(kids.items, kids.n, &epoch);
    corral_strlist_cleanup(&kids);
    char *data = NULL;
    size_t len = 0;
    rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return corral_error_set(err, CORRAL_ENOLEADER, NULL, "no leader at the moment");
    }
    if (rc != CORRAL_OK)
        return rc;
    struct corral_replica_info rec;
    struct corral_error derr = {0};
    bool current = len > 0 && corral_replica_info_decode(data, len, &rec, &derr) == CORRAL_OK &&
                   corral_leader_is_current(&rec, epoch, clock_wall_ms());
    if (len > 0 && derr.code != CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_WARN, "ignoring malformed leader record: %s", derr.msg);
    free(data);
    if (!current)
        return corral_error_set(err, CORRAL_ENOLEADER, NULL,
                                epoch ? "leader changing; try again" : "no leader at the moment");
    json_t *body = json_object();
    json_object_set_new(body, "id", corral_json_str(rec.id));
    json_object_set_new(body, "url", corral_json_str(rec.url));
    json_object_set_new(body, "epoch", json_integer((json_int_t)rec.epoch));
    *out = body;
    return CORRAL_OK;
}
