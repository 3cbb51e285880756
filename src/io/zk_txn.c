/* SPDX-License-Identifier: MIT */
/* A core transaction as one zoo_multi (zk_txn.h). */
#include "io/zk_txn.h"

int zk_txn_commit(struct zk *zk, const struct corral_txn *t, int *failed_op,
                  struct corral_error *err)
{
    if (failed_op)
        *failed_op = -1;
    if (t->n > CORRAL_TXN_MAX_OPS || corral_txn_wire_bytes(t) > CORRAL_TXN_WIRE_MAX)
        return corral_error_set(err, CORRAL_ETOOBIG, NULL,
                                "%s: %zu ops, about %zu bytes: over ZooKeeper's request limit",
                                t->label, t->n, corral_txn_wire_bytes(t));
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
    int rc = zk_multi_commit(zk, m, failed_op, err);
    zk_multi_free(m);
    return rc;
}
