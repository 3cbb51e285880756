/* SPDX-License-Identifier: MIT */
/*
 * The worker's registration (agent_internal.h): the ephemeral workers/<id> (format:
 * corral/worker_reg.h) with a fresh registration id per session, adoption of our own node
 * after a lost create reply, waiting out an earlier incarnation's session, and the draining
 * mark.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/acl.h"
#include "corral/ops.h"
#include "corral/worker_reg.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/zk_txn.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

void agent_new_reg(struct agent *a)
{
    snprintf(a->reg, sizeof a->reg, "%016" PRIx64, rand_u64());
    /* a new incarnation's outcomes count from zero */
    a->ok_count = 0;
    a->fail_streak = 0;
    a->reg_dirty = false;
}

void agent_own_identity(struct agent *a)
{
    if (!a->cfg->zk_auth)
        return;
    char user[CORRAL_DIGEST_USER_MAX + 1], up[CORRAL_DIGEST_USER_MAX + 64];
    if (!corral_worker_identity_user(a->cfg->id, user, sizeof user) ||
        !corral_digest_id(a->cfg->zk_auth, a->workers_id, sizeof a->workers_id))
        return;
    /* 192 random bits that never leave this process (and die with it). */
    int w = snprintf(up, sizeof up, "%s:%016" PRIx64 "%016" PRIx64 "%016" PRIx64, user, rand_u64(),
                     rand_u64(), rand_u64());
    struct corral_error err = {0};
    if (w > 0 && (size_t)w < sizeof up && corral_digest_id(up, a->own_id, sizeof a->own_id) &&
        zk_add_identity(a->zk, up, &err) != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot add the worker's own identity: %s", err.msg);
        a->own_id[0] = '\0';
    }
    memset(up, 0, sizeof up);
}

/* The ACLs of what we create name the replicas' ids: with one identity for everything (ours
 * has every right on workers/), that is ours; with separate ones, the list the replicas keep
 * in workers/ (ZooKeeper shows us their ACL entries' users, not their hashes). */
static int prepare_acls(struct agent *a, struct corral_error *err)
{
    if (a->acl_ready || !a->own_id[0])
        return CORRAL_OK;
    struct zk_acl_entry e[16];
    size_t n = 0;
    int rc = zk_get_acl(a->zk, a->p_workers, e, sizeof e / sizeof e[0], &n, err);
    if (rc != CORRAL_OK)
        return rc;
    size_t ulen = (size_t)(strchr(a->workers_id, ':') - a->workers_id);
    bool shared = false;
    for (size_t i = 0; i < n; i++)
        shared |= strcmp(e[i].scheme, "digest") == 0 && e[i].perms == CORRAL_PERM_ALL &&
                  strncmp(e[i].id, a->workers_id, ulen + 1) == 0;
    char ids[CORRAL_ACL_REPLICAS_MAX][CORRAL_DIGEST_ID_MAX + 1];
    const char *ptrs[CORRAL_ACL_REPLICAS_MAX];
    size_t k = 0;
    if (shared) {
        snprintf(ids[k++], sizeof ids[0], "%s", a->workers_id);
    } else {
        char *data = NULL;
        size_t len = 0;
        rc = zk_get(a->zk, a->p_workers, false, &data, &len, NULL, err);
        if (rc == CORRAL_OK && corral_acl_replicas_decode(data, len, ids, CORRAL_ACL_REPLICAS_MAX,
                                                          &k, err) != CORRAL_OK)
            rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                                  "the replicas have not published their identities in %s yet",
                                  a->p_workers);
        free(data);
        if (rc != CORRAL_OK)
            return rc;
    }
    for (size_t i = 0; i < k; i++)
        ptrs[i] = ids[i];
    zk_acl_setup(a->zk, a->cfg->ns, ptrs, k, a->workers_id, a->own_id);
    a->acl_ready = true;
    a->acl_separate = !shared;
    CORRAL_LOG(CORRAL_LOG_DEBUG, "ACLs set up: %s identity for workers and replicas",
               shared ? "one" : "separate");
    return CORRAL_OK;
}

