/* SPDX-License-Identifier: MIT */
/* corrald's single point of persisting a change (persist.h). */
#include "corrald/persist.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "persist"

void persist_applied(const struct persist_change *chg)
{
    if (chg && chg->task)
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s state=%s->%s%s%s", chg->task,
                   corral_state_name(chg->from), corral_state_name(chg->to), chg->detail ? " " : "",
                   chg->detail ? chg->detail : "");
}

int persist_commit(struct replica *r, const struct corral_txn *txn,
                   const struct persist_change *chg, int *failed_op, struct corral_error *err)
{
    int rc = zk_txn_commit(r->zk, txn, failed_op, err);
    if (rc == CORRAL_OK)
        persist_applied(chg);
    return rc;
}

int persist_commit_grouped(struct replica *r, const struct corral_txn *txn,
                           const struct persist_change *chg, int *failed_op,
                           struct corral_error *err)
{
    int rc = zk_group_commit(r->submits, txn, failed_op, err);
    if (rc == CORRAL_OK)
        persist_applied(chg);
    return rc;
}

void persist_commit_members(struct replica *r, const char *label, const struct corral_txn *ms,
                            size_t n, int *rcs, struct corral_error *errs)
{
    zk_txn_commit_members(r->zk, label, ms, n, rcs, NULL, errs);
}
