/* SPDX-License-Identifier: MIT */
/* The ops of each state change (ops.h). */
#include <stdlib.h>
#include <string.h>

#include "corral/done_entry.h"
#include "corral/event.h"
#include "corral/fleet.h"
#include "corral/limits.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corral/queue_entry.h"

static void index_reset(struct corral_op_index *idx)
{
    if (idx)
        *idx = (struct corral_op_index){.task = -1, .queue = -1, .idem = -1, .done = -1};
}

static void add_task(struct corral_txn *txn, const char *path, const struct corral_task *t,
                     bool create, int32_t version, struct corral_op_index *idx)
{
    char *json = corral_task_render(t);
    size_t i = create ? corral_txn_create(txn, path, json, strlen(json))
                      : corral_txn_set(txn, path, json, strlen(json), version);
    free(json);
    if (idx)
        idx->task = (int)i;
}

/* The feed's record of t's new state (corral/event.h), written by the same multi. */
static void add_event(struct corral_txn *txn, const char *ns, const struct corral_task *t)
{
    corral_event_task(txn, ns, t->id, corral_state_name(t->state), t->attempt, t->worker);
}

static int add_signal(struct corral_txn *txn, const char *ns)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_queue_signal(path, sizeof path, ns);
    if (rc == CORRAL_OK)
        corral_txn_set(txn, path, NULL, 0, -1);
    return rc;
}

static int add_queue_entry(struct corral_txn *txn, const char *ns, const struct corral_task *t,
                           struct corral_op_index *idx)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_queue_entry_path(path, sizeof path, ns, t);
    if (rc == CORRAL_OK) {
        size_t i = corral_txn_create(txn, path, NULL, 0);
        if (idx)
            idx->queue = (int)i;
    }
    return rc;
}

/* The done entry of t when t is final (the change that makes it final carries it). */
static int add_done_entry(struct corral_txn *txn, const char *ns, const struct corral_task *t,
                          struct corral_op_index *idx)
{
    if (!corral_state_is_final(t->state))
        return CORRAL_OK;
    struct corral_done_entry e;
    char path[CORRAL_PATH_MAX];
    int rc = corral_done_entry_of(t, &e);
    if (rc == CORRAL_OK)
        rc = corral_done_entry_path(path, sizeof path, ns, &e);
    if (rc != CORRAL_OK)
        return rc;
    size_t i = corral_txn_create(txn, path, NULL, 0);
    if (idx)
        idx->done = (int)i;
    return CORRAL_OK;
}

int corral_ops_submit(struct corral_txn *txn, const char *ns, const struct corral_task *t,
                      struct corral_op_index *idx)
{
    index_reset(idx);
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_task(path, sizeof path, ns, t->id);
    if (rc != CORRAL_OK)
        return rc;
    add_task(txn, path, t, true, -1, idx);
    add_event(txn, ns, t);
    /* A scheduled task's entry carries its due time as not_before: the queue is its time index. */
    if ((t->state == CORRAL_STATE_QUEUED || t->state == CORRAL_STATE_SCHEDULED) &&
        (rc = add_queue_entry(txn, ns, t, idx)) != CORRAL_OK)
        return rc;
    if ((rc = add_done_entry(txn, ns, t, idx)) != CORRAL_OK)
        return rc;
    if (t->spec.idempotency_key) {
        if ((rc = corral_path_idem(path, sizeof path, ns, t->spec.idempotency_key)) != CORRAL_OK)
            return rc;
        size_t i = corral_txn_create(txn, path, t->id, strlen(t->id));
        if (idx)
            idx->idem = (int)i;
    }
    return add_signal(txn, ns);
}

