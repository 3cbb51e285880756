/* SPDX-License-Identifier: MIT */
/*
 * Task store behind the REST API (docs/znodes.md "Every state change is one multi").
 * Submits and cancels are single multis with version checks; reads never return stale
 * "not found" (sync first). Nothing here is leader-only: every replica accepts writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/id.h"
#include "corral/opts.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/election.h"
#include "corrald/store.h"
#include "corrald/workers.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "store"

/* Bounded retries of optimistic writes that lost a version race. */
#define STORE_RACE_RETRIES 8

void store_ns_path(const struct replica *r, const char *rel, char out[CORRAL_PATH_MAX])
{
    if (corral_path_join(out, CORRAL_PATH_MAX, r->opts.ns, rel) != CORRAL_OK)
        abort();
}

void store_task_path(const struct replica *r, const char *id, char out[CORRAL_PATH_MAX])
{
    if (corral_path_task(out, CORRAL_PATH_MAX, r->opts.ns, id) != CORRAL_OK)
        abort();
}

void store_queue_path(const struct replica *r, const char *id, char out[CORRAL_PATH_MAX])
{
    if (corral_path_queue_entry(out, CORRAL_PATH_MAX, r->opts.ns, id) != CORRAL_OK)
        abort();
}

bool store_child(char out[CORRAL_PATH_MAX], const char *dir, const char *name)
{
    int n = snprintf(out, CORRAL_PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= (int)CORRAL_PATH_MAX) {
        out[0] = '\0';
        return false;
    }
    return true;
}

int store_list_buckets(struct replica *r, const char *kind, struct corral_strlist *outs,
                       struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_ns_path(r, kind, dir);
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(CORRAL_BUCKETS, CORRAL_PATH_MAX);
    const char *ptrs[CORRAL_BUCKETS];
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        char name[8];
        snprintf(name, sizeof name, "%02x", b);
        (void)store_child(paths[b], dir, name);
        ptrs[b] = paths[b];
    }
    int rc = zk_children_many(r->zk, ptrs, CORRAL_BUCKETS, outs, err);
    free(paths);
    return rc;
}

static bool is_bucket_dir(const char *name)
{
    return strlen(name) == 2 && strchr("0123456789abcdef", name[0]) &&
           strchr("0123456789abcdef", name[1]);
}

