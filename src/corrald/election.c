/* SPDX-License-Identifier: MIT */
/*
 * Leader election (see election.h). Guards against the classic failures: a herd of watches
 * (each replica watches only its predecessor), an orphan node after a lost create reply (the
 * uuid in the name lets us adopt it), and two leaders after a reconnect (leadership is only
 * claimed after a sync shows our own live node as the lowest).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corral/election.h"
#include "corral/paths.h"
#include "corral/strlist.h"
#include "corrald/beat.h"
#include "corrald/election.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"
#include "io/log_once.h"

#define CORRAL_LOG_MODULE "election"

void election_set_leading(struct replica *r, bool leading, uint64_t epoch, const char *why)
{
    if (leading && !r->el.is_leader) {
        CORRAL_LOG(CORRAL_LOG_INFO, "became leader id=%s epoch=%" PRIu64, r->opts.id, epoch);
        atomic_fetch_add(&r->n_elections, 1);
    } else if (!leading && r->el.is_leader)
        CORRAL_LOG(CORRAL_LOG_WARN, "no longer leader id=%s: %s", r->opts.id, why);
    r->el.is_leader = leading;
    r->el.epoch = leading ? epoch : 0;
    atomic_store(&r->epoch, leading ? epoch : 0);
    atomic_store(&r->leading, leading);
    beat_set(r->beat, leading ? r->el.node : NULL, leading ? epoch : 0);
}

void election_reset(struct replica *r)
{
    election_set_leading(r, false, 0, "election node gone");
    r->el.node[0] = '\0';
}

bool election_owns_path(const struct replica *r, const char *path)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ELECTION, dir);
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* After a lost create reply: our node may exist; find it by our uuid. */
static int adopt_orphan(struct replica *r, const char *dir, struct corral_error *err)
{
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc != CORRAL_OK)
        return rc;
    long i = corral_election_find_uuid(kids.items, kids.n, r->el.uuid);
    if (i >= 0 && corral_path_child(r->el.node, sizeof r->el.node, dir, kids.items[i]) == CORRAL_OK)
        CORRAL_LOG(CORRAL_LOG_INFO, "adopted election node after lost reply node=%s", r->el.node);
    corral_strlist_cleanup(&kids);
    return CORRAL_OK;
}

int election_join(struct replica *r, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ELECTION, dir);
    if (r->el.node[0]) {
        int64_t owner = 0;
        char *data = NULL;
        int rc = zk_get_meta(r->zk, r->el.node, &data, NULL, NULL, NULL, &owner, err);
        free(data);
        if (rc == CORRAL_OK && owner == zk_session_id(r->zk))
            return CORRAL_OK;
        if (rc != CORRAL_OK && rc != CORRAL_ENOTFOUND)
            return rc;
        corral_error_clear(err);
        election_reset(r);
    }
    struct corral_replica_info info = {0};
    snprintf(info.id, sizeof info.id, "%s", r->opts.id);
    snprintf(info.url, sizeof info.url, "%s", r->advertise);
    char *data = corral_replica_info_encode(&info);
    int rc = CORRAL_EUNAVAIL;
    for (int attempt = 0; attempt < 5 && !r->el.node[0]; attempt++) {
        snprintf(r->el.uuid, sizeof r->el.uuid, "%016" PRIx64 "%016" PRIx64, rand_u64(),
                 rand_u64());
        char prefix[CORRAL_PATH_MAX];
        if (corral_path_election_prefix(prefix, sizeof prefix, r->opts.ns, r->el.uuid) != CORRAL_OK)
            abort(); /* a validated namespace and a 32-digit uuid always fit */
        corral_error_clear(err);
        rc = zk_create(r->zk, prefix, data, strlen(data), ZK_EPHEMERAL | ZK_SEQUENCE, r->el.node,
                       sizeof r->el.node, err);
        if (rc == CORRAL_OK)
            break;
        r->el.node[0] = '\0';
        if (rc != CORRAL_EUNKNOWN)
            break;
        /* Lost reply: the node may exist. Find it by our uuid rather than leave an orphan
         * ahead of us in the line. */
        if (zk_wait_connected(r->zk, 5000, err) != CORRAL_OK)
            break;
        corral_error_clear(err);
        rc = adopt_orphan(r, dir, err);
    }
    free(data);
    if (r->el.node[0]) {
        CORRAL_LOG(CORRAL_LOG_INFO, "joined election node=%s", r->el.node);
        return CORRAL_OK;
    }
    return rc != CORRAL_OK ? rc
                           : corral_error_set(err, CORRAL_EUNAVAIL, NULL, "cannot join election");
}

/* Log, once each, the children of election/ that corral did not make (they are no candidates:
 * corral_election_judge and corral_election_lowest pass over names that do not parse). */
static void note_odd_names(const struct corral_strlist *kids)
{
    for (size_t i = 0; i < kids->n; i++) {
        uint64_t seq;
        if (!corral_election_parse_name(kids->items[i], &seq))
            CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "election-name", kids->items[i],
                            "ignoring election child with an odd name name=%.64s", kids->items[i]);
    }
}

/*
 * Is the child name of dir a live candidate (an ephemeral node)? CORRAL_OK with *live, or a
 * read failure. A persistent child (ephemeralOwner 0: made by hand or by a bug) would stay the
 * lowest node for ever and block the election: it is no candidate, and is logged once. A child
 * gone meanwhile is not live either.
 */
