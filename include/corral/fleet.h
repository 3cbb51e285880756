/* SPDX-License-Identifier: MIT */
/*
 * Fleet control (CONTRACT "Fleet control", docs/operations.md): an operator's (or the leader's
 * failure rule's) decision about one worker, kept in the persistent znode fleet/<worker-id> so
 * that it survives the worker's restart. No record means active. This file is the record's only
 * encoder and decoder, and holds the decisions made from it: the state a worker shows, whether
 * it takes new work, and when repeated failures cordon it. Pure.
 */
#ifndef CORRAL_FLEET_H
#define CORRAL_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/assignment.h"
#include "corral/error.h"
#include "corral/worker_reg.h"

#define CORRAL_FLEET_REASON_MAX   200u
#define CORRAL_FLEET_DRAIN_MAX_S  86400u /* drain_timeout_s of a drain request: 0..1 day */
#define CORRAL_FLEET_FAILURES_MAX 1000000u

enum corral_fleet_state {
    CORRAL_FLEET_ACTIVE,   /* takes work */
    CORRAL_FLEET_CORDONED, /* takes no new work; running tasks go on */
    CORRAL_FLEET_DRAINING, /* cordoned, and its running tasks are returned after a timeout */
};

struct corral_fleet_rec {
    enum corral_fleet_state state; /* as requested (a drain's record stays "draining") */
    char reason[CORRAL_FLEET_REASON_MAX + 1];
    bool automatic; /* written by the leader's failure rule, not by an operator */
    int64_t at_ms;  /* wall clock of the request */
    bool has_drain_timeout;
    uint32_t drain_timeout_s; /* a drain's own timeout; else the worker's --drain-timeout */
    /* The failure streak an uncordon forgave: the streak of registration forgive_reg that began
     * after forgive_oks successes counts only beyond forgive_streak. */
    char forgive_reg[CORRAL_REG_MAX + 1];
    uint64_t forgive_oks;
    uint32_t forgive_streak;
};

/* "active", "cordoned", "draining". */
const char *corral_fleet_state_name(enum corral_fleet_state s);

/* Compact JSON text; caller frees. Never NULL. */
char *corral_fleet_encode(const struct corral_fleet_rec *rec);
/* Decode the data of fleet/<id>; strict about the fields it knows, ignores unknown ones. On
 * failure CORRAL_EINVAL with the field named and *out zeroed. */
CORRAL_NODISCARD int corral_fleet_decode(const char *buf, size_t len, struct corral_fleet_rec *out,
                                         struct corral_error *err);

/* The record an operator's cordon or drain request asks for (want: CORDONED or DRAINING): the
 * optional JSON body {"reason": text, "drain_timeout_s": 0..86400 (drain only)}; an empty body
 * is {}. Unknown fields, wrong types and bad values are CORRAL_EINVAL naming the field. */
CORRAL_NODISCARD int corral_fleet_request_parse(const char *body, size_t len,
                                                enum corral_fleet_state want, int64_t now_ms,
                                                struct corral_fleet_rec *out,
                                                struct corral_error *err);

/* Does a worker with this record (NULL: none) and registration take new work? A worker that
 * drains on SIGTERM (g->draining) takes none either. */
bool corral_fleet_takes_work(const struct corral_fleet_rec *rec, const struct corral_worker_reg *g);

/* The state GET /v1/workers shows: "draining" while a drain (requested, or on SIGTERM) still
 * has tasks, "cordoned" once it has none or when cordoned, else "active". */
enum corral_fleet_state corral_fleet_shown(const struct corral_fleet_rec *rec,
                                           const struct corral_worker_reg *g, uint32_t running);

/* The failure rule (corrald --cordon-after-failures N, 0 = off): should the leader cordon the
 * worker now? Only an active worker whose failures in a row, beyond what an uncordon forgave,
 * reached N. */
bool corral_fleet_should_cordon(const struct corral_fleet_rec *rec,
                                const struct corral_worker_reg *g, uint32_t threshold);

/* The record an uncordon leaves: active, forgiving the registration's current streak (so the
 * failure rule does not cordon it again at once); *out is overwritten. */
void corral_fleet_uncordoned(const struct corral_worker_reg *g, int64_t now_ms,
                             struct corral_fleet_rec *out);

#endif