/* Make sure parent has all CORRAL_BUCKETS bucket children. */
static int ensure_buckets(struct replica *r, const char *parent, struct corral_error *err)
{
    struct corral_strlist have = {0};
    int rc = zk_children(r->zk, parent, false, &have, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t n_have = 0;
    for (size_t i = 0; i < have.n; i++)
        n_have += is_bucket_dir(have.items[i]);
    corral_strlist_cleanup(&have);
    if (n_have == CORRAL_BUCKETS)
        return CORRAL_OK;
    /* First start of this namespace: one multi creates all buckets (another replica doing
     * the same makes ours fail with "exists"; then go one by one). */
    struct zk_multi *m = zk_multi_new();
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        char path[CORRAL_PATH_MAX], name[8];
        snprintf(name, sizeof name, "%02x", b);
        (void)store_child(path, parent, name);
        zk_multi_create(m, path, NULL, 0, ZK_PERSISTENT);
    }
    rc = zk_multi_commit(r->zk, m, NULL, err);
    zk_multi_free(m);
    if (rc != CORRAL_EEXIST)
        return rc;
    corral_error_clear(err);
    for (unsigned b = 0; b < CORRAL_BUCKETS; b++) {
        char path[CORRAL_PATH_MAX], name[8];
        snprintf(name, sizeof name, "%02x", b);
        (void)store_child(path, parent, name);
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
    static const char *const dirs[] = {"election", "workers", "tasks", "queue", "assign", "idem"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[CORRAL_PATH_MAX];
        store_ns_path(r, dirs[i], path);
        int rc = zk_ensure_path(r->zk, path, err);
        if (rc != CORRAL_OK)
            return rc;
    }
    static const char *const bucketed[] = {"tasks", "queue", "idem"};
    for (size_t i = 0; i < sizeof bucketed / sizeof bucketed[0]; i++) {
        char path[CORRAL_PATH_MAX];
        store_ns_path(r, bucketed[i], path);
        int rc = ensure_buckets(r, path, err);
        if (rc != CORRAL_OK)
            return rc;
    }
    return CORRAL_OK;
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

static void queue_signal_path(const struct replica *r, char out[CORRAL_PATH_MAX])
{
    store_ns_path(r, "queue", out);
}

static void add_submit_ops(struct replica *r, struct zk_multi *m, const struct corral_task *t)
{
    char path[CORRAL_PATH_MAX];
    char *json = corral_task_render(t);
    store_task_path(r, t->id, path);
    zk_multi_create(m, path, json, strlen(json), ZK_PERSISTENT);
    free(json);
    store_queue_path(r, t->id, path);
    zk_multi_create(m, path, "", 0, ZK_PERSISTENT);
    if (t->spec.idempotency_key) {
        if (corral_path_idem(path, sizeof path, r->opts.ns, t->spec.idempotency_key) != CORRAL_OK)
            abort(); /* keys are at most 128 bytes: the path always fits */
        zk_multi_create(m, path, t->id, strlen(t->id), ZK_PERSISTENT);
    }
}

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
    char *id = NULL;
    int rc = zk_get(r->zk, path, false, &id, NULL, NULL, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        rc = zk_sync(r->zk, path, err);
        if (rc == CORRAL_OK)
            rc = zk_get(r->zk, path, false, &id, NULL, NULL, err);
    }
    if (rc != CORRAL_OK)
        return rc;
    rc = store_get_task(r, id, out, NULL, err);
    free(id);
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
    for (int i = 0; i < 20; i++) {
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
        struct zk_multi *m = zk_multi_new();
        zk_multi_label(m, "corrald.submit");
        add_submit_ops(r, m, out);
        char sig[CORRAL_PATH_MAX];
        queue_signal_path(r, sig);
        zk_multi_set(m, sig, "", 0, -1);
        int failed = -1;
        corral_error_clear(err);
        rc = zk_multi_commit(r->zk, m, &failed, err);
        zk_multi_free(m);
        if (rc == CORRAL_OK) {
            *created = true;
            atomic_fetch_add(&r->n_submitted, 1);
            CORRAL_LOG(CORRAL_LOG_INFO, "submitted task=%s state=queued priority=%d", id,
                       mine.priority);
            break;
        }
        if (rc == CORRAL_EEXIST && failed == 2 && mine.idempotency_key) {
            corral_task_cleanup(out);
            corral_error_clear(err);
            rc = find_by_key(r, mine.idempotency_key, &mine, out, err);
            break;
        }
        if (rc == CORRAL_EEXIST && failed == 0)
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
    struct zk_multi *m = zk_multi_new();
    zk_multi_label(m, "corrald.batch");
    int64_t now = clock_wall_ms();
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        char id[CORRAL_ID_LEN + 1];
        new_id(id);
        corral_task_init_new(&out[i], id, &specs[i], now);
        char *json = corral_task_render(&out[i]);
        bytes += strlen(json) + 3 * CORRAL_PATH_MAX / 4;
        free(json);
        add_submit_ops(r, m, &out[i]);
    }
    char sig[CORRAL_PATH_MAX];
    queue_signal_path(r, sig);
    zk_multi_set(m, sig, "", 0, -1);
    int rc;
    /* ZooKeeper refuses requests over jute.maxbuffer (1 MiB by default). */
    if (bytes > 1000u * 1000u)
        rc = corral_error_set(err, CORRAL_ETOOBIG, "tasks",
                              "batch too large to store atomically (%zu bytes); split it", bytes);
    else {
        int failed = -1;
        rc = zk_multi_commit(r->zk, m, &failed, err);
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
    zk_multi_free(m);
    if (rc == CORRAL_OK) {
        atomic_fetch_add(&r->n_submitted, n);
        CORRAL_LOG(CORRAL_LOG_INFO, "submitted batch tasks=%zu first=%s", n, n ? out[0].id : "-");
    }
    return rc;
}

/* ------------------------------------------------------------------ cancel */

/* Add "cancel": true to the assignment so that its worker (which watches it) stops the task. */
static int flag_assignment(struct replica *r, const char *worker, const char *id,
                           struct zk_multi *m, struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    if (corral_path_assign(path, sizeof path, r->opts.ns, worker, id) != CORRAL_OK)
        return corral_error_set(err, CORRAL_EINTERNAL, NULL, "assignment path too long");
    char *data = NULL;
    size_t len = 0;
    int32_t version = -1;
    int rc = zk_get(r->zk, path, false, &data, &len, &version, err);
    if (rc != CORRAL_OK)
        return rc;
    json_error_t jerr;
    json_t *a = json_loadb(data, len, 0, &jerr);
    free(data);
    if (!json_is_object(a)) {
        json_decref(a);
        a = json_object();
    }
    json_object_set_new(a, "cancel", json_true());
    char *text = json_dumps(a, CORRAL_JSON_DUMP_FLAGS);
    json_decref(a);
    if (!text)
        abort();
    zk_multi_set(m, path, text, strlen(text), version);
    free(text);
    return CORRAL_OK;
}

int store_cancel(struct replica *r, const char *id, struct corral_task *out,
                 struct corral_error *err)
{
    for (int attempt = 0; attempt < STORE_RACE_RETRIES; attempt++) {
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
        char *worker = out->worker ? strdup(out->worker) : NULL;
        struct corral_transition_ctx ctx = {.now_ms = clock_wall_ms()};
        rc = corral_task_transition(out, CORRAL_EV_CANCEL, &ctx, err);
        if (rc != CORRAL_OK) {
            free(worker);
            return rc;
        }
        struct zk_multi *m = zk_multi_new();
        zk_multi_label(m, "corrald.cancel");
        char path[CORRAL_PATH_MAX];
        char *json = corral_task_render(out);
        store_task_path(r, id, path);
        zk_multi_set(m, path, json, strlen(json), version);
        free(json);
        if (before == CORRAL_STATE_QUEUED) {
            store_queue_path(r, id, path);
            zk_multi_delete(m, path, -1);
        } else if (worker) {
            rc = flag_assignment(r, worker, id, m, err);
        }
        free(worker);
        int failed = -1;
        if (rc == CORRAL_OK)
            rc = zk_multi_commit(r->zk, m, &failed, err);
        zk_multi_free(m);
        if (rc == CORRAL_OK) {
            CORRAL_LOG(CORRAL_LOG_INFO, "cancel task=%s state=%s->%s", id,
                       corral_state_name(before), corral_state_name(out->state));
            return CORRAL_OK;
        }
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
    rc = store_list_buckets(r, "tasks", buckets, err);
    for (unsigned b = 0; b < CORRAL_BUCKETS && rc == CORRAL_OK; b++) {
        struct corral_strlist *kids = &buckets[b];
        for (size_t i = 0; i < kids->n; i++) {
            if (after && *after && strcmp(kids->items[i], after) <= 0)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                ids = realloc(ids, cap * sizeof *ids);
                if (!ids)
                    abort();
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
    char dir[CORRAL_PATH_MAX];
    store_ns_path(r, "election", dir);
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc != CORRAL_OK)
        return rc;
    const char *lowest = NULL;
    uint64_t lowest_seq = 0;
    for (size_t i = 0; i < kids.n; i++) {
        uint64_t seq;
        if (!election_parse_seq(kids.items[i], &seq))
            continue;
        if (!lowest || seq < lowest_seq) {
            lowest = kids.items[i];
            lowest_seq = seq;
        }
    }
    if (!lowest) {
        corral_strlist_cleanup(&kids);
        return corral_error_set(err, CORRAL_ENOLEADER, NULL, "no leader at the moment");
    }
    char path[CORRAL_PATH_MAX];
    (void)store_child(path, dir, lowest);
    corral_strlist_cleanup(&kids);
    char *data = NULL;
    size_t len = 0;
    rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return corral_error_set(err, CORRAL_ENOLEADER, NULL, "leader changing; try again");
    }
    if (rc != CORRAL_OK)
        return rc;
    json_error_t jerr;
    json_t *info = json_loadb(data, len, 0, &jerr);
    free(data);
    json_t *body = json_object();
    json_t *v = json_object_get(info, "id");
    json_object_set_new(body, "id", v ? json_incref(v) : json_null());
    v = json_object_get(info, "url");
    json_object_set_new(body, "url", v ? json_incref(v) : json_null());
    json_object_set_new(body, "epoch", json_integer((json_int_t)(lowest_seq + 1)));
    json_decref(info);
    *out = body;
    return CORRAL_OK;
}
