/* SPDX-License-Identifier: MIT */
/*
 * With separate worker identities (corrald --zk-worker-auth-file): give the namespace the ACLs
 * of corral/acl.h (store.h). A namespace made this way already has them: a check of its
 * folders, a few round trips. One made without them (or by an older corral) is brought over
 * once: every folder below that the workers use, every task, the done index, the feed's
 * generations and the fleet records get their rule's ACL, and workers/ comes last, so that a
 * start cut off in the middle does it all again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/acl.h"
#include "corral/paths.h"
#include "corrald/store.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "store"

/* Fix every child of dir (and, depth > 1, their children, ...). *n counts the nodes changed. */
static int fix_below(struct replica *r, const char *dir, int depth, size_t *n,
                     struct corral_error *err)
{
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return CORRAL_OK;
    }
    for (size_t i = 0; rc == CORRAL_OK && i < kids.n; i++) {
        char path[CORRAL_PATH_MAX];
        if (corral_path_child(path, sizeof path, dir, kids.items[i]) != CORRAL_OK)
            continue;
        bool changed = false;
        rc = zk_acl_fix(r->zk, path, &changed, err);
        if (rc == CORRAL_ENOTFOUND) { /* gone meanwhile */
            corral_error_clear(err);
            rc = CORRAL_OK;
            continue;
        }
        *n += changed;
        if (rc == CORRAL_OK && depth > 1)
            rc = fix_below(r, path, depth - 1, n, err);
    }
    corral_strlist_cleanup(&kids);
    return rc;
}

/* The replicas' ids in the data of workers/, for the workers' ACLs (corral/acl.h). */
static int publish_ids(struct replica *r, const char *workers, struct corral_error *err)
{
    const char *ids[] = {r->acl_replica_id};
    char *want = corral_acl_replicas_encode(ids, 1);
    char *have = NULL;
    size_t len = 0;
    int rc = zk_get(r->zk, workers, false, &have, &len, NULL, err);
    if (rc == CORRAL_OK && (len != strlen(want) || memcmp(have, want, len) != 0))
        rc = zk_set(r->zk, workers, want, strlen(want), -1, err);
    free(have);
    free(want);
    return rc;
}

int store_fix_acls(struct replica *r, struct corral_error *err)
{
    if (!zk_acl_has_setup(r->zk))
        return CORRAL_OK;
    char workers[CORRAL_PATH_MAX], path[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_WORKERS, workers);
    bool same = false;
    int rc = publish_ids(r, workers, err);
    if (rc == CORRAL_OK)
        rc = zk_acl_matches(r->zk, workers, &same, err);
    if (rc != CORRAL_OK || same)
        return rc;
    CORRAL_LOG(CORRAL_LOG_INFO,
               "namespace=%s: giving its znodes the ACLs of separate worker "
               "identities (once)",
               r->opts.ns);
    size_t n = 0;
    rc = zk_acl_fix(r->zk, r->opts.ns, NULL, err);
    for (int d = 0; rc == CORRAL_OK && d < CORRAL_DIR_COUNT; d++) {
        if (d == CORRAL_DIR_WORKERS)
            continue;
        store_dir_path(r, (enum corral_dir)d, path);
        bool changed = false;
        rc = zk_acl_fix(r->zk, path, &changed, err);
        n += changed;
        if (rc != CORRAL_OK)
            break;
        switch ((enum corral_dir)d) {
            case CORRAL_DIR_QUEUE:  /* the buckets */
            case CORRAL_DIR_EVENTS: /* the generations */
            case CORRAL_DIR_FLEET:  /* the records */
            case CORRAL_DIR_ASSIGN: /* the folders (the leader binds identities later) */
                rc = fix_below(r, path, 1, &n, err);
                break;
            case CORRAL_DIR_TASKS: /* the buckets and every task */
                rc = fix_below(r, path, 2, &n, err);
                break;
            case CORRAL_DIR_DONE: /* hours, minutes, slots */
                rc = fix_below(r, path, 3, &n, err);
                break;
            default:
                break;
        }
    }
    if (rc == CORRAL_OK)
        rc = zk_acl_fix(r->zk, workers, NULL, err);
    if (rc == CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_INFO, "namespace=%s: ACLs of %zu znodes changed", r->opts.ns, n + 1);
    return rc;
}
