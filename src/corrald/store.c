/* SPDX-License-Identifier: MIT */
/*
 * Task store behind the REST API (docs/znodes.md "Every state change is one multi").
 * Submits and cancels are single multis with version checks; reads never return stale
 * "not found" (sync first). Nothing here is leader-only: every replica accepts writes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/assignment.h"
#include "corral/done_entry.h"
#include "corral/election.h"
#include "corral/id.h"
#include "corral/jsonx.h"
#include "corral/ops.h"
#include "corral/output.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"
#include "corral/strlist.h"
#include "corral/txn.h"
#include "corral/xalloc.h"
#include "corrald/election.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "corrald/workers.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"
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

struct zk_got *store_get_tasks(struct replica *r, const char *const *ids, size_t n, bool watch)
{
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n ? n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n ? n : 1, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(n ? n : 1, sizeof *got);
    for (size_t i = 0; i < n; i++) {
        store_task_path(r, ids[i], paths[i]);
        ptrs[i] = paths[i];
    }
    zk_get_many(r->zk, ptrs, n, watch, got);
    free(ptrs);
    free(paths);
    return got;
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

/* With ZooKeeper auth, a namespace that anyone may read or change (made without auth, or
 * squatted before corral came) is refused unless --insecure: CORRAL_EFORBIDDEN names the path. */
static int check_acl(struct replica *r, const char *path, struct corral_error *err)
{
    if (!zk_has_auth(r->zk) || r->opts.insecure)
        return CORRAL_OK;
    int perms = 0;
    int rc = zk_world_perms(r->zk, path, &perms, err);
    if (rc != CORRAL_OK || perms == 0)
        return rc;
    return corral_error_set(err, CORRAL_EFORBIDDEN, "--namespace",
                            "%s is open to everyone (its ACL gives world:anyone %s%s%s%s%s): it "
                            "was made without ZooKeeper auth or by someone else; give corral a "
                            "new namespace, fix its ACLs, or start with --insecure",
                            path, (perms & ZK_PERM_READ) ? "r" : "",
                            (perms & ZK_PERM_WRITE) ? "w" : "", (perms & ZK_PERM_CREATE) ? "c" : "",
                            (perms & ZK_PERM_DELETE) ? "d" : "",
                            (perms & ZK_PERM_ADMIN) ? "a" : "");
}

int store_init_layout(struct replica *r, struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    int rc = zk_ensure_path(r->zk, r->opts.ns, err);
    if (rc == CORRAL_OK)
        rc = check_acl(r, r->opts.ns, err);
    for (int d = 0; rc == CORRAL_OK && d < CORRAL_DIR_COUNT; d++) {
        store_dir_path(r, (enum corral_dir)d, path);
        rc = zk_ensure_path(r->zk, path, err);
        if (rc == CORRAL_OK)
            rc = check_acl(r, path, err);
        if (rc == CORRAL_OK && corral_dir_is_bucketed((enum corral_dir)d))
            rc = ensure_buckets(r, (enum corral_dir)d, err);
    }
    if (rc != CORRAL_OK)
        return rc;
    /* The leader record: a leader only ever sets it, so it must exist first. */
    if (corral_path_leader(path, sizeof path, r->opts.ns) != CORRAL_OK)
        abort();
    rc = zk_ensure_path(r->zk, path, err);
    if (rc == CORRAL_OK)
        rc = check_acl(r, path, err);
    return rc == CORRAL_OK ? store_fix_acls(r, err) : rc;
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
        CORRAL_LOG_ONCE(CORRAL_LOG_ERROR, "task-corrupt", path, "corrupt task znode path=%s: %s",
                        path, err ? err->msg : "");
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

/*
 * The task already bound to key, compared with spec: 0 (same spec, out filled),
 * CORRAL_EIDEMPOTENCY (another spec), CORRAL_ENOTFOUND (no record: the key is free), or a read
 * error. The one resolver of an existing key, for single submits and batches. Without synced
 * a missing record is looked for again after a sync (another replica may have stored it a
 * moment ago); a caller that synced already passes true.
 */
static int find_by_key(struct replica *r, const char *key, const struct corral_spec *spec,
                       bool synced, struct corral_task *out, struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    if (corral_path_idem(path, sizeof path, r->opts.ns, key) != CORRAL_OK)
        abort();
    char *data = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, path, false, &data, &len, NULL, err);
    if (rc == CORRAL_ENOTFOUND && !synced) {
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
                                "idempotency key already used by task %s with a different spec",
                                id);
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

/* ------------------------------------------------------------------ dependencies */

/* Read the n tasks ids[] (after a sync: a task acknowledged by another replica a moment ago is
 * found) with their versions. A missing or unreadable one is CORRAL_ESPEC naming fields[i]. */
static int read_deps(struct replica *r, char *const *ids, const char *const *fields, size_t n,
                     struct corral_task *out, int32_t *versions, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_TASKS, dir);
    int rc = zk_sync(r->zk, dir, err);
    if (rc != CORRAL_OK)
        return rc;
    struct zk_got *got = store_get_tasks(r, (const char *const *)ids, n, false);
    for (size_t i = 0; i < n; i++) {
        if (rc == CORRAL_OK) {
            if (got[i].rc == CORRAL_ENOTFOUND) {
                rc = corral_error_set(err, CORRAL_ESPEC, fields[i], "%s: no task %s", fields[i],
                                      ids[i]);
            } else if (got[i].rc != CORRAL_OK) {
                rc = got[i].rc;
                *err = got[i].err;
            } else if (corral_task_parse(got[i].data, got[i].len, &out[i], NULL) != CORRAL_OK) {
                rc = corral_error_set(err, CORRAL_ESPEC, fields[i], "%s: task %s cannot be read",
                                      fields[i], ids[i]);
            } else {
                versions[i] = got[i].version;
            }
        }
        zk_got_cleanup(&got[i]);
    }
    free(got);
    return rc;
}

