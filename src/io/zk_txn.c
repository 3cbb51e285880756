/* SPDX-License-Identifier: MIT */
/* A core transaction as one zoo_multi (zk_txn.h). */
#include <stdlib.h>

#include "corral/batch.h"
#include "corral/xalloc.h"
#include "io/zk_txn.h"

static bool too_big(const struct corral_txn *t, struct corral_error *err)
{
    if (t->n <= CORRAL_TXN_MAX_OPS && corral_txn_wire_bytes(t) <= CORRAL_TXN_WIRE_MAX)
        return false;
    corral_error_set(err, CORRAL_ETOOBIG, NULL,
                     "%s: %zu ops, about %zu bytes: over ZooKeeper's request limit", t->label, t->n,
                     corral_txn_wire_bytes(t));
    return true;
}

static struct zk_multi *to_multi(const struct corral_txn *t)
{
    struct zk_multi *m = zk_multi_new();
    zk_multi_label(m, t->label);
    for (size_t i = 0; i < t->n; i++) {
        const struct corral_op *op = &t->ops[i];
        switch (op->kind) {
            case CORRAL_OP_CREATE:
                zk_multi_create(m, op->path, op->data, op->len, ZK_PERSISTENT);
                break;
            case CORRAL_OP_DELETE:
                zk_multi_delete(m, op->path, op->version);
                break;
            case CORRAL_OP_SET:
                zk_multi_set(m, op->path, op->data, op->len, op->version);
                break;
            case CORRAL_OP_CHECK:
                zk_multi_check(m, op->path, op->version);
                break;
            case CORRAL_OP_FENCE:
                zk_multi_fence(m, op->path, op->version);
                break;
        }
    }
    return m;
}

int zk_txn_commit(struct zk *zk, const struct corral_txn *t, int *failed_op,
                  struct corral_error *err)
{
    if (failed_op)
        *failed_op = -1;
    if (too_big(t, err))
        return CORRAL_ETOOBIG;
    struct zk_multi *m = to_multi(t);
    int rc = zk_multi_commit(zk, m, failed_op, err);
    zk_multi_free(m);
    return rc;
}

void zk_txn_commit_many(struct zk *zk, const struct corral_txn *const *ts, size_t n, int *rcs,
                        int *failed_ops, struct corral_error *errs)
{
    struct zk_multi **ms = corral_xcalloc(n ? n : 1, sizeof *ms);
    /* Too big ones are answered here and sent as empty multis (answered OK, then replaced). */
    for (size_t i = 0; i < n; i++)
        ms[i] = too_big(ts[i], &errs[i]) ? zk_multi_new() : to_multi(ts[i]);
    zk_multi_commit_many(zk, ms, n, rcs, failed_ops, errs);
    for (size_t i = 0; i < n; i++) {
        if (zk_multi_count(ms[i]) == 0 && ts[i]->n > 0) {
            rcs[i] = CORRAL_ETOOBIG;
            failed_ops[i] = -1;
        }
        zk_multi_free(ms[i]);
    }
    free(ms);
}

void zk_txn_commit_members(struct zk *zk, const char *label, const struct corral_txn *ms, size_t n,
                           int *rcs, struct corral_error *errs)
{
    bool *pending = corral_xcalloc(n ? n : 1, sizeof *pending);
    struct corral_batch *bs = corral_xcalloc(n ? n : 1, sizeof *bs);
    size_t **who = corral_xcalloc(n ? n : 1, sizeof *who);
    for (size_t i = 0; i < n; i++)
        pending[i] = true;
    /* Every pass settles at least one member: at most n passes. */
    for (size_t pass = 0; pass < n; pass++) {
        size_t nb = 0;
        for (size_t i = 0; i < n; i++) {
            if (!pending[i])
                continue;
            if (nb == 0 || !corral_batch_add(&bs[nb - 1], &ms[i])) {
                corral_batch_init(&bs[nb], label, 0, 0);
                who[nb] = corral_xcalloc(CORRAL_BATCH_MAX_MEMBERS + 1, sizeof **who);
                (void)corral_batch_add(&bs[nb], &ms[i]);
                nb++;
            }
            who[nb - 1][bs[nb - 1].n_members - 1] = i;
        }
        if (nb == 0)
            break;
        const struct corral_txn **ts = corral_xcalloc(nb, sizeof *ts);
        int *brc = corral_xcalloc(nb, sizeof *brc);
        int *failed = corral_xcalloc(nb, sizeof *failed);
        struct corral_error *berr = corral_xcalloc(nb, sizeof *berr);
        for (size_t k = 0; k < nb; k++)
            ts[k] = &bs[k].txn;
        zk_txn_commit_many(zk, ts, nb, brc, failed, berr);
        for (size_t k = 0; k < nb; k++) {
            int owner = corral_batch_owner(&bs[k], failed[k]);
            for (size_t j = 0; j < bs[k].n_members; j++) {
                size_t i = who[k][j];
                /* Settled: the batch went through, or failed on this member's own op, or on
                 * something every member shares. Otherwise it goes again without the culprit. */
                if (brc[k] == CORRAL_OK || owner < 0 || (size_t)owner == j) {
                    pending[i] = false;
                    rcs[i] = brc[k];
                    if (brc[k] != CORRAL_OK)
                        errs[i] = berr[k];
                }
            }
            corral_batch_cleanup(&bs[k]);
            free(who[k]);
            who[k] = NULL;
        }
        free(ts);
        free(brc);
        free(failed);
        free(berr);
    }
    free(pending);
    free(bs);
    free(who);
}
