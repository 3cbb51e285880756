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

static void commit_pass(void *ctx, const struct corral_txn *const *ts, size_t n, int *rcs,
                        int *failed_ops, struct corral_error *errs)
{
    zk_txn_commit_many(ctx, ts, n, rcs, failed_ops, errs);
}

void zk_txn_commit_members(struct zk *zk, const char *label, const struct corral_txn *ms, size_t n,
                           int *rcs, int *failed_ops, struct corral_error *errs)
{
    corral_batch_commit_members(label, ms, n, commit_pass, zk, rcs, failed_ops, errs);
}
