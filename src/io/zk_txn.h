/* SPDX-License-Identifier: MIT */
/*
 * Commit a core transaction (corral/txn.h, built by corral/ops.h) as one ZooKeeper multi. The
 * only way corral's programs write a state change: they decide nothing here, they execute.
 */
#ifndef CORRAL_IO_ZK_TXN_H
#define CORRAL_IO_ZK_TXN_H

#include "corral/txn.h"
#include "io/zk.h"

/*
 * All ops of t or none (zk_multi_commit's contract): 0, CORRAL_EFENCED (a FENCE op failed),
 * CORRAL_EEXIST / CORRAL_ENOTFOUND / CORRAL_ECONFLICT (a plain op failed; *failed_op, when not
 * NULL, gets its index in t), CORRAL_EUNKNOWN (reply lost: maybe applied), CORRAL_EUNAVAIL (not
 * sent), CORRAL_ETOOBIG (over CORRAL_TXN_MAX_OPS ops or CORRAL_TXN_WIRE_MAX bytes).
 */
CORRAL_NODISCARD int zk_txn_commit(struct zk *zk, const struct corral_txn *t, int *failed_op,
                                   struct corral_error *err);

#endif
