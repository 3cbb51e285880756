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

#include <jansson.h>

#include "corral/opts.h"
#include "corrald/election.h"
#include "corrald/store.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "election"

bool election_parse_seq(const char *name, uint64_t *seq)
{
    const char *dash = strrchr(name, '-');
    if (strncmp(name, "n_", 2) != 0 || !dash || strlen(dash + 1) != 10)
        return false;
    uint64_t v = 0;
    for (const char *p = dash + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *seq = v;
    return true;
}

void election_reset(struct replica *r)
{
    r->el.node[0] = '\0';
    r->el.is_leader = false;
    atomic_store(&r->leading, false);
}

static int adopt_orphan(struct replica *r, const char *dir, struct corral_error *err)
{
    struct corral_strlist kids = {0};
    int rc = zk_children(r->zk, dir, false, &kids, err);
    if (rc != CORRAL_OK)
        return rc;
    for (size_t i = 0; i < kids.n; i++) {
        if (strstr(kids.items[i], r->el.uuid)) {
            (void)store_child(r->el.node, dir, kids.items[i]);
            CORRAL_LOG(CORRAL_LOG_INFO, "adopted election node after lost reply node=%s",
                       r->el.node);
            break;
        }
    }
    corral_strlist_cleanup(&kids);
    return CORRAL_OK;
}

int election_join(struct replica *r, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_ns_path(r, "election", dir);
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
    json_t *info = json_object();
    json_object_set_new(info, "id", json_string(r->opts.id));
    json_object_set_new(info, "url", json_string(r->advertise));
    char *data = json_dumps(info, CORRAL_JSON_DUMP_FLAGS);
    json_decref(info);
    if (!data)
        abort();
    int rc = CORRAL_EUNAVAIL;
    for (int attempt = 0; attempt < 5 && !r->el.node[0]; attempt++) {
        snprintf(r->el.uuid, sizeof r->el.uuid, "%016" PRIx64 "%016" PRIx64, rand_u64(),
                 rand_u64());
        char name[48], path[CORRAL_PATH_MAX];
        snprintf(name, sizeof name, "n_%s-", r->el.uuid);
        (void)store_child(path, dir, name);
        corral_error_clear(err);
        rc = zk_create(r->zk, path, data, strlen(data), ZK_EPHEMERAL | ZK_SEQUENCE, r->el.node,
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

static void set_leading(struct replica *r, bool leading, uint64_t epoch)
{
    if (leading && !r->el.is_leader)
        CORRAL_LOG(CORRAL_LOG_INFO, "became leader id=%s epoch=%" PRIu64, r->opts.id, epoch);
    else if (!leading && r->el.is_leader)
        CORRAL_LOG(CORRAL_LOG_WARN, "no longer leader id=%s", r->opts.id);
    r->el.is_leader = leading;
    r->el.epoch = leading ? epoch : 0;
    atomic_store(&r->epoch, leading ? epoch : 0);
    atomic_store(&r->leading, leading);
}

int election_check(struct replica *r, struct corral_error *err)
{
    char dir[CORRAL_PATH_MAX];
    store_ns_path(r, "election", dir);
    for (int round = 0; round < 10; round++) {
        if (!r->el.node[0]) {
            set_leading(r, false, 0);
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
            set_leading(r, false, 0);
            return rc;
        }
        const char *own = strrchr(r->el.node, '/') + 1;
        uint64_t own_seq = 0;
        bool found = false, lowest = true;
        const char *pred = NULL;
        uint64_t pred_seq = 0;
        (void)election_parse_seq(own, &own_seq);
        for (size_t i = 0; i < kids.n; i++) {
            uint64_t seq;
            if (!election_parse_seq(kids.items[i], &seq))
                continue;
            if (strcmp(kids.items[i], own) == 0) {
                found = true;
                continue;
            }
            if (seq < own_seq) {
                lowest = false;
                if (!pred || seq > pred_seq) {
                    pred = kids.items[i];
                    pred_seq = seq;
                }
            }
        }
        char pred_path[CORRAL_PATH_MAX] = "";
        if (pred)
            (void)store_child(pred_path, dir, pred);
        corral_strlist_cleanup(&kids);
        if (!found) {
            /* Our node is gone (session expired and recreated?): join again. */
            election_reset(r);
            continue;
        }
        if (lowest) {
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
                set_leading(r, false, 0);
                return rc;
            }
            bool mine = owner == zk_session_id(r->zk);
            set_leading(r, mine, own_seq + 1);
            if (!mine) {
                election_reset(r);
                continue;
            }
            return CORRAL_OK;
        }
        set_leading(r, false, 0);
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
