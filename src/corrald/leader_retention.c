/* SPDX-License-Identifier: MIT */
/*
 * Retention (leader_internal.h): finished tasks older than --retention are deleted with their
 * idempotency records (corral_ops_retire), one slice of the task buckets at a time so that no
 * round is held up by a full scan.
 */
#include <stdlib.h>

#include "corral/id.h"
#include "corral/ops.h"
#include "corral/paths.h"
#include "corrald/leader_internal.h"
#include "corrald/persist.h"
#include "corrald/store.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "leader"

/* Task buckets swept per call (a full pass takes CORRAL_BUCKETS / this many calls). */
#define RETENTION_SLICE 16u

int leader_sweep_retention(struct replica *r, int64_t now_wall, struct corral_error *err)
{
    struct leader *l = r->leader;
    int64_t horizon = now_wall - r->opts.retention_s * 1000;
    const char *paths[RETENTION_SLICE];
    char dirs[RETENTION_SLICE][CORRAL_PATH_MAX];
    for (unsigned k = 0; k < RETENTION_SLICE; k++) {
        unsigned b = (l->retention_cursor + k) % CORRAL_BUCKETS;
        if (corral_path_task_bucket(dirs[k], sizeof dirs[k], r->opts.ns, b) != CORRAL_OK)
            abort();
        paths[k] = dirs[k];
    }
    l->retention_cursor = (l->retention_cursor + RETENTION_SLICE) % CORRAL_BUCKETS;
    struct corral_strlist lists[RETENTION_SLICE] = {{0}};
    int rc = zk_children_many(r->zk, paths, RETENTION_SLICE, lists, err);
    size_t deleted = 0;
    for (unsigned k = 0; rc == CORRAL_OK && k < RETENTION_SLICE; k++) {
        for (size_t i = 0; rc == CORRAL_OK && i < lists[k].n; i++) {
            /* Ids begin with their submission time: a task submitted after the horizon
             * cannot have finished before it. */
            int64_t submitted = corral_id_time_ms(lists[k].items[i]);
            if (submitted < 0 || submitted >= horizon)
                continue;
            struct corral_task t = {0};
            int32_t version = -1;
            char tpath[CORRAL_PATH_MAX];
            if (corral_path_child(tpath, sizeof tpath, dirs[k], lists[k].items[i]) == CORRAL_OK &&
                store_read_task(r, tpath, &t, &version, err) == CORRAL_OK &&
                corral_state_is_final(t.state) && t.finished_at_ms >= 0 &&
                t.finished_at_ms < horizon) {
                struct corral_txn txn;
                corral_txn_init(&txn, "leader.retention");
                int drc = corral_ops_retire(&txn, r->opts.ns, r->el.node, &t, version);
                if (drc == CORRAL_OK)
                    drc = persist_commit(r, &txn, NULL, NULL, err);
                corral_txn_cleanup(&txn);
                if (drc == CORRAL_OK)
                    deleted++;
                else if (drc == CORRAL_EFENCED)
                    rc = drc;
            }
            if (rc != CORRAL_EFENCED)
                corral_error_clear(err);
            corral_task_cleanup(&t);
        }
    }
    for (unsigned k = 0; k < RETENTION_SLICE; k++)
        corral_strlist_cleanup(&lists[k]);
    if (deleted)
        CORRAL_LOG(CORRAL_LOG_INFO, "retention removed tasks=%zu", deleted);
    return rc == CORRAL_EFENCED ? rc : CORRAL_OK;
}
