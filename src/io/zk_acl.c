/* SPDX-License-Identifier: MIT */
/*
 * ZooKeeper adapter, ACLs: what the nodes this handle creates carry (the rule of corral/acl.h
 * turned into digest entries once zk_acl_setup() named the identities; creator-only with auth
 * and open without otherwise), the leader's table of workers' own identities, a second
 * identity of the session, and reading and fixing a node's ACL.
 */
#include <stdlib.h>
#include <string.h>

#include "corral/xalloc.h"
#include "io/log.h"
#include "io/zk_internal.h"

#define CORRAL_LOG_MODULE "zk"

static char g_digest[] = "digest";

struct zk_acl_ids {
    char *ns;
    char *replicas[ZK_ACL_REPLICAS_MAX];
    size_t n_replicas;
    char *workers; /* NULL: no rights for the workers' shared identity */
    char *self;    /* NULL: this process is no worker */
    /* worker id -> digest id of its own identity, sorted by worker id (guarded by zk->mu) */
    char **bound_worker, **bound_id;
    size_t n_bound, cap_bound;
};

void zk_acl_free(struct zk *zk)
{
    struct zk_acl_ids *a = zk->acl_ids;
    if (!a)
        return;
    free(a->ns);
    for (size_t i = 0; i < a->n_replicas; i++)
        free(a->replicas[i]);
    free(a->workers);
    free(a->self);
    for (size_t i = 0; i < a->n_bound; i++) {
        free(a->bound_worker[i]);
        free(a->bound_id[i]);
    }
    free(a->bound_worker);
    free(a->bound_id);
    free(a);
    zk->acl_ids = NULL;
}

void zk_acl_setup(struct zk *zk, const char *ns, const char *const *replicas, size_t n,
                  const char *workers, const char *self)
{
    struct zk_acl_ids *a = corral_xcalloc(1, sizeof *a);
    a->ns = corral_xstrdup(ns);
    for (size_t i = 0; i < n && a->n_replicas < ZK_ACL_REPLICAS_MAX; i++)
        if (replicas[i] && *replicas[i])
            a->replicas[a->n_replicas++] = corral_xstrdup(replicas[i]);
    a->workers = workers && *workers ? corral_xstrdup(workers) : NULL;
    a->self = self && *self ? corral_xstrdup(self) : NULL;
    pthread_mutex_lock(&zk->mu);
    struct zk_acl_ids *old = zk->acl_ids;
    if (old) { /* keep what the leader learned */
        a->bound_worker = old->bound_worker;
        a->bound_id = old->bound_id;
        a->n_bound = old->n_bound;
        a->cap_bound = old->cap_bound;
        old->bound_worker = old->bound_id = NULL;
        old->n_bound = 0;
    }
    zk->acl_ids = a;
    pthread_mutex_unlock(&zk->mu);
    if (old) {
        struct zk tmp = {.acl_ids = old};
        zk_acl_free(&tmp);
    }
}

bool zk_acl_has_setup(struct zk *zk)
{
    pthread_mutex_lock(&zk->mu);
    bool on = zk->acl_ids != NULL;
    pthread_mutex_unlock(&zk->mu);
    return on;
}

/* Index of worker in the sorted table, or where it would go (*found false). Caller holds mu. */
static size_t bound_find(const struct zk_acl_ids *a, const char *worker, bool *found)
{
    size_t lo = 0, hi = a->n_bound;
    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->bound_worker[mid], worker);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void zk_acl_bind_worker(struct zk *zk, const char *worker, const char *digest_id)
{
    pthread_mutex_lock(&zk->mu);
    struct zk_acl_ids *a = zk->acl_ids;
    if (a) {
        bool found;
        size_t i = bound_find(a, worker, &found);
        if (found && digest_id) {
            free(a->bound_id[i]);
            a->bound_id[i] = corral_xstrdup(digest_id);
        } else if (found) {
            free(a->bound_worker[i]);
            free(a->bound_id[i]);
            memmove(&a->bound_worker[i], &a->bound_worker[i + 1],
                    (a->n_bound - i - 1) * sizeof *a->bound_worker);
            memmove(&a->bound_id[i], &a->bound_id[i + 1],
                    (a->n_bound - i - 1) * sizeof *a->bound_id);
            a->n_bound--;
        } else if (digest_id) {
            if (a->n_bound == a->cap_bound) {
                a->cap_bound = a->cap_bound ? 2 * a->cap_bound : 16;
                a->bound_worker =
                    corral_xrealloc(a->bound_worker, a->cap_bound * sizeof *a->bound_worker);
                a->bound_id = corral_xrealloc(a->bound_id, a->cap_bound * sizeof *a->bound_id);
            }
            memmove(&a->bound_worker[i + 1], &a->bound_worker[i],
                    (a->n_bound - i) * sizeof *a->bound_worker);
            memmove(&a->bound_id[i + 1], &a->bound_id[i], (a->n_bound - i) * sizeof *a->bound_id);
            a->bound_worker[i] = corral_xstrdup(worker);
            a->bound_id[i] = corral_xstrdup(digest_id);
            a->n_bound++;
        }
    }
    pthread_mutex_unlock(&zk->mu);
}