/* Add dependent to dep's dependents; CORRAL_ESPEC naming field when dep has too many. */
static int add_dependent(struct corral_task *dep, const char *dependent, const char *field,
                         struct corral_error *err)
{
    if (corral_task_add_dependent(dep, dependent))
        return CORRAL_OK;
    return corral_error_set(err, CORRAL_ESPEC, field, "%s: task %s has %u dependents already",
                            field, dep->id, CORRAL_DEPENDENTS_MAX);
}

/*
 * Submit one spec that has depends_on (taken): its dependencies must exist; each gets the new
 * task in its "dependents" (set at the version read) and, unless it succeeded already, an edge
 * the leader resolves; all in the submit's multi. The task is queued at once when every
 * dependency has succeeded, else waiting.
 */
static int submit_with_deps(struct replica *r, struct corral_spec *mine, struct corral_task *out,
                            bool *created, struct corral_error *err)
{
    size_t n = mine->n_depends_on;
    char(*fieldbuf)[48] = corral_xcalloc(n, 48);
    const char **fields = corral_xcalloc(n, sizeof *fields);
    for (size_t i = 0; i < n; i++) {
        snprintf(fieldbuf[i], 48, "depends_on[%zu]", i);
        fields[i] = fieldbuf[i];
    }
    struct corral_task *deps = corral_xcalloc(n, sizeof *deps);
    int32_t *versions = corral_xcalloc(n, sizeof *versions);
    int rc = CORRAL_OK;
    for (size_t i = 0; i < n && rc == CORRAL_OK; i++)
        if (corral_spec_batch_ref(mine->depends_on[i], NULL))
            rc = corral_error_set(err, CORRAL_ESPEC, fields[i],
                                  "%s: \"%s\" names a batch entry: only POST /v1/tasks/batch has "
                                  "entries",
                                  fields[i], mine->depends_on[i]);
    for (int attempt = 0; rc == CORRAL_OK; attempt++) {
        for (size_t i = 0; i < n; i++)
            corral_task_cleanup(&deps[i]);
        corral_task_cleanup(out);
        if (attempt == STORE_RACE_RETRIES) {
            rc = corral_error_set(err, CORRAL_EUNAVAIL, "depends_on",
                                  "the dependencies kept changing; nothing was stored, retry");
            break;
        }
        if ((rc = read_deps(r, mine->depends_on, fields, n, deps, versions, err)) != CORRAL_OK)
            break;
        char id[CORRAL_ID_LEN + 1];
        new_id(id);
        struct corral_spec copy = {0};
        corral_spec_copy(&copy, mine);
        corral_task_init_new(out, id, &copy, clock_wall_ms());
        bool all_met = true;
        for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
            rc = add_dependent(&deps[i], id, fields[i], err);
            all_met = all_met && deps[i].state == CORRAL_STATE_SUCCEEDED;
        }
        if (rc != CORRAL_OK)
            break;
        if (all_met &&
            corral_task_transition(out, CORRAL_EV_DEPS_MET,
                                   &(struct corral_transition_ctx){.now_ms = clock_wall_ms()},
                                   err) != CORRAL_OK) {
            rc = CORRAL_EINTERNAL;
            break;
        }
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.submit");
        struct corral_op_index idx;
        rc = corral_ops_submit(&txn, r->opts.ns, out, &idx);
        for (size_t i = 0; i < n && rc == CORRAL_OK; i++)
            rc = corral_ops_link_dependency(&txn, r->opts.ns, &deps[i], versions[i], deps[i].id, id,
                                            deps[i].state != CORRAL_STATE_SUCCEEDED);
        int failed = -1;
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, &failed, err);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK) {
            *created = true;
            atomic_fetch_add(&r->n_submitted, 1);
            CORRAL_LOG(CORRAL_LOG_INFO, "submitted task=%s state=%s dependencies=%zu", id,
                       corral_state_name(out->state), n);
            break;
        }
        if (rc == CORRAL_EEXIST && failed == idx.idem && mine->idempotency_key) {
            corral_task_cleanup(out);
            corral_error_clear(err);
            rc = find_by_key(r, mine->idempotency_key, mine, false, out, err);
            break;
        }
        if (rc == CORRAL_ECONFLICT || (rc == CORRAL_EEXIST && failed == idx.task)) {
            corral_error_clear(err); /* a dependency changed, or the id collided: again */
            rc = CORRAL_OK;
            continue;
        }
        if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                  "namespace %s is not initialised; retry", r->opts.ns);
        } else if (rc == CORRAL_EUNKNOWN) {
            corral_task_cleanup(out);
            rc = resolve_unknown(r, id, out, err);
            *created = rc == CORRAL_OK;
            if (rc == CORRAL_OK)
                corral_error_clear(err);
        }
        break;
    }
    if (rc != CORRAL_OK)
        corral_task_cleanup(out);
    for (size_t i = 0; i < n; i++)
        corral_task_cleanup(&deps[i]);
    free(versions);
    free(deps);
    free(fields);
    free(fieldbuf);
    return rc;
}

