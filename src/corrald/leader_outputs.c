/* SPDX-License-Identifier: MIT */
/*
 * The leader removes live-output records (output/<id>, corral/output.h) nobody needs any more:
 * every LEADER_OUTPUTS_PERIOD_MS it lists output/ (one record per task that was followed while
 * it ran: few) and deletes, fenced and at the version read, each record whose attempt ended
 * over a minute ago, or that was not written for ten minutes (a worker that died mid-attempt;
 * a newer attempt writes its record afresh).
 */
#include <stdlib.h>

#include "corral/ops.h"
#include "corral/output.h"
#include "corral/paths.h"
#include "corral/xalloc.h"
#include "corrald/leader_internal.h"
#include "corrald/store.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "leader"

#define FINAL_KEEP_MS (60 * 1000)
#define STALE_MS      (10 * 60 * 1000)
#define PER_TICK      512u

int leader_outputs_tick(struct replica *r, int64_t now_mono, int64_t now_wall,
                        struct corral_error *err)
{
    struct leader *l = r->leader;
    if (l->outputs_last_ms >= 0 && now_mono - l->outputs_last_ms < LEADER_OUTPUTS_PERIOD_MS)
        return CORRAL_OK;
    l->outputs_last_ms = now_mono;
    char dir[CORRAL_PATH_MAX];
    store_dir_path(r, CORRAL_DIR_OUTPUT, dir);
    struct corral_strlist names = {0};
    int rc = zk_children(r->zk, dir, false, &names, err);
    if (rc != CORRAL_OK || names.n == 0) {
        corral_strlist_cleanup(&names);
        return rc == CORRAL_ENOTFOUND ? (corral_error_clear(err), CORRAL_OK) : rc;
    }
    size_t n = names.n < PER_TICK ? names.n : PER_TICK;
    char(*paths)[CORRAL_PATH_MAX] = corral_xcalloc(n, CORRAL_PATH_MAX);
    const char **ptrs = corral_xcalloc(n, sizeof *ptrs);
    struct zk_got *got = corral_xcalloc(n, sizeof *got);
    for (size_t i = 0; i < n; i++) {
        if (corral_path_child(paths[i], CORRAL_PATH_MAX, dir, names.items[i]) != CORRAL_OK)
            paths[i][0] = '\0';
        ptrs[i] = paths[i];
    }
    zk_get_many(r->zk, ptrs, n, false, got);
    struct corral_txn *ts = corral_xcalloc(n, sizeof *ts);
    const struct corral_txn **tps = corral_xcalloc(n, sizeof *tps);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (got[i].rc != CORRAL_OK)
            continue;
        struct corral_output o;
        bool ok = corral_output_decode(got[i].data, got[i].len, &o, NULL) == CORRAL_OK;
        int64_t age = now_wall - got[i].mtime_ms;
        if (!((ok && o.final && age > FINAL_KEEP_MS) || age > STALE_MS))
            continue;
        corral_txn_init(&ts[k], "leader.output_drop");
        if (corral_ops_output_drop(&ts[k], r->opts.ns, r->el.node, names.items[i],
                                   got[i].version) == CORRAL_OK)
            tps[k] = &ts[k], k++;
        else
            corral_txn_cleanup(&ts[k]);
    }
    if (k > 0) {
        int *rcs = corral_xcalloc(k, sizeof *rcs), *failed = corral_xcalloc(k, sizeof *failed);
        struct corral_error *errs = corral_xcalloc(k, sizeof *errs);
        zk_txn_commit_many(r->zk, tps, k, rcs, failed, errs);
        size_t dropped = 0;
        for (size_t i = 0; i < k; i++) {
            if (rcs[i] == CORRAL_OK)
                dropped++;
            else if (rcs[i] == CORRAL_EFENCED && rc == CORRAL_OK)
                rc = rcs[i], *err = errs[i];
            /* A record written meanwhile (version) or gone: the next tick decides again. */
        }
        CORRAL_LOG(CORRAL_LOG_DEBUG, "output records removed=%zu", dropped);
        free(errs);
        free(failed);
        free(rcs);
    }
    for (size_t i = 0; i < k; i++)
        corral_txn_cleanup(&ts[i]);
    for (size_t i = 0; i < n; i++)
        zk_got_cleanup(&got[i]);
    free(tps);
    free(ts);
    free(got);
    free(ptrs);
    free(paths);
    corral_strlist_cleanup(&names);
    return rc;
}