static int child_is_live(struct zk *zk, const char *dir, const char *name, bool *live,
                         struct corral_error *err)
{
    char path[CORRAL_PATH_MAX];
    *live = false;
    if (corral_path_child(path, sizeof path, dir, name) != CORRAL_OK)
        return CORRAL_OK;
    int64_t owner = 0;
    char *data = NULL;
    int rc = zk_get_meta(zk, path, &data, NULL, NULL, NULL, &owner, err);
    free(data);
    if (rc == CORRAL_ENOTFOUND) {
        corral_error_clear(err);
        return CORRAL_OK;
    }
    if (rc != CORRAL_OK)
        return rc;
    if (owner == 0)
        CORRAL_LOG_ONCE(CORRAL_LOG_WARN, "election-persistent", name,
                        "ignoring persistent election child (not a replica; delete it) name=%s",
                        name);
    *live = owner != 0;
    return CORRAL_OK;
}

int election_live_lowest(struct zk *zk, const char *dir, struct corral_strlist *kids,
                         uint64_t *epoch, struct corral_error *err)
{
    *epoch = 0;
    /* Each pass drops one name: at most kids->n reads, one in the usual case. */
    for (;;) {
        long i = corral_election_lowest(kids->items, kids->n, epoch);
        if (i < 0)
            return CORRAL_OK;
        bool live = false;
        int rc = child_is_live(zk, dir, kids->items[i], &live, err);
        if (rc != CORRAL_OK || live)
            return rc;
        corral_strlist_remove(kids, kids->items[i]);
    }
}

static int election_check_once(struct replica *r, const char *dir, struct corral_strlist *squat,
                               struct corral_error *err);

int election_check(struct replica *r, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_ELECTION, dir);
    /* Persistent children found below us in this call: no candidates (child_is_live). */
    struct corral_strlist squat = {0};
    int result = election_check_once(r, dir, &squat, err);
    corral_strlist_cleanup(&squat);
    return result;
}

static int election_check_once(struct replica *r, const char *dir, struct corral_strlist *squat,
                               struct corral_error *err)
{
    for (int round = 0; round < 10; round++) {
        if (!r->el.node[0]) {
            election_set_leading(r, false, 0, "not in the election");
            int rc = election_join(r, err);
            if (rc != CORRAL_OK)
                return rc;
        }
        /* See every change acknowledged before now (a reconnect may have served us stale). */
        int rc = zk_sync(r->zk, dir, err);
        struct corral_strlist kids = {0};
        if (rc == CORRAL_OK)
            rc = zk_children(r->zk, dir, false, &kids, err);
        if (rc != CORRAL_OK) {
            election_set_leading(r, false, 0, "cannot read the election");
            return rc;
        }
        note_odd_names(&kids);
        for (size_t i = 0; i < squat->n; i++)
            (void)corral_strlist_remove(&kids, squat->items[i]);
        struct corral_election_judgement j;
        corral_election_judge(kids.items, kids.n, strrchr(r->el.node, '/') + 1, &j);
        char pred_name[CORRAL_PATH_MAX] = "";
        if (j.predecessor >= 0)
            snprintf(pred_name, sizeof pred_name, "%s", kids.items[j.predecessor]);
        char pred_path[CORRAL_PATH_MAX] = "";
        if (j.predecessor >= 0 && corral_path_child(pred_path, sizeof pred_path, dir,
                                                    kids.items[j.predecessor]) != CORRAL_OK)
            pred_path[0] = '\0';
        corral_strlist_cleanup(&kids);
        if (!j.found) {
            /* Our node is gone (session expired and recreated?): join again. */
            election_reset(r);
            continue;
        }
        if (j.lowest) {
            int64_t owner = 0;
            char *data = NULL;
            rc = zk_get_meta(r->zk, r->el.node, &data, NULL, NULL, NULL, &owner, err);
            free(data);
            if (rc == CORRAL_ENOTFOUND) {
                corral_error_clear(err);
                election_reset(r);
                continue;
            }
            if (rc != CORRAL_OK) {
                election_set_leading(r, false, 0, "cannot read our election node");
                return rc;
            }
            if (owner != zk_session_id(r->zk)) {
                election_reset(r);
                continue;
            }
            election_set_leading(r, true, j.epoch, "");
            return CORRAL_OK;
        }
        /* A predecessor that is no replica (a persistent squatter) never goes away: pass over
         * it. This does not count as a round: each squatter is found once per call. */
        bool live = false;
        rc = child_is_live(r->zk, dir, pred_name, &live, err);
        if (rc != CORRAL_OK) {
            election_set_leading(r, false, 0, "cannot read our predecessor");
            return rc;
        }
        if (!live) {
            corral_strlist_add(squat, pred_name);
            round--;
            continue;
        }
        election_set_leading(r, false, 0, "a lower election node exists");
        /* Watch only our predecessor; if it vanished meanwhile, look again. */
        rc = zk_exists(r->zk, pred_path, true, NULL, err);
        if (rc == CORRAL_ENOTFOUND) {
            corral_error_clear(err);
            continue;
        }
        return rc;
    }
    return corral_error_set(err, CORRAL_EUNAVAIL, NULL, "election did not settle");
}