int store_submit(struct replica *r, struct corral_spec *spec, struct corral_task *out,
                 bool *created, struct corral_error *err)
{
    struct corral_spec mine = *spec;
    memset(spec, 0, sizeof *spec);
    *created = false;
    int rc = CORRAL_OK;
    if (mine.n_depends_on > 0) {
        rc = submit_with_deps(r, &mine, out, created, err);
        corral_spec_cleanup(&mine);
        return rc;
    }
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
        /* Grouped with concurrent submits: one multi for many POSTs, each answered with its
         * own result (a key in use fails only its own submit). */
        if (rc == CORRAL_OK)
            rc = persist_commit_grouped(r, &txn, NULL, &failed, err);
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
            rc = find_by_key(r, mine.idempotency_key, &mine, false, out, err);
            /* No record after all: the key's winner was in our group and is committed after
             * us (a group settles a culprit before sending its neighbours again), or it went
             * away. Try again: the next multi meets its record, or stores ours. */
            if (rc == CORRAL_ENOTFOUND && attempt + 1 < 4) {
                corral_error_clear(err);
                continue;
            }
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

/* Entries of a batch that repeat an earlier entry's idempotency key: dup_of[j] = i (i < j) when
 * entry j has the key of entry i and the same spec (j is then answered with i's task), else
 * SIZE_MAX. The same key with another spec is CORRAL_EIDEMPOTENCY naming entry j. */
static int batch_dups(const struct corral_task *t, size_t n, size_t *dup_of,
                      struct corral_error *err)
{
    for (size_t j = 0; j < n; j++) {
        dup_of[j] = SIZE_MAX;
        const char *key = t[j].spec.idempotency_key;
        for (size_t i = 0; key && i < j && dup_of[j] == SIZE_MAX; i++) {
            if (dup_of[i] != SIZE_MAX || !t[i].spec.idempotency_key ||
                strcmp(t[i].spec.idempotency_key, key) != 0)
                continue;
            if (!corral_spec_equal(&t[i].spec, &t[j].spec)) {
                char field[64];
                snprintf(field, sizeof field, "tasks[%zu].idempotency_key", j);
                return corral_error_set(err, CORRAL_EIDEMPOTENCY, field,
                                        "same idempotency key as tasks[%zu] with a different spec",
                                        i);
            }
            dup_of[j] = i;
        }
    }
    return CORRAL_OK;
}

/* After a multi of the batch failed on an existing node: look up every key not resolved yet
 * (existing[i] false) with find_by_key. A key bound to the same spec replaces out[i] by its
 * task (existing[i] = true); *found counts them. A key bound to another spec fails the batch
 * naming its entry. */
static int batch_resolve_keys(struct replica *r, struct corral_task *out, size_t n,
                              const size_t *dup_of, bool *existing, size_t *found,
                              struct corral_error *err)
{
    *found = 0;
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_IDEM, dir);
    /* One sync for all the lookups: records stored by other replicas before it are seen. */
    int rc = zk_sync(r->zk, dir, err);
    for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
        if (existing[i] || dup_of[i] != SIZE_MAX || !out[i].spec.idempotency_key)
            continue;
        struct corral_task t = {0};
        rc = find_by_key(r, out[i].spec.idempotency_key, &out[i].spec, true, &t, err);
        if (rc == CORRAL_ENOTFOUND) { /* free: stays a new task */
            corral_error_clear(err);
            rc = CORRAL_OK;
        } else if (rc == CORRAL_OK) {
            corral_task_cleanup(&out[i]);
            out[i] = t;
            existing[i] = true;
            (*found)++;
        } else if (rc == CORRAL_EIDEMPOTENCY) {
            snprintf(err->field, sizeof err->field, "tasks[%zu].idempotency_key", i);
        }
    }
    return rc;
}

/* out[j] = a copy of out[i] (a repeated key answers with the same task). */
static int copy_task(const struct corral_task *from, struct corral_task *to,
                     struct corral_error *err)
{
    char *text = corral_task_render(from);
    corral_task_cleanup(to);
    int rc = corral_task_parse(text, strlen(text), to, err);
    free(text);
    return rc;
}

/* An external dependency of a batch: read once per attempt, set once in its multi. */
struct ext_dep {
    char id[CORRAL_ID_LEN + 1];
    char field[64]; /* the first entry that names it, for errors */
    struct corral_task task;
    int32_t version;
};

/*
 * A batch in which some entry has depends_on (specs taken): "#N" names entry N (N before the
 * entry), any other id a stored task. The whole DAG is one multi: the new tasks (each waiting,
 * or queued when its dependencies all succeeded already), the external dependencies' new
 * dependents (set at their versions) and one edge per dependency not yet succeeded. Idempotency
 * keys are not supported in such a batch (400): a replay could not tell which of its entries
 * already exist without resolving the references again.
 */
