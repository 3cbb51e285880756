/* SPDX-License-Identifier: MIT */
/*
 * Fleet control through the API (CONTRACT "Fleet control"): cordon, drain and uncordon write
 * the persistent record fleet/<id> (corral/fleet.h) from any replica, unfenced like a submit:
 * an operator's decision does not wait for a leader. The leader stops assigning to the worker
 * when its watch on fleet/ fires; the worker watches its own record to drain.
 */
#ifndef CORRALD_FLEET_CTL_H
#define CORRALD_FLEET_CTL_H

#include <jansson.h>

#include "corral/access.h"
#include "corral/fleet.h"
#include "corrald/replica.h"

/* op is CORRAL_EP_WORKER_CORDON, _DRAIN (want: the parsed request) or _UNCORDON (want unused).
 * *out: the worker as GET /v1/workers shows it after the change. Cordon and drain need a live
 * worker (CORRAL_ENOTFOUND otherwise); uncordon also clears the record of one that is gone. */
CORRAL_NODISCARD int fleet_ctl(struct replica *r, const char *id, enum corral_endpoint op,
                               const struct corral_fleet_rec *want, json_t **out,
                               struct corral_error *err);

#endif