static char *registration(const struct agent *a)
{
    const struct agent_config *c = a->cfg;
    struct corral_worker_reg w = {
        .id = (char *)(uintptr_t)c->id, /* borrowed: the encoder only reads */
        .slots = c->slots,
        .cpu_milli = c->cpu_milli,
        .mem_mb = c->mem_mb,
        .labels = (struct corral_kv *)(uintptr_t)c->labels,
        .n_labels = c->n_labels,
        .weight = c->weight,
        .draining = a->draining,
        .ok_count = a->ok_count,
        .fail_streak = a->fail_streak,
    };
    snprintf(w.reg, sizeof w.reg, "%s", a->reg);
    return corral_worker_reg_encode(&w);
}

/* Tell the events feed that this worker is here (best effort: a feed reader that misses it
 * still sees the worker in GET /v1/workers). */
static void announce(struct agent *a)
{
    struct corral_txn t;
    struct corral_error err = {0};
    corral_txn_init(&t, "worker.announce");
    int rc = corral_ops_worker_event(&t, a->cfg->ns, NULL, a->cfg->id, "active");
    if (rc == CORRAL_OK)
        rc = zk_txn_commit(a->zk, &t, NULL, &err);
    if (rc != CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_WARN, "could not announce the worker in the events feed: %s",
                   err.msg[0] ? err.msg : corral_err_name(rc));
    corral_txn_cleanup(&t);
}

/* A folder of the namespace. Without auth the worker makes it when missing. With auth it only
 * waits for a replica to make it: a worker's identity must not own the namespace (with
 * separate identities the replicas could not even use it). */
static int need_dir(struct agent *a, const char *path, struct corral_error *err)
{
    if (!a->cfg->zk_auth)
        return zk_ensure_path(a->zk, path, err);
    int rc = zk_exists(a->zk, path, false, NULL, err);
    if (rc == CORRAL_ENOTFOUND)
        rc = corral_error_set(err, CORRAL_EUNAVAIL, NULL,
                              "waiting for a replica to make the namespace's %s", path);
    return rc;
}