int corral_ops_assign(struct corral_txn *txn, const char *ns, const char *fence,
                      const struct corral_task *t, int32_t version, const char *entry_name,
                      const char *reg, bool create_dir)
{
    if (!t->worker || !corral_reg_is_valid(reg))
        return CORRAL_EINVAL;
    char path[CORRAL_PATH_MAX];
    corral_txn_fence(txn, fence, -1);
    /* Only to a worker that is still registered (its ephemeral node exists). */
    int rc = corral_path_worker(path, sizeof path, ns, t->worker);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_check(txn, path, -1);
    if ((rc = corral_path_task(path, sizeof path, ns, t->id)) != CORRAL_OK)
        return rc;
    add_task(txn, path, t, false, version, NULL);
    add_event(txn, ns, t);
    /* The entry as it was queued: the transition cleared the retry backoff its name holds. */
    if ((rc = corral_queue_entry_path_of_name(path, sizeof path, ns, entry_name)) != CORRAL_OK)
        return rc;
    corral_txn_delete(txn, path, -1);
    if (create_dir) {
        if ((rc = corral_path_assign_dir(path, sizeof path, ns, t->worker)) != CORRAL_OK)
            return rc;
        corral_txn_create(txn, path, NULL, 0);
    }
    if ((rc = corral_path_assign(path, sizeof path, ns, t->worker, t->id)) != CORRAL_OK)
        return rc;
    struct corral_assignment a = {.attempt = t->attempt, .epoch = t->epoch};
    memcpy(a.task, t->id, sizeof a.task);
    memcpy(a.reg, reg, strlen(reg) + 1);
    char *data = corral_assignment_encode(&a);
    corral_txn_create(txn, path, data, strlen(data));
    free(data);
    return CORRAL_OK;
}

int corral_ops_start(struct corral_txn *txn, const char *ns, const struct corral_task *t,
                     int32_t version)
{
    if (!t->worker)
        return CORRAL_EINVAL;
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_assign(path, sizeof path, ns, t->worker, t->id);
    if (rc != CORRAL_OK)
        return rc;
    /* If the leader took the assignment back meanwhile, the attempt must not start. */
    corral_txn_fence(txn, path, -1);
    if ((rc = corral_path_task(path, sizeof path, ns, t->id)) != CORRAL_OK)
        return rc;
    add_task(txn, path, t, false, version, NULL);
    add_event(txn, ns, t);
    return CORRAL_OK;
}

int corral_ops_release(struct corral_txn *txn, const char *ns, const char *fence,
                       const char *worker, const struct corral_task *t, int32_t version,
                       struct corral_op_index *idx)
{
    index_reset(idx);
    char apath[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    int rc = corral_path_assign(apath, sizeof apath, ns, worker, t->id);
    if (rc != CORRAL_OK)
        return rc;
    /* A worker's result counts only while its assignment exists; a leader's repair only while
     * it leads. */
    corral_txn_fence(txn, fence ? fence : apath, -1);
    if ((rc = corral_path_task(path, sizeof path, ns, t->id)) != CORRAL_OK)
        return rc;
    add_task(txn, path, t, false, version, idx);
    if (t->state == CORRAL_STATE_QUEUED && t->n_history > 0) /* a retry or a return: say why */
        corral_event_task_requeued(txn, ns, t->id, t->attempt,
                                   corral_outcome_name(t->history[t->n_history - 1].outcome));
    else
        add_event(txn, ns, t);
    corral_txn_delete(txn, apath, -1);
    if (t->state == CORRAL_STATE_QUEUED && (rc = add_queue_entry(txn, ns, t, idx)) != CORRAL_OK)
        return rc;
    if ((rc = add_done_entry(txn, ns, t, idx)) != CORRAL_OK)
        return rc;
    return add_signal(txn, ns);
}

/* Set the assignment a of worker (a flag a replica adds: cancel, follow) at the version read. */
static int set_assignment(struct corral_txn *txn, const char *ns, const char *worker,
                          const struct corral_assignment *a, int32_t version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_assign(path, sizeof path, ns, worker, a->task);
    if (rc != CORRAL_OK)
        return rc;
    char *data = corral_assignment_encode(a);
    corral_txn_set(txn, path, data, strlen(data), version);
    free(data);
    return CORRAL_OK;
}

int corral_ops_cancel(struct corral_txn *txn, const char *ns, const struct corral_task *t,
                      int32_t version, enum corral_state before, const struct corral_assignment *a,
                      int32_t a_version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_task(path, sizeof path, ns, t->id);
    if (rc != CORRAL_OK)
        return rc;
    add_task(txn, path, t, false, version, NULL);
    add_event(txn, ns, t);
    if (before == CORRAL_STATE_QUEUED || before == CORRAL_STATE_SCHEDULED) {
        if ((rc = corral_queue_entry_path(path, sizeof path, ns, t)) != CORRAL_OK)
            return rc;
        corral_txn_delete(txn, path, -1);
        if ((rc = add_done_entry(txn, ns, t, NULL)) != CORRAL_OK)
            return rc;
    } else if (before == CORRAL_STATE_WAITING) {
        /* No queue entry yet; its edges go when the leader resolves them. */
        if ((rc = add_done_entry(txn, ns, t, NULL)) != CORRAL_OK)
            return rc;
    } else if (a && t->worker) {
        struct corral_assignment flagged = *a;
        flagged.cancel = true;
        return set_assignment(txn, ns, t->worker, &flagged, a_version);
    }
    return CORRAL_OK;
}

int corral_ops_update(struct corral_txn *txn, const char *ns, const char *fence,
                      const struct corral_task *t, int32_t version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_task(path, sizeof path, ns, t->id);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    add_task(txn, path, t, false, version, NULL);
    return CORRAL_OK;
}

int corral_ops_release_due(struct corral_txn *txn, const char *ns, const char *fence,
                           const struct corral_task *t, int32_t version)
{
    int rc = corral_ops_update(txn, ns, fence, t, version);
    if (rc == CORRAL_OK)
        add_event(txn, ns, t);
    return rc;
}

/* Delete the idempotency record of key, if any. */
static int add_idem_delete(struct corral_txn *txn, const char *ns, const char *key)
{
    if (!key)
        return CORRAL_OK;
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_idem(path, sizeof path, ns, key);
    if (rc == CORRAL_OK)
        corral_txn_delete(txn, path, -1);
    return rc;
}

int corral_ops_retire_unindexed(struct corral_txn *txn, const char *ns, const char *fence,
                                const struct corral_task *t, int32_t version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_task(path, sizeof path, ns, t->id);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, path, version);
    return add_idem_delete(txn, ns, t->spec.idempotency_key);
}

