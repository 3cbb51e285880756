/* SPDX-License-Identifier: MIT */
/*
 * The one place where corrald persists a change: it commits a transaction built by the core
 * (corral/ops.h) and, when the change moves a task between states, logs it once as
 * "task=<id> state=<from>-><to> ..." (STYLE §6). Callable from any thread.
 */
#ifndef CORRALD_PERSIST_H
#define CORRALD_PERSIST_H

#include "corral/task.h"
#include "corral/txn.h"
#include "corrald/replica.h"

struct persist_change {
    const char *task;       /* task id, NULL for a change that moves no task */
    enum corral_state from; /* state before (ignored without task) */
    enum corral_state to;   /* state after */
    const char *detail;     /* extra "key=value ..." facts for the log line, may be NULL */
};

/* zk_txn_commit's result; logs the change (info) when it was applied. */
CORRAL_NODISCARD int persist_commit(struct replica *r, const struct corral_txn *txn,
                                    const struct persist_change *chg, int *failed_op,
                                    struct corral_error *err);

/* persist_commit, sent together with the concurrent callers' changes in shared multis (group
 * commit, r->submits): the same contract; only this change's own result is returned. */
CORRAL_NODISCARD int persist_commit_grouped(struct replica *r, const struct corral_txn *txn,
                                            const struct persist_change *chg, int *failed_op,
                                            struct corral_error *err);
/* Independent changes packed into shared multis (zk_txn_commit_members): each member's own
 * result in rcs/errs; the caller logs each applied change with persist_applied. */
void persist_commit_members(struct replica *r, const char *label, const struct corral_txn *ms,
                            size_t n, int *rcs, struct corral_error *errs);
/* Log a change that was applied. */
void persist_applied(const struct persist_change *chg);

#endif
