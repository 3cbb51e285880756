/* SPDX-License-Identifier: MIT */
/*
 * The workers' own ZooKeeper identities, as the leader learns them (leader_internal.h,
 * docs/security.md "ZooKeeper ACLs"). A worker registers workers/<id> with an ACL that names its
 * own identity, digest user "w.<id>" with a password only that process knows. The leader reads
 * that ACL once per registration, and binds the identity: the assignments it then creates for
 * the worker (and assign/<id> itself) grant it, and nobody else of the workers, access. A
 * registration that names no such identity gets no work: with separate identities, a worker
 * that cannot prove who it is could not read its assignments anyway.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/acl.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/store.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "leader"

/* The own identity named by worker's registration (full rights, user "w.<id>") into id. */
static int identity_of(struct replica *r, const char *worker, char *id, size_t n,
                       struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    if (corral_path_worker(path, sizeof path, r->opts.ns, worker) != CORRAL_OK)
        return corral_error_set(err, CORRAL_EINVAL, NULL, "worker id too long");
    struct zk_acl_entry e[16];
    size_t k = 0;
    int rc = zk_get_acl(r->zk, path, e, sizeof e / sizeof e[0], &k, err);
    if (rc != CORRAL_OK)
        return rc;
    for (size_t i = 0; i < k; i++)
        if (strcmp(e[i].scheme, "digest") == 0 &&
            (e[i].perms & CORRAL_PERM_ALL) == CORRAL_PERM_ALL &&
            corral_digest_id_is_worker(e[i].id, worker)) {
            snprintf(id, n, "%s", e[i].id);
            return CORRAL_OK;
        }
    return corral_error_set(err, CORRAL_EFORBIDDEN, NULL,
                            "its registration's ACL names no identity w.%s", worker);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int leader_bind_workers(struct replica *r, struct worker_set *ws, struct corral_error *err)
{
    if (!zk_acl_has_setup(r->zk))
        return CORRAL_OK;
    struct leader *l = r->leader;
    /* The bound keys, sorted (kept so below): one lookup per worker, however many. */
    struct corral_strlist keys = {.items = corral_xcalloc(ws->n ? ws->n : 1, sizeof(char *))};
    size_t kept = 0;
    int rc = CORRAL_OK;
    for (size_t i = 0; i < ws->n; i++) {
        struct worker_info *w = &ws->items[i];
        char key[CORRAL_WORKER_ID_MAX + CORRAL_REG_MAX + 2];
        snprintf(key, sizeof key, "%s/%s", w->reg.id, w->reg.reg);
        const char *kp = key;
        bool ok = l->id_bound.n > 0 &&
                  bsearch(&kp, l->id_bound.items, l->id_bound.n, sizeof(char *), cmp_str) != NULL;
        if (!ok && rc == CORRAL_OK) {
            char id[CORRAL_DIGEST_ID_MAX + 1], dir[CORRAL_PATH_MAX];
            struct corral_error e = {0};
            int brc = identity_of(r, w->reg.id, id, sizeof id, &e);
            if (brc == CORRAL_OK) {
                zk_acl_bind_worker(r->zk, w->reg.id, id);
                /* Its folder: made now (the worker may not make it), or given this identity. */
                if (corral_path_assign_dir(dir, sizeof dir, r->opts.ns, w->reg.id) != CORRAL_OK)
                    brc = corral_error_set(&e, CORRAL_EINVAL, NULL, "worker id too long");
                if (brc == CORRAL_OK)
                    brc = zk_ensure_path(r->zk, dir, &e);
                if (brc == CORRAL_OK)
                    brc = zk_acl_fix(r->zk, dir, NULL, &e);
                if (brc == CORRAL_OK) {
                    CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s reg=%s identity bound", w->reg.id,
                               w->reg.reg);
                    ok = true;
                }
            }
            if (brc == CORRAL_EFORBIDDEN || brc == CORRAL_ENOTFOUND) {
                CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "worker-identity", key,
                                "worker=%s gets no work: %s", w->reg.id, e.msg);
            } else if (brc != CORRAL_OK) {
                rc = brc; /* ZooKeeper trouble: read the workers again next round */
                *err = e;
            }
        }
        if (ok) {
            keys.items[keys.n++] = corral_xstrdup(key);
            ws->items[kept++] = *w;
        } else {
            corral_worker_reg_cleanup(&w->reg);
        }
    }
    ws->n = kept;
    qsort(keys.items, keys.n, sizeof(char *), cmp_str);
    corral_strlist_cleanup(&l->id_bound);
    l->id_bound = keys;
    return rc;
}