int corral_ops_retire(struct corral_txn *txn, const char *ns, const char *fence,
                      const struct corral_task *t, int32_t version)
{
    struct corral_done_entry e;
    int rc = corral_done_entry_of(t, &e);
    if (rc != CORRAL_OK)
        return rc; /* not final: nothing to retire */
    return corral_ops_retire_entry(txn, ns, fence, &e, version, t->spec.idempotency_key);
}

int corral_ops_retire_entry(struct corral_txn *txn, const char *ns, const char *fence,
                            const struct corral_done_entry *e, int32_t version, const char *key)
{
    char tpath[CORRAL_PATH_MAX], epath[CORRAL_PATH_MAX];
    int rc = corral_path_task(tpath, sizeof tpath, ns, e->id);
    if (rc == CORRAL_OK)
        rc = corral_done_entry_path(epath, sizeof epath, ns, e);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, tpath, version);
    corral_txn_delete(txn, epath, -1);
    return add_idem_delete(txn, ns, key);
}

int corral_ops_drop_done_entry(struct corral_txn *txn, const char *ns, const char *fence,
                               const struct corral_done_entry *e)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_done_entry_path(path, sizeof path, ns, e);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, path, -1);
    return CORRAL_OK;
}

int corral_ops_make_dir(struct corral_txn *txn, const char *fence, const char *path)
{
    if (!path || path[0] != '/')
        return CORRAL_EINVAL;
    corral_txn_fence(txn, fence, -1);
    corral_txn_create(txn, path, NULL, 0);
    return CORRAL_OK;
}

int corral_ops_drop_dir(struct corral_txn *txn, const char *fence, const char *path)
{
    if (!path || path[0] != '/')
        return CORRAL_EINVAL;
    /* A folder that is not empty fails the delete (ZooKeeper's "not empty"): nothing is lost
     * when a late entry arrives between our listing and this delete. */
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, path, -1);
    return CORRAL_OK;
}

/* True when path lies strictly inside folder d of ns ("<ns>/<d>/..."). */
static bool inside(const char *path, const char *ns, enum corral_dir d)
{
    char dir[CORRAL_PATH_MAX];
    if (corral_path_dir(dir, sizeof dir, ns, d) != CORRAL_OK)
        return false;
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && path[n] == '/';
}