static int batch_with_deps(struct replica *r, struct corral_spec *specs, size_t n,
                           struct corral_task *out, size_t *n_created, struct corral_error *err)
{
    int rc = CORRAL_OK;
    struct ext_dep *ext = NULL;
    size_t n_ext = 0;
    for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
        if (specs[i].idempotency_key) {
            rc = corral_error_set(err, CORRAL_ESPEC, "idempotency_key",
                                  "tasks[%zu].idempotency_key: not supported in a batch with "
                                  "depends_on",
                                  i);
            snprintf(err->field, sizeof err->field, "tasks[%zu].idempotency_key", i);
        }
        for (size_t k = 0; k < specs[i].n_depends_on && rc == CORRAL_OK; k++) {
            const char *d = specs[i].depends_on[k];
            size_t ref;
            char field[64];
            snprintf(field, sizeof field, "tasks[%zu].depends_on[%zu]", i, k);
            if (corral_spec_batch_ref(d, &ref)) {
                if (ref >= i) {
                    rc = corral_error_set(err, CORRAL_ESPEC, NULL,
                                          "%s: \"%s\" must name an earlier entry of the batch",
                                          field, d);
                    snprintf(err->field, sizeof err->field, "%s", field);
                }
                continue;
            }
            bool seen = false;
            for (size_t j = 0; j < n_ext && !seen; j++)
                seen = strcmp(ext[j].id, d) == 0;
            if (!seen) {
                ext = corral_xrealloc(ext, (n_ext + 1) * sizeof *ext);
                memset(&ext[n_ext], 0, sizeof *ext);
                snprintf(ext[n_ext].id, sizeof ext[n_ext].id, "%s", d);
                snprintf(ext[n_ext].field, sizeof ext[n_ext].field, "%s", field);
                n_ext++;
            }
        }
    }
    char **ext_ids = corral_xcalloc(n_ext ? n_ext : 1, sizeof *ext_ids);
    const char **ext_fields = corral_xcalloc(n_ext ? n_ext : 1, sizeof *ext_fields);
    struct corral_task *ext_tasks = corral_xcalloc(n_ext ? n_ext : 1, sizeof *ext_tasks);
    int32_t *ext_versions = corral_xcalloc(n_ext ? n_ext : 1, sizeof *ext_versions);
    for (size_t j = 0; j < n_ext; j++) {
        ext_ids[j] = ext[j].id;
        ext_fields[j] = ext[j].field;
    }
    for (int attempt = 0; rc == CORRAL_OK; attempt++) {
        for (size_t j = 0; j < n_ext; j++)
            corral_task_cleanup(&ext_tasks[j]);
        for (size_t i = 0; i < n; i++)
            corral_task_cleanup(&out[i]);
        if (attempt == STORE_RACE_RETRIES) {
            rc = corral_error_set(err, CORRAL_EUNAVAIL, "tasks",
                                  "the dependencies kept changing; nothing was stored, retry");
            break;
        }
        if (n_ext > 0 && (rc = read_deps(r, ext_ids, ext_fields, n_ext, ext_tasks, ext_versions,
                                         err)) != CORRAL_OK)
            break;
        int64_t now = clock_wall_ms();
        for (size_t i = 0; i < n; i++) {
            char id[CORRAL_ID_LEN + 1];
            new_id(id);
            struct corral_spec copy = {0};
            corral_spec_copy(&copy, &specs[i]);
            corral_task_init_new(&out[i], id, &copy, now);
        }
        /* References become ids; dependencies learn their dependents. */
        bool *edge = NULL;
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.batch");
        for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
            struct corral_spec *sp = &out[i].spec;
            bool all_met = true;
            edge = corral_xrealloc(edge, (sp->n_depends_on ? sp->n_depends_on : 1) * sizeof *edge);
            for (size_t k = 0; k < sp->n_depends_on && rc == CORRAL_OK; k++) {
                char field[64];
                snprintf(field, sizeof field, "tasks[%zu].depends_on[%zu]", i, k);
                size_t ref;
                struct corral_task *dep = NULL;
                if (corral_spec_batch_ref(sp->depends_on[k], &ref)) {
                    dep = &out[ref];
                    free(sp->depends_on[k]);
                    sp->depends_on[k] = corral_xstrdup(out[ref].id);
                } else {
                    for (size_t j = 0; j < n_ext && !dep; j++)
                        if (strcmp(ext_tasks[j].id, sp->depends_on[k]) == 0)
                            dep = &ext_tasks[j];
                }
                if (!dep) {
                    rc = corral_error_set(err, CORRAL_EINTERNAL, "tasks", "lost a dependency");
                    break;
                }
                rc = add_dependent(dep, out[i].id, field, err);
                edge[k] = dep->state != CORRAL_STATE_SUCCEEDED;
                all_met = all_met && !edge[k];
            }
            for (size_t k = 0; k < sp->n_depends_on && rc == CORRAL_OK; k++)
                rc = corral_ops_link_dependency(&txn, r->opts.ns, NULL, -1, sp->depends_on[k],
                                                out[i].id, edge[k]);
            if (rc == CORRAL_OK && sp->n_depends_on > 0 && all_met)
                rc = corral_task_transition(&out[i], CORRAL_EV_DEPS_MET,
                                            &(struct corral_transition_ctx){.now_ms = now}, err);
        }
        free(edge);
        /* The tasks last: their dependents are complete now. */
        for (size_t i = 0; i < n && rc == CORRAL_OK; i++)
            rc = corral_ops_submit(&txn, r->opts.ns, &out[i], NULL);
        for (size_t j = 0; j < n_ext && rc == CORRAL_OK; j++)
            rc = corral_ops_link_dependency(&txn, r->opts.ns, &ext_tasks[j], ext_versions[j],
                                            ext_tasks[j].id, NULL, false);
        size_t bytes = corral_txn_wire_bytes(&txn);
        if (rc == CORRAL_OK && bytes > CORRAL_TXN_WIRE_MAX)
            rc = corral_error_set(err, CORRAL_ETOOBIG, "tasks",
                                  "batch too large to store atomically (%zu bytes); split it",
                                  bytes);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_ECONFLICT || rc == CORRAL_EEXIST) {
            corral_error_clear(err); /* a dependency changed, or an id collided: again */
            rc = CORRAL_OK;
            continue;
        }
        if (rc == CORRAL_EUNKNOWN && n > 0) {
            struct corral_task probe = {0};
            rc = resolve_unknown(r, out[0].id, &probe, err);
            corral_task_cleanup(&probe);
            if (rc == CORRAL_OK)
                corral_error_clear(err);
        } else if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                  "namespace %s is not initialised; retry", r->opts.ns);
        }
        break;
    }
    if (rc == CORRAL_OK) {
        *n_created = n;
        atomic_fetch_add(&r->n_submitted, n);
        CORRAL_LOG(CORRAL_LOG_INFO, "submitted batch tasks=%zu with dependencies first=%s", n,
                   n ? out[0].id : "-");
    } else {
        for (size_t i = 0; i < n; i++)
            corral_task_cleanup(&out[i]);
    }
    for (size_t j = 0; j < n_ext; j++)
        corral_task_cleanup(&ext_tasks[j]);
    for (size_t i = 0; i < n; i++)
        corral_spec_cleanup(&specs[i]);
    free(ext_versions);
    free(ext_tasks);
    free(ext_fields);
    free(ext_ids);
    free(ext);
    return rc;
}

