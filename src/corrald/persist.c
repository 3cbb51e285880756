/* SPDX-License-Identifier: MIT */
/* corrald's single point of persisting a change (persist.h). */
#include "corrald/persist.h"
#include "io/log.h"
#include "io/zk_txn.h"

#define CORRAL_LOG_MODULE "persist"

int persist_commit(struct replica *r, const struct corral_txn *txn,
                   const struct persist_change *chg, int *failed_op, struct corral_error *err)
{
    int rc = zk_txn_commit(r->zk, txn, failed_op, err);
    if (rc == CORRAL_OK && chg && chg->task)
        CORRAL_LOG(CORRAL_LOG_INFO, "task=%s state=%s->%s%s%s", chg->task,
                   corral_state_name(chg->from), corral_state_name(chg->to), chg->detail ? " " : "",
                   chg->detail ? chg->detail : "");
    return rc;
}