bool corral_ops_missing_dir(const struct corral_txn *txn, const char *ns, int failed_op, char *buf,
                            size_t n)
{
    if (!txn || !ns || failed_op < 0 || (size_t)failed_op >= txn->n || n == 0)
        return false;
    const struct corral_op *op = &txn->ops[failed_op];
    const char *slash = op->kind == CORRAL_OP_CREATE && op->path ? strrchr(op->path, '/') : NULL;
    size_t len = slash ? (size_t)(slash - op->path) : 0;
    if (!slash || len >= n)
        return false;
    memcpy(buf, op->path, len);
    buf[len] = '\0';
    /* A slot or a bucket below <ns>/done or <ns>/queue, never one of those two themselves. */
    if (inside(buf, ns, CORRAL_DIR_DONE) || inside(buf, ns, CORRAL_DIR_QUEUE))
        return true;
    buf[0] = '\0';
    return false;
}

/* A repair: delete one node at any version, fenced. rc is the path builder's result. */
static int fenced_delete(struct corral_txn *txn, const char *fence, int rc, const char *path)
{
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, path, -1);
    return CORRAL_OK;
}

int corral_ops_drop_assignment(struct corral_txn *txn, const char *ns, const char *fence,
                               const char *worker, const char *id)
{
    char path[CORRAL_PATH_MAX];
    return fenced_delete(txn, fence, corral_path_assign(path, sizeof path, ns, worker, id), path);
}

int corral_ops_drop_assign_dir(struct corral_txn *txn, const char *ns, const char *fence,
                               const char *worker)
{
    char path[CORRAL_PATH_MAX];
    return fenced_delete(txn, fence, corral_path_assign_dir(path, sizeof path, ns, worker), path);
}

int corral_ops_drop_queue_entry(struct corral_txn *txn, const char *ns, const char *fence,
                                const char *entry_name)
{
    char path[CORRAL_PATH_MAX];
    return fenced_delete(txn, fence,
                         corral_queue_entry_path_of_name(path, sizeof path, ns, entry_name), path);
}

int corral_ops_rewrite_queue_entry(struct corral_txn *txn, const char *ns, const char *fence,
                                   const char *entry_name, const struct corral_task *t)
{
    int rc = corral_ops_drop_queue_entry(txn, ns, fence, entry_name);
    if (rc != CORRAL_OK)
        return rc;
    return add_queue_entry(txn, ns, t, NULL);
}

int corral_ops_leader_record(struct corral_txn *txn, const char *ns, const char *fence,
                             const struct corral_replica_info *info)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_leader(path, sizeof path, ns);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    char *data = corral_replica_info_encode(info);
    corral_txn_set(txn, path, data, strlen(data), -1);
    free(data);
    return CORRAL_OK;
}

/* The (fenced) write of one whole record at path: create, set at version, or (data NULL)
 * delete at version. */
static void put_record(struct corral_txn *txn, const char *fence, const char *path,
                       const char *data, bool exists, int32_t version)
{
    if (fence)
        corral_txn_fence(txn, fence, -1);
    if (!data)
        corral_txn_delete(txn, path, version);
    else if (exists)
        corral_txn_set(txn, path, data, strlen(data), version);
    else
        corral_txn_create(txn, path, data, strlen(data));
}

int corral_ops_schedule_write(struct corral_txn *txn, const char *ns, const char *fence,
                              const char *name, const char *data, int32_t version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_schedule(path, sizeof path, ns, name);
    if (rc == CORRAL_OK)
        put_record(txn, fence, path, data, version >= 0, version);
    return rc;
}

int corral_ops_fleet_write(struct corral_txn *txn, const char *ns, const char *fence,
                           const char *worker, const char *data, bool exists, int32_t version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_fleet(path, sizeof path, ns, worker);
    if (rc != CORRAL_OK)
        return rc;
    put_record(txn, fence, path, data, exists, version);
    struct corral_fleet_rec rec = {.state = CORRAL_FLEET_ACTIVE};
    if (data && corral_fleet_decode(data, strlen(data), &rec, NULL) != CORRAL_OK)
        return CORRAL_OK; /* not a record this version knows: no state to announce */
    corral_event_worker(txn, ns, worker, corral_fleet_state_name(rec.state));
    return CORRAL_OK;
}