void agent_register(struct agent *a, int64_t now)
{
    struct corral_error err = {0};
    int rc = need_dir(a, a->p_workers, &err);
    if (!rc)
        rc = prepare_acls(a, &err);
    if (!rc)
        rc = need_dir(a, a->p_assign_root, &err);
    if (!rc)
        rc = need_dir(a, a->p_queue, &err);
    if (rc) {
        if (now >= a->next_register_log_ms) {
            CORRAL_LOG(CORRAL_LOG_WARN, "cannot prepare znodes: %s", err.msg);
            a->next_register_log_ms = now + REGISTER_LOG_MS;
        }
        a->next_register_ms = now + REGISTER_RETRY_MS;
        return;
    }
    char *json = registration(a);
    rc = zk_create(a->zk, a->p_worker, json, strlen(json), ZK_EPHEMERAL, NULL, 0, &err);
    free(json);
    if (rc == CORRAL_EEXIST) {
        /* Ours when an earlier create of this session had an unknown outcome; otherwise the
         * previous incarnation's session has not expired yet (or another worker has our id). */
        int64_t owner = 0;
        char *data = NULL;
        corral_error_clear(&err);
        rc = zk_get_meta(a->zk, a->p_worker, &data, NULL, NULL, NULL, &owner, &err);
        free(data);
        if (rc == CORRAL_OK && owner == zk_session_id(a->zk)) {
            rc = CORRAL_OK;
        } else if (rc == CORRAL_OK && owner == 0) {
            /* A persistent znode is no registration and never expires: waiting is useless. */
            CORRAL_LOG(CORRAL_LOG_ERROR,
                       "worker id %s is held by a persistent znode %s (not a live worker; "
                       "delete it to free the id); giving up",
                       a->cfg->id, a->p_worker);
            a->stop = true;
            a->exit_code = 1;
            return;
        } else {
            int limit_ms =
                3 * (a->timeout_ms > a->cfg->session_timeout_ms ? a->timeout_ms
                                                                : a->cfg->session_timeout_ms);
            if (a->exists_since_ms == 0) {
                a->exists_since_ms = now;
                CORRAL_LOG(CORRAL_LOG_WARN,
                           "worker id is registered by another session (an earlier run not yet "
                           "expired?); retrying for up to %d ms worker=%s",
                           limit_ms, a->cfg->id);
            } else if (now - a->exists_since_ms > limit_ms) {
                CORRAL_LOG(CORRAL_LOG_ERROR,
                           "worker id %s is in use by another live session; giving up", a->cfg->id);
                a->stop = true;
                a->exit_code = 1;
            }
            a->next_register_ms = now + REGISTER_RETRY_MS;
            return;
        }
    }
    if (rc == CORRAL_OK && a->acl_separate) {
        /* Separate identities: the leader makes assign/<id> for our identity once it has seen
         * the registration (we may not); until then, nothing to watch. */
        corral_error_clear(&err);
        rc = zk_exists(a->zk, a->p_assign_dir, false, NULL, &err);
        if (rc == CORRAL_ENOTFOUND) {
            /* Soon after a leader sees us; not at all while there is none: back off. */
            a->wait_dir_ms = a->wait_dir_ms ? a->wait_dir_ms * 2 : REGISTER_WAIT_DIR_MS;
            if (a->wait_dir_ms > REGISTER_RETRY_MS * 4)
                a->wait_dir_ms = REGISTER_RETRY_MS * 4;
            if (now >= a->next_register_log_ms) {
                CORRAL_LOG(a->next_register_log_ms ? CORRAL_LOG_WARN : CORRAL_LOG_DEBUG,
                           "waiting for the leader to make %s", a->p_assign_dir);
                a->next_register_log_ms = now + REGISTER_LOG_MS;
            }
            a->next_register_ms = now + a->wait_dir_ms;
            return;
        }
    } else if (rc == CORRAL_OK) {
        corral_error_clear(&err);
        rc = zk_ensure_path(a->zk, a->p_assign_dir, &err);
    }
    if (rc) {
        /* EUNKNOWN: the create may have happened; the next try adopts it (owner check). */
        if (now >= a->next_register_log_ms) {
            CORRAL_LOG(CORRAL_LOG_WARN, "registration failed: %s", err.msg);
            a->next_register_log_ms = now + REGISTER_LOG_MS;
        }
        a->next_register_ms = now + (rc == CORRAL_EUNKNOWN ? 0 : REGISTER_RETRY_MS);
        return;
    }
    a->registered = true;
    a->wait_dir_ms = 0;
    a->reg_dirty = false; /* the registration carries the counts */
    announce(a);
    a->need_fleet_read = true;
    a->exists_since_ms = 0;
    a->drain_written = a->draining;
    a->drain_written_ms = now;
    a->need_reconcile = true;
    a->next_ping_ms = now;
    CORRAL_LOG(CORRAL_LOG_INFO, "registered worker=%s reg=%s slots=%u session_timeout_ms=%d",
               a->cfg->id, a->reg, a->cfg->slots, a->timeout_ms);
}

void agent_write_draining(struct agent *a, int64_t now)
{
    char *json = registration(a);
    struct corral_error err = {0};
    int rc = zk_set(a->zk, a->p_worker, json, strlen(json), -1, &err);
    free(json);
    if (rc == CORRAL_OK) {
        a->drain_written = true;
        a->reg_dirty = false;
        /* A leader that read us before this write may still assign to us: one more
         * reconcile a little later returns those too. */
        a->drain_written_ms = now;
        CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s marked draining", a->cfg->id);
    } else {
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot mark worker draining: %s", err.msg);
    }
}

void agent_write_reg(struct agent *a)
{
    char *json = registration(a);
    struct corral_error err = {0};
    int rc = zk_set(a->zk, a->p_worker, json, strlen(json), -1, &err);
    free(json);
    if (rc == CORRAL_OK)
        a->reg_dirty = false;
    else
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot update the registration: %s", err.msg);
}