bool zk_acl_bound(struct zk *zk, const char *worker, char *out, size_t n)
{
    bool found = false;
    pthread_mutex_lock(&zk->mu);
    struct zk_acl_ids *a = zk->acl_ids;
    if (a) {
        size_t i = bound_find(a, worker, &found);
        if (found && out && n > 0) {
            strncpy(out, a->bound_id[i], n - 1);
            out[n - 1] = '\0';
        }
    }
    pthread_mutex_unlock(&zk->mu);
    return found;
}

static void add_entry(struct zk_acl_buf *b, char *id, int perms)
{
    if (b->v.count >= ZK_ACL_ENTRIES_MAX || !id || perms == 0)
        return;
    /* One identity named twice (a worker with the replicas' credentials): merge the rights. */
    for (int32_t i = 0; i < b->v.count; i++)
        if (strcmp(b->e[i].id.id, id) == 0) {
            b->e[i].perms |= perms;
            return;
        }
    b->e[b->v.count++] = (struct ACL){.perms = perms, .id = {.scheme = g_digest, .id = id}};
}

const struct ACL_vector *zk_acl_for(struct zk *zk, const char *path, struct zk_acl_buf *b)
{
    memset(b, 0, sizeof *b);
    b->v.data = b->e;
    pthread_mutex_lock(&zk->mu);
    struct zk_acl_ids *a = zk->acl_ids;
    if (!a) {
        pthread_mutex_unlock(&zk->mu);
        return zk_acl(zk);
    }
    struct corral_acl_rule r;
    corral_acl_rule_of(a->ns, path, &r);
    /* Copies: the table may change once mu is released. */
    for (size_t i = 0; i < a->n_replicas; i++) {
        strncpy(b->ids[b->n_ids], a->replicas[i], sizeof b->ids[0] - 1);
        add_entry(b, b->ids[b->n_ids++], CORRAL_PERM_ALL);
    }
    if (a->workers && r.workers) {
        strncpy(b->ids[b->n_ids], a->workers, sizeof b->ids[0] - 1);
        add_entry(b, b->ids[b->n_ids++], r.workers);
    }
    if (r.owner && r.owner_id[0]) {
        bool found;
        size_t i = bound_find(a, r.owner_id, &found);
        if (found) {
            strncpy(b->ids[b->n_ids], a->bound_id[i], sizeof b->ids[0] - 1);
            add_entry(b, b->ids[b->n_ids++], r.owner);
        }
    }
    if (a->self && r.creator) {
        strncpy(b->ids[b->n_ids], a->self, sizeof b->ids[0] - 1);
        add_entry(b, b->ids[b->n_ids++], r.creator);
    }
    pthread_mutex_unlock(&zk->mu);
    return &b->v;
}

static void grant_done(int rc, const void *data)
{
    (void)rc; /* a task gone or changed meanwhile: the assignment multi decides */
    (void)data;
}

void zk_acl_grant(struct zk *zk, const char *path, const char *worker)
{
    struct zk_acl_buf b;
    memset(&b, 0, sizeof b);
    b.v.data = b.e;
    pthread_mutex_lock(&zk->mu);
    struct zk_acl_ids *a = zk->acl_ids;
    if (!a) {
        pthread_mutex_unlock(&zk->mu);
        return;
    }
    struct corral_acl_rule r;
    corral_acl_rule_of(a->ns, path, &r);
    for (size_t i = 0; i < a->n_replicas; i++) {
        strncpy(b.ids[b.n_ids], a->replicas[i], sizeof b.ids[0] - 1);
        add_entry(&b, b.ids[b.n_ids++], CORRAL_PERM_ALL);
    }
    bool found = false;
    size_t i = r.assignee && worker ? bound_find(a, worker, &found) : 0;
    if (found) {
        strncpy(b.ids[b.n_ids], a->bound_id[i], sizeof b.ids[0] - 1);
        add_entry(&b, b.ids[b.n_ids++], r.assignee);
    }
    if (a->workers && r.workers) {
        strncpy(b.ids[b.n_ids], a->workers, sizeof b.ids[0] - 1);
        add_entry(&b, b.ids[b.n_ids++], r.workers);
    }
    pthread_mutex_unlock(&zk->mu);
    if (worker && !found)
        return; /* nobody to open it to: leave it as it is */
    /* Sent now, answered later: the session's requests are served in order, so whatever
     * this handle sends next (the assignment) is applied after it. */
    zhandle_t *zh = zk_acquire(zk);
    if (zh)
        (void)zoo_aset_acl(zh, path, -1, &b.v, grant_done, NULL);
    zk_release(zk);
}

