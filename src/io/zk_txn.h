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
/* Commit n transactions pipelined (zk_multi_commit_many): each all or nothing, each with its
 * own result, failed op and error. */
void zk_txn_commit_many(struct zk *zk, const struct corral_txn *const *ts, size_t n, int *rcs,
                        int *failed_ops, struct corral_error *errs);
/* Commit n independent changes packed into as few multis as fit (corral/batch.h), pipelined.
 * rcs[i]/errs[i] is member i's own result (failed_ops[i], if not NULL, the index of its own op
 * that failed, else -1): a multi that fails on one member's op is committed
 * again without it; a failure of a shared op (the fence) or of the whole multi (outcome
 * unknown, no session) is every member's result. */
void zk_txn_commit_members(struct zk *zk, const char *label, const struct corral_txn *ms, size_t n,
                           int *rcs, int *failed_ops, struct corral_error *errs);

/*
 * Group commit: concurrent callers' independent transactions go to ZooKeeper together, as
 * members of shared multis (zk_txn_commit_members: one failing member does not fail the
 * others). zk_group_commit blocks until its own transaction's result, with zk_txn_commit's
 * contract (failed_op indexes the caller's txn). Transactions that arrive while a group is in
 * flight form the next group. Thread-safe; zk_group_free only when no caller is left.
 */
struct zk_group;
struct zk_group *zk_group_new(struct zk *zk, const char *label);
void zk_group_free(struct zk_group *g);
CORRAL_NODISCARD int zk_group_commit(struct zk_group *g, const struct corral_txn *txn,
                                     int *failed_op, struct corral_error *err);
/* Groups committed so far, the transactions in them, the largest group. */
void zk_group_stats(struct zk_group *g, uint64_t *groups, uint64_t *members, uint64_t *largest);

#endif