int corral_ops_link_dependency(struct corral_txn *txn, const char *ns,
                               const struct corral_task *dep, int32_t dep_version,
                               const char *dep_id, const char *dependent_id, bool edge)
{
    char path[CORRAL_PATH_MAX];
    int rc;
    if (dep) {
        if ((rc = corral_path_task(path, sizeof path, ns, dep->id)) != CORRAL_OK)
            return rc;
        add_task(txn, path, dep, false, dep_version, NULL);
    }
    if (edge) {
        if ((rc = corral_path_dep_edge(path, sizeof path, ns, dep_id, dependent_id)) != CORRAL_OK)
            return rc;
        corral_txn_create(txn, path, NULL, 0);
    }
    return CORRAL_OK;
}

int corral_ops_resolve_edge(struct corral_txn *txn, const char *ns, const char *fence,
                            const struct corral_task *dependent, int32_t version,
                            const char *dep_id, const char *dependent_id)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_dep_edge(path, sizeof path, ns, dep_id, dependent_id);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, path, -1);
    if (!dependent)
        return CORRAL_OK;
    if ((rc = corral_path_task(path, sizeof path, ns, dependent->id)) != CORRAL_OK)
        return rc;
    add_task(txn, path, dependent, false, version, NULL);
    add_event(txn, ns, dependent);
    if (dependent->state == CORRAL_STATE_QUEUED &&
        (rc = add_queue_entry(txn, ns, dependent, NULL)) != CORRAL_OK)
        return rc;
    if ((rc = add_done_entry(txn, ns, dependent, NULL)) != CORRAL_OK)
        return rc;
    return add_signal(txn, ns);
}

int corral_ops_worker_event(struct corral_txn *txn, const char *ns, const char *fence,
                            const char *worker, const char *state)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_worker(path, sizeof path, ns, worker);
    if (rc != CORRAL_OK)
        return rc;
    if (fence)
        corral_txn_fence(txn, fence, -1);
    else /* the worker's own announcement stands only with its registration */
        corral_txn_check(txn, path, -1);
    corral_event_worker(txn, ns, worker, state);
    return txn->events_n > 0 ? CORRAL_OK : CORRAL_EINVAL;
}

int corral_ops_events_seal(struct corral_txn *txn, const char *ns, const char *fence, int64_t gen,
                           int64_t now_ms)
{
    char path[CORRAL_PATH_MAX], next[CORRAL_PATH_MAX];
    int rc = corral_path_events_gen(path, sizeof path, ns, gen);
    if (rc == CORRAL_OK)
        rc = corral_path_events_gen(next, sizeof next, ns, gen + 1);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_create(txn, next, NULL, 0);
    char *data = corral_event_seal_encode(now_ms);
    corral_txn_set(txn, path, data, strlen(data), 0);
    free(data);
    return CORRAL_OK;
}

int corral_ops_events_trim(struct corral_txn *txn, const char *ns, const char *fence, int64_t gen,
                           const char *const *names, size_t n, bool folder)
{
    char dir[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    int rc = corral_path_events_gen(dir, sizeof dir, ns, gen);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    for (size_t i = 0; i < n; i++) {
        if ((rc = corral_path_child(path, sizeof path, dir, names[i])) != CORRAL_OK)
            return rc;
        corral_txn_delete(txn, path, -1);
    }
    if (folder)
        corral_txn_delete(txn, dir, -1);
    return CORRAL_OK;
}

int corral_ops_follow(struct corral_txn *txn, const char *ns, const struct corral_assignment *a,
                      int32_t a_version, const char *worker, int64_t until_ms)
{
    struct corral_assignment followed = *a;
    followed.follow_until_ms = until_ms;
    return set_assignment(txn, ns, worker, &followed, a_version);
}

int corral_ops_output_publish(struct corral_txn *txn, const char *ns, const char *worker,
                              const char *id, const char *data, size_t len, bool exists)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_assign(path, sizeof path, ns, worker, id);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, path, -1);
    if ((rc = corral_path_output(path, sizeof path, ns, id)) != CORRAL_OK)
        return rc;
    if (exists)
        corral_txn_set(txn, path, data, len, -1);
    else
        corral_txn_create(txn, path, data, len);
    return CORRAL_OK;
}

int corral_ops_output_drop(struct corral_txn *txn, const char *ns, const char *fence,
                           const char *id, int32_t version)
{
    char path[CORRAL_PATH_MAX];
    int rc = corral_path_output(path, sizeof path, ns, id);
    if (rc != CORRAL_OK)
        return rc;
    corral_txn_fence(txn, fence, -1);
    corral_txn_delete(txn, path, version);
    return CORRAL_OK;
}