int zk_get_acl(struct zk *zk, const char *path, struct zk_acl_entry *out, size_t cap, size_t *n,
               struct corral_error *err)
{
    *n = 0;
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    struct ACL_vector acl = {0};
    struct Stat st;
    int rc = zoo_get_acl(zh, path, &acl, &st);
    zk_touch_rx(zk, rc);
    zk_release(zk);
    if (rc == ZNOAUTH)
        return corral_error_set(err, CORRAL_EFORBIDDEN, NULL, "getACL %s: not authorised", path);
    if (rc != ZOK)
        return zk_translate(rc, true, "getACL", path, err);
    for (int32_t i = 0; i < acl.count && *n < cap; i++) {
        const struct ACL *e = &acl.data[i];
        struct zk_acl_entry *o = &out[(*n)++];
        memset(o, 0, sizeof *o);
        strncpy(o->scheme, e->id.scheme ? e->id.scheme : "", sizeof o->scheme - 1);
        strncpy(o->id, e->id.id ? e->id.id : "", sizeof o->id - 1);
        o->perms = e->perms;
    }
    deallocate_ACL_vector(&acl);
    return CORRAL_OK;
}

/* Do the two ACLs hold the same entries (in any order)? */
static bool same_acl(const struct ACL_vector *want, const struct zk_acl_entry *have, size_t n)
{
    if ((size_t)want->count != n)
        return false;
    for (int32_t i = 0; i < want->count; i++) {
        bool hit = false;
        for (size_t j = 0; j < n && !hit; j++)
            hit = strcmp(want->data[i].id.scheme, have[j].scheme) == 0 &&
                  strcmp(want->data[i].id.id, have[j].id) == 0 &&
                  want->data[i].perms == have[j].perms;
        if (!hit)
            return false;
    }
    return true;
}

/* Does path's ACL differ from its rule's? With fix, make it the rule's. */
static int check_acl(struct zk *zk, const char *path, bool fix, bool *differs,
                     struct corral_error *err)
{
    *differs = false;
    struct zk_acl_buf b;
    const struct ACL_vector *want = zk_acl_for(zk, path, &b);
    struct zk_acl_entry have[ZK_ACL_ENTRIES_MAX + 4];
    size_t n = 0;
    int rc = zk_get_acl(zk, path, have, sizeof have / sizeof have[0], &n, err);
    if (rc != CORRAL_OK || same_acl(want, have, n))
        return rc;
    *differs = true;
    if (!fix)
        return CORRAL_OK;
    zhandle_t *zh = zk_acquire(zk);
    if (!zh) {
        zk_release(zk);
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "no ZooKeeper session");
    }
    int zrc = zoo_set_acl(zh, path, -1, want);
    zk_touch_rx(zk, zrc);
    zk_release(zk);
    if (zrc != ZOK)
        return zk_translate(zrc, false, "setACL", path, err);
    return CORRAL_OK;
}

int zk_acl_fix(struct zk *zk, const char *path, bool *changed, struct corral_error *err)
{
    bool differs;
    int rc = check_acl(zk, path, true, &differs, err);
    if (changed)
        *changed = rc == CORRAL_OK && differs;
    return rc;
}

int zk_acl_matches(struct zk *zk, const char *path, bool *same, struct corral_error *err)
{
    bool differs;
    int rc = check_acl(zk, path, false, &differs, err);
    *same = rc == CORRAL_OK && !differs;
    return rc;
}

int zk_add_identity(struct zk *zk, const char *user_pass, struct corral_error *err)
{
    if (!user_pass || !strchr(user_pass, ':'))
        return corral_error_set(err, CORRAL_EUSAGE, NULL, "an identity must be USER:PASS");
    pthread_rwlock_wrlock(&zk->hlock);
    if (zk->auth2) {
        memset(zk->auth2, 0, strlen(zk->auth2));
        free(zk->auth2);
    }
    zk->auth2 = corral_xstrdup(user_pass);
    int rc = ZOK;
    if (zk->zh)
        rc = zk_add_auth_now(zk->zh, zk->auth2);
    pthread_rwlock_unlock(&zk->hlock);
    if (rc != ZOK)
        return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "add auth: %s", zerror(rc));
    return CORRAL_OK;
}
