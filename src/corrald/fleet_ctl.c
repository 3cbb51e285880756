/* SPDX-License-Identifier: MIT */
/* Fleet control requests (fleet_ctl.h): the record fleet/<id> written by any replica. */
#include <stdlib.h>
#include <string.h>

#include "corral/ops.h"
#include "corral/txn.h"
#include "corrald/fleet_ctl.h"
#include "corrald/persist.h"
#include "corrald/workers.h"
#include "io/clock.h"
#include "io/log.h"

#define CORRAL_LOG_MODULE "fleet"

/* Store data (NULL: delete) as fleet/<id>, whether a record exists or not (another replica may
 * write it at the same moment: the last request wins, as with two operators). */
static int put(struct replica *r, const char *id, const char *data, bool exists,
               struct corral_error *err)
{
    int rc = CORRAL_ECONFLICT;
    for (int tries = 0; tries < 3; tries++) {
        struct corral_txn txn;
        corral_txn_init(&txn, "api.fleet");
        rc = corral_ops_fleet_write(&txn, r->opts.ns, NULL, id, data, exists, -1);
        if (rc == CORRAL_OK)
            rc = persist_commit(r, &txn, NULL, NULL, err);
        corral_txn_cleanup(&txn);
        if (!data || (rc != CORRAL_EEXIST && rc != CORRAL_ENOTFOUND))
            break;
        exists = rc == CORRAL_EEXIST; /* written or removed meanwhile: the other op */
        corral_error_clear(err);
    }
    return rc;
}

int fleet_ctl(struct replica *r, const char *id, enum corral_endpoint op,
              const struct corral_fleet_rec *want, json_t **out, struct corral_error *err)
{
    *out = NULL;
    struct worker_set ws = {0};
    int rc = workers_load(r, &ws, false, true, err);
    if (rc != CORRAL_OK)
        return rc;
    struct worker_info *w = workers_find(&ws, id);
    struct corral_fleet_rec rec = {0};
    char *data = NULL;
    if (op == CORRAL_EP_WORKER_UNCORDON) {
        if (w && w->reg.fail_streak > 0) {
            corral_fleet_uncordoned(&w->reg, clock_wall_ms(), &rec);
            data = corral_fleet_encode(&rec);
        }
        if (w && !w->has_fleet && !data) {
            rc = CORRAL_OK; /* active already, nothing forgiven: nothing to write */
        } else {
            rc = put(r, id, data, w && w->has_fleet, err);
            if (rc == CORRAL_ENOTFOUND && w) {
                corral_error_clear(err); /* uncordoned meanwhile */
                rc = CORRAL_OK;
            } else if (rc == CORRAL_ENOTFOUND) {
                rc = corral_error_set(err, CORRAL_ENOTFOUND, "id",
                                      "no worker with that id (not live, not cordoned)");
            }
        }
    } else if (!w) {
        rc = corral_error_set(err, CORRAL_ENOTFOUND, "id", "no live worker with that id");
    } else {
        rec = *want;
        data = corral_fleet_encode(&rec);
        rc = put(r, id, data, w->has_fleet, err);
    }
    free(data);
    if (rc == CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s %s%s%s", id,
                   op == CORRAL_EP_WORKER_UNCORDON ? "uncordoned"
                   : op == CORRAL_EP_WORKER_DRAIN  ? "drain requested"
                                                   : "cordoned",
                   rec.reason[0] ? " reason=" : "", rec.reason);
        if (w) {
            w->has_fleet = data != NULL || op != CORRAL_EP_WORKER_UNCORDON;
            w->fleet = rec;
            *out = workers_to_json(w);
        } else {
            *out = json_pack("{s:s, s:s, s:b}", "id", id, "state", "active", "live", 0);
        }
    }
    workers_cleanup(&ws);
    return rc;
}