int store_submit_batch(struct replica *r, struct corral_spec *specs, size_t n,
                       struct corral_task *out, size_t *n_created, struct corral_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (specs[i].n_depends_on > 0)
            return batch_with_deps(r, specs, n, out, n_created, err);
    *n_created = 0;
    int64_t now = clock_wall_ms();
    for (size_t i = 0; i < n; i++) {
        char id[CORRAL_ID_LEN + 1];
        new_id(id);
        corral_task_init_new(&out[i], id, &specs[i], now);
    }
    size_t *dup_of = corral_xcalloc(n ? n : 1, sizeof *dup_of);
    bool *existing = corral_xcalloc(n ? n : 1, sizeof *existing);
    int rc = batch_dups(out, n, dup_of, err);
    size_t n_new = 0;
    /* Optimistic: the multi is tried first; only when a node exists already (a replay after
     * outcome_unknown, a key used before, or a rare id collision) are the keys looked up and
     * the multi tried again without the entries that exist. Bounded: each round resolves a
     * key, draws new ids, or ends. */
    for (int attempt = 0; rc == CORRAL_OK; attempt++) {
        struct corral_txn txn;
        corral_txn_init(&txn, "corrald.batch");
        n_new = 0;
        for (size_t i = 0; i < n && rc == CORRAL_OK; i++) {
            if (existing[i] || dup_of[i] != SIZE_MAX)
                continue;
            rc = corral_ops_submit(&txn, r->opts.ns, &out[i], NULL);
            n_new++;
        }
        /* ZooKeeper refuses requests over jute.maxbuffer (1 MiB by default). */
        size_t bytes = corral_txn_wire_bytes(&txn);
        if (rc != CORRAL_OK)
            rc = corral_error_set(err, CORRAL_EINTERNAL, "tasks", "cannot build the batch's paths");
        else if (bytes > CORRAL_TXN_WIRE_MAX)
            rc = corral_error_set(err, CORRAL_ETOOBIG, "tasks",
                                  "batch too large to store atomically (%zu bytes); split it",
                                  bytes);
        else if (n_new > 0) /* none: every entry exists already */
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        if (rc != CORRAL_EEXIST)
            break;
        corral_error_clear(err);
        if (attempt + 1 == STORE_RACE_RETRIES) {
            rc = corral_error_set(err, CORRAL_EUNAVAIL, "tasks",
                                  "the batch's keys kept changing; nothing was stored, retry");
            break;
        }
        size_t found = 0;
        rc = batch_resolve_keys(r, out, n, dup_of, existing, &found, err);
        if (rc == CORRAL_OK && found == 0) /* no key in use: a task id collided; draw again */
            for (size_t i = 0; i < n; i++)
                if (!existing[i] && dup_of[i] == SIZE_MAX)
                    new_id(out[i].id);
    }
    if (rc == CORRAL_EUNKNOWN) {
        /* The multi is atomic: its first new task tells whether all of it was stored. */
        size_t first = 0;
        while (first + 1 < n && (existing[first] || dup_of[first] != SIZE_MAX))
            first++;
        struct corral_task probe = {0};
        rc = resolve_unknown(r, out[first].id, &probe, err);
        corral_task_cleanup(&probe);
        if (rc == CORRAL_OK)
            corral_error_clear(err);
    }
    for (size_t j = 0; j < n && rc == CORRAL_OK; j++)
        if (dup_of[j] != SIZE_MAX)
            rc = copy_task(&out[dup_of[j]], &out[j], err);
    if (rc == CORRAL_OK) {
        *n_created = n_new;
        atomic_fetch_add(&r->n_submitted, n_new);
        CORRAL_LOG(CORRAL_LOG_INFO, "submitted batch tasks=%zu new=%zu first=%s", n, n_new,
                   n ? out[0].id : "-");
    }
    free(existing);
    free(dup_of);
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

int store_follow(struct replica *r, const char *worker, const char *id, int64_t now_ms,
                 struct corral_error *err)
{
    struct corral_assignment a;
    int32_t version = -1;
    int rc = read_assignment(r, worker, id, &a, &version, err);
    if (rc == CORRAL_ENOTFOUND) { /* finished or taken back meanwhile: nothing to follow */
        corral_error_clear(err);
        return CORRAL_OK;
    }
    if (rc != CORRAL_OK || a.follow_until_ms >= now_ms + CORRAL_FOLLOW_RENEW_MS)
        return rc; /* followed long enough already */
    struct corral_txn txn;
    corral_txn_init(&txn, "replica.follow");
    rc = corral_ops_follow(&txn, r->opts.ns, &a, version, worker, now_ms + CORRAL_FOLLOW_MS);
    if (rc == CORRAL_OK)
        rc = persist_commit(r, &txn, NULL, NULL, err);
    corral_txn_cleanup(&txn);
    /* Changed meanwhile (a cancel, another follower) or gone: the next poll looks again. */
    if (rc == CORRAL_ECONFLICT || rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        rc = CORRAL_OK;
    }
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
        bool flag =
            before != CORRAL_STATE_QUEUED && before != CORRAL_STATE_SCHEDULED && out->worker;
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
        char dir[CORRAL_PATH_MAX];
        bool missing = rc == CORRAL_ENOTFOUND &&
                       corral_ops_missing_dir(&txn, r->opts.ns, failed, dir, sizeof dir);
        corral_txn_cleanup(&txn);
        if (rc == CORRAL_OK)
            return CORRAL_OK;
        if (missing) {
            /* The time slot of the done index is not there (not prepared yet, or our clock
             * lags the leader's): make it and cancel again. */
            corral_error_clear(err);
            rc = zk_ensure_path(r->zk, dir, err);
            if (rc != CORRAL_OK)
                return rc;
            continue;
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

/* Bodies read per pipelined batch while filling a page. */
#define LIST_READ_BATCH 100u
/* Candidate ids kept beyond the page, for entries that turn out stale when read. */
#define LIST_SLACK 64u
/* Bucket folders listed per pipelined read (bounds what one listing holds in memory). */
#define LIST_BUCKET_BATCH 64u
/* Slot folders of the done index listed per pipelined read. */
#define LIST_SLOT_BATCH 64u
/* Index names examined per request at most: past it the page ends early with a cursor. */
#define LIST_SCAN_MAX 200000u

struct idvec {
    char **v;
    size_t n, cap;
};

static void idvec_push(struct idvec *iv, const char *id)
{
    if (iv->n == iv->cap) {
        iv->cap = iv->cap ? iv->cap * 2 : 256;
        iv->v = corral_xrealloc(iv->v, iv->cap * sizeof *iv->v);
    }
    iv->v[iv->n++] = corral_xstrdup(id);
}

static void idvec_cleanup(struct idvec *iv)
{
    for (size_t i = 0; i < iv->n; i++)
        free(iv->v[i]);
    free(iv->v);
    memset(iv, 0, sizeof *iv);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort, drop duplicates, keep the first keep; true when some were dropped for keep. */
static bool idvec_trim(struct idvec *iv, size_t keep)
{
    if (iv->n > 1)
        qsort(iv->v, iv->n, sizeof *iv->v, cmp_str);
    size_t w = 0;
    for (size_t i = 0; i < iv->n; i++) {
        if (w > 0 && strcmp(iv->v[w - 1], iv->v[i]) == 0) {
            free(iv->v[i]);
            continue;
        }
        iv->v[w++] = iv->v[i];
    }
    iv->n = w;
    bool cut = iv->n > keep;
    for (size_t i = keep; i < iv->n; i++)
        free(iv->v[i]);
    if (cut)
        iv->n = keep;
    return cut;
}

/* Read the tasks ids[0..n) pipelined: ok[i] when ts[i] (zeroed) holds the task. A task deleted
 * meanwhile (retention) or corrupt reads as not there; any other failure (no session) is
 * returned, so that a page is never made of what could not be read. */
static int read_tasks(struct replica *r, char *const *ids, size_t n, struct corral_task *ts,
                      bool *ok, struct corral_error *err)
{
    int rc = CORRAL_OK;
    struct zk_got *got = store_get_tasks(r, (const char *const *)ids, n, false);
    for (size_t i = 0; i < n; i++) {
        if (got[i].rc != CORRAL_OK && got[i].rc != CORRAL_ENOTFOUND && rc == CORRAL_OK) {
            rc = got[i].rc;
            if (err)
                *err = got[i].err;
        }
        ok[i] = got[i].rc == CORRAL_OK &&
                corral_task_parse(got[i].data, got[i].len, &ts[i], &got[i].err) == CORRAL_OK;
        if (got[i].rc == CORRAL_OK && !ok[i])
            CORRAL_LOG(CORRAL_LOG_ERROR, "corrupt task znode id=%s: %s", ids[i], got[i].err.msg);
        zk_got_cleanup(&got[i]);
    }
    free(got);
    return rc;
}

/* Fill arr from the candidates ids[0..n) (sorted, all after the cursor): read them in order,
 * keep those in state (-1: any) up to limit. more: candidates exist beyond ids[n-1]. next gets
 * the cursor to continue after the last candidate examined, "" when nothing is left. */
static int page_ids(struct replica *r, char *const *ids, size_t n, bool more, int state,
                    size_t limit, json_t *arr, char next[CORRAL_ID_LEN + 1],
                    struct corral_error *err)
{
    next[0] = '\0';
    size_t done = 0; /* candidates examined */
    int rc = CORRAL_OK;
    while (rc == CORRAL_OK && done < n && json_array_size(arr) < limit) {
        size_t k = n - done < LIST_READ_BATCH ? n - done : LIST_READ_BATCH;
        struct corral_task *ts = corral_xcalloc(k, sizeof *ts);
        bool *ok = corral_xcalloc(k, sizeof *ok);
        rc = read_tasks(r, ids + done, k, ts, ok, err);
        size_t i = 0;
        for (; rc == CORRAL_OK && i < k && json_array_size(arr) < limit; i++) {
            if (ok[i] && (state < 0 || (int)ts[i].state == state))
                json_array_append_new(arr, corral_task_to_public_json(&ts[i]));
        }
        done += i;
        for (i = 0; i < k; i++)
            corral_task_cleanup(&ts[i]);
        free(ts);
        free(ok);
    }
    if (rc == CORRAL_OK && done > 0 && (done < n || more))
        snprintf(next, CORRAL_ID_LEN + 1, "%s", ids[done - 1]);
    return rc;
}

/* The smallest ids after `after` over every bucket of folder d (tasks: names are ids; queue:
 * names decode through corral/queue_entry.h), at most keep, sorted. *more when some were left
 * out. Memory stays bounded: LIST_BUCKET_BATCH buckets are held at a time. */
static int smallest_ids(struct replica *r, enum corral_dir d, const char *after, size_t keep,
                        struct idvec *out, bool *more, struct corral_error *err)
{
    *more = false;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(LIST_BUCKET_BATCH, CORRAL_PATH_MAX);
    const char *ptrs[LIST_BUCKET_BATCH];
    int rc = CORRAL_OK;
    for (unsigned b0 = 0; rc == CORRAL_OK && b0 < CORRAL_BUCKETS; b0 += LIST_BUCKET_BATCH) {
        unsigned nb =
            CORRAL_BUCKETS - b0 < LIST_BUCKET_BATCH ? CORRAL_BUCKETS - b0 : LIST_BUCKET_BATCH;
        for (unsigned i = 0; i < nb; i++) {
            if (corral_path_bucket_dir(paths[i], CORRAL_PATH_MAX, r->opts.ns, d, b0 + i) !=
                CORRAL_OK)
                abort(); /* a bucketed folder of a validated namespace */
            ptrs[i] = paths[i];
        }
        struct corral_strlist lists[LIST_BUCKET_BATCH];
        memset(lists, 0, sizeof lists);
        rc = zk_children_many(r->zk, ptrs, nb, lists, err);
        for (unsigned i = 0; i < nb; i++) {
            for (size_t k = 0; rc == CORRAL_OK && k < lists[i].n; k++) {
                char id[CORRAL_ID_LEN + 1];
                const char *name = lists[i].items[k];
                bool valid = d == CORRAL_DIR_QUEUE ? corral_queue_entry_parse(name, id)
                                                   : corral_id_is_valid(name);
                if (valid && d != CORRAL_DIR_QUEUE)
                    snprintf(id, sizeof id, "%s", name);
                if (valid && (!after || strcmp(id, after) > 0))
                    idvec_push(out, id);
            }
            corral_strlist_cleanup(&lists[i]);
        }
        if (idvec_trim(out, keep))
            *more = true;
    }
    free(paths);
    return rc;
}

/* Ids of every assignment assign/<worker>/<id> after `after`, sorted: as many as there are
 * slots in use, so all of them. */
static int assigned_ids(struct replica *r, const char *after, struct idvec *out,
                        struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ASSIGN, dir);
    struct corral_strlist workers = {0};
    int rc = zk_children(r->zk, dir, false, &workers, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t n = workers.n;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n ? n : 1, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n ? n : 1, sizeof *ptrs);
    struct corral_strlist *lists = corral_xcalloc(n ? n : 1, sizeof *lists);
    size_t np = 0;
    for (size_t i = 0; i < n; i++)
        if (corral_path_child(paths[np], CORRAL_PATH_MAX, dir, workers.items[i]) == CORRAL_OK) {
            ptrs[np] = paths[np];
            np++;
        }
    rc = zk_children_many(r->zk, ptrs, np, lists, err);
    for (size_t i = 0; i < np; i++) {
        for (size_t k = 0; rc == CORRAL_OK && k < lists[i].n; k++) {
            const char *id = lists[i].items[k];
            if (corral_id_is_valid(id) && (!after || strcmp(id, after) > 0))
                idvec_push(out, id);
        }
        corral_strlist_cleanup(&lists[i]);
    }
    (void)idvec_trim(out, out->n);
    free(lists);
    free(ptrs);
    free(paths);
    corral_strlist_cleanup(&workers);
    return rc;
}

/* A walk of the done index after a position, oldest first. */
struct done_walk {
    int64_t pos_ms;                 /* strictly after (pos_ms, pos_id) */
    char pos_id[CORRAL_ID_LEN + 1]; /* "" = before every id */
    enum corral_state state;
    size_t want; /* matches wanted: limit + 1 (the extra one says that more exist) */
    struct corral_done_entry *match;
    size_t n_match;
    size_t scanned;
    struct corral_done_entry last; /* the last entry examined, when scanned > 0 */
    bool stop;
};

/* Entries of the slot folders paths[0..n), in order. */
static int walk_slots(struct replica *r, struct done_walk *w, const char *const *paths, size_t n,
                      struct corral_error *err)
{
    struct corral_strlist *lists = corral_xcalloc(n, sizeof *lists);
    int rc = zk_children_many(r->zk, paths, n, lists, err);
    for (size_t i = 0; rc == CORRAL_OK && i < n && !w->stop; i++) {
        /* Names sort by (time, id): the folder's listing is already in index order. */
        for (size_t k = 0; k < lists[i].n && !w->stop; k++) {
            struct corral_done_entry e;
            if (!corral_done_entry_parse(lists[i].items[k], &e) ||
                corral_done_entry_cmp(&e, w->pos_ms, w->pos_id) <= 0)
                continue;
            w->scanned++;
            w->last = e;
            if (e.state == w->state)
                w->match[w->n_match++] = e;
            w->stop = w->n_match == w->want || w->scanned >= LIST_SCAN_MAX;
        }
    }
    for (size_t i = 0; i < n; i++)
        corral_strlist_cleanup(&lists[i]);
    free(lists);
    return rc;
}

/* The minutes mins[0..n) of one hour: their slot folders from the walk's position on. */
static int walk_minutes(struct replica *r, struct done_walk *w, const int64_t *mins, size_t n,
                        struct corral_error *err)
{
    char(*mpaths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **mptrs = corral_xcalloc(n, sizeof *mptrs);
    struct corral_strlist *slots = corral_xcalloc(n, sizeof *slots);
    for (size_t i = 0; i < n; i++) {
        if (corral_done_minute_path(mpaths[i], CORRAL_PATH_MAX, r->opts.ns, mins[i]) != CORRAL_OK)
            abort(); /* parsed from a listing: in range */
        mptrs[i] = mpaths[i];
    }
    int rc = zk_children_many(r->zk, mptrs, n, slots, err);
    char(*spaths)[CORRAL_PATH_MAX] = corral_xcalloc(LIST_SLOT_BATCH, CORRAL_PATH_MAX);
    const char *sptrs[LIST_SLOT_BATCH];
    size_t ns = 0;
    int64_t first = corral_done_slot_of(w->pos_ms);
    for (size_t i = 0; rc == CORRAL_OK && i < n && !w->stop; i++) {
        for (size_t k = 0; rc == CORRAL_OK && k < slots[i].n && !w->stop; k++) {
            int64_t slot;
            if (!corral_done_slot_parse(slots[i].items[k], mins[i], &slot) || slot < first)
                continue;
            if (corral_done_slot_path(spaths[ns], CORRAL_PATH_MAX, r->opts.ns, slot) != CORRAL_OK)
                abort();
            sptrs[ns] = spaths[ns];
            if (++ns == LIST_SLOT_BATCH) {
                rc = walk_slots(r, w, sptrs, ns, err);
                ns = 0;
            }
        }
    }
    if (rc == CORRAL_OK && ns > 0 && !w->stop)
        rc = walk_slots(r, w, sptrs, ns, err);
    free(spaths);
    for (size_t i = 0; i < n; i++)
        corral_strlist_cleanup(&slots[i]);
    free(slots);
    free(mptrs);
    free(mpaths);
    return rc;
}

/* Walk the index from the position: hours, then an hour's minutes (listed together), then
 * their slots (LIST_SLOT_BATCH at a time). Only names are read. */
static int walk_done(struct replica *r, struct done_walk *w, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_DONE, dir);
    struct corral_strlist hours = {0};
    int rc = zk_children(r->zk, dir, false, &hours, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        rc = CORRAL_OK; /* a namespace made before the index: nothing indexed yet */
    }
    int64_t first_min = corral_done_minute_of(w->pos_ms);
    for (size_t hi = 0; rc == CORRAL_OK && hi < hours.n && !w->stop; hi++) {
        int64_t hour;
        if (!corral_done_hour_parse(hours.items[hi], &hour) ||
            hour < corral_done_hour_of(w->pos_ms))
            continue;
        if (corral_done_hour_path(path, sizeof path, r->opts.ns, hour) != CORRAL_OK)
            abort();
        struct corral_strlist minutes = {0};
        rc = zk_children(r->zk, path, false, &minutes, err);
        if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err); /* removed meanwhile (retention) */
            rc = CORRAL_OK;
        }
        int64_t mins[CORRAL_DONE_MINUTES_PER_HOUR];
        size_t nm = 0;
        for (size_t k = 0; k < minutes.n && nm < CORRAL_DONE_MINUTES_PER_HOUR; k++) {
            int64_t m;
            if (corral_done_minute_parse(minutes.items[k], hour, &m) && m >= first_min)
                mins[nm++] = m;
        }
        if (rc == CORRAL_OK && nm > 0)
            rc = walk_minutes(r, w, mins, nm, err);
        corral_strlist_cleanup(&minutes);
    }
    corral_strlist_cleanup(&hours);
    return rc;
}

/* GET /v1/tasks?state=<final>: from the done index, in finish order. */
static int list_done(struct replica *r, enum corral_state state, size_t limit, const char *after,
                     json_t *arr, char next[CORRAL_ID_LEN + 1], struct corral_error *err)
{
    struct done_walk w = {.state = state, .want = limit + 1};
    if (after) {
        /* The cursor's place in the index: its task's finish time. A task deleted meanwhile
         * (retention) or not finished finished no earlier than it was submitted: continue
         * from its submission time (entries between then and its finish come again). */
        struct corral_task t = {0};
        struct corral_done_entry e;
        int rc = store_get_task(r, after, &t, NULL, err);
        if (rc == CORRAL_OK && corral_done_entry_of(&t, &e) == CORRAL_OK) {
            w.pos_ms = e.finished_ms;
            memcpy(w.pos_id, e.id, sizeof w.pos_id);
        } else if (rc == CORRAL_OK || rc == CORRAL_ENOTFOUND || rc == CORRAL_EINVAL) {
            corral_error_clear(err);
            w.pos_ms = corral_id_time_ms(after);
        } else {
            corral_task_cleanup(&t);
            return rc;
        }
        corral_task_cleanup(&t);
    }
    w.match = corral_xcalloc(w.want, sizeof *w.match);
    int rc = walk_done(r, &w, err);
    next[0] = '\0';
    if (rc == CORRAL_OK) {
        size_t n = w.n_match < limit ? w.n_match : limit;
        char **ids = corral_xcalloc(n ? n : 1, sizeof *ids);
        for (size_t i = 0; i < n; i++)
            ids[i] = w.match[i].id;
        char unused[CORRAL_ID_LEN + 1];
        rc = page_ids(r, ids, n, false, (int)state, limit, arr, unused, err);
        free(ids);
        if (w.n_match > limit)
            snprintf(next, CORRAL_ID_LEN + 1, "%s", w.match[limit - 1].id);
        else if (w.stop && w.scanned > 0)
            snprintf(next, CORRAL_ID_LEN + 1, "%s", w.last.id); /* scan budget spent */
    }
    free(w.match);
    return rc;
}

int store_list(struct replica *r, int state, size_t limit, const char *after, json_t **tasks,
               char next[CORRAL_ID_LEN + 1], struct corral_error *err)
{
    next[0] = '\0';
    if (limit == 0)
        limit = 1;
    json_t *arr = json_array();
    int rc;
    if (state >= 0 && corral_state_is_final((enum corral_state)state)) {
        rc = list_done(r, (enum corral_state)state, limit, after, arr, next, err);
    } else {
        /* Candidates in id (= submission) order: queued and scheduled ones from the queue
         * entries, assigned
         * running and cancelling ones from the assignments, any state from the task buckets.
         * Only the page's tasks are read. */
        struct idvec ids = {0};
        bool more = false;
        if (state == CORRAL_STATE_QUEUED || state == CORRAL_STATE_SCHEDULED)
            rc = smallest_ids(r, CORRAL_DIR_QUEUE, after, limit + LIST_SLACK, &ids, &more, err);
        else if (state >= 0 && state != CORRAL_STATE_WAITING)
            rc = assigned_ids(r, after, &ids, err);
        else
            rc = smallest_ids(r, CORRAL_DIR_TASKS, after, limit + LIST_SLACK, &ids, &more, err);
        if (rc == CORRAL_OK)
            rc = page_ids(r, ids.v, ids.n, more, state, limit, arr, next, err);
        idvec_cleanup(&ids);
    }
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
    rc = election_live_lowest(r->zk, dir, &kids, &epoch, err);
    corral_strlist_cleanup(&kids);
    if (rc != CORRAL_OK)
        return rc;
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
    /* Every GET /v1/leader reads it: once per content (a leader rewrites it every 500 ms). */
    if (len > 0 && derr.code != CORRAL_OK)
        CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "leader-record", data,
                        "ignoring malformed leader record: %s", derr.msg);
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
