/* SPDX-License-Identifier: MIT */
/*
 * Misfire and overlap decisions of cron schedules (issue 10 "Time and order"): which fire times
 * to create after fires were missed (no leader, or paused), and what to do when a fire comes
 * while the previous fire's task is unfinished. Pure decisions; nothing uses them yet.
 */
#ifndef CORRAL_MISFIRE_H
#define CORRAL_MISFIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/cron.h"
#include "corral/error.h"
#include "corral/tz.h"

#define CORRAL_MISFIRE_MAX_FIRES    1000u           /* fires created by one decision */
#define CORRAL_MISFIRE_MAX_WINDOW_S (366LL * 86400) /* catchup_window_s at most */

enum corral_misfire {
    CORRAL_MISFIRE_SKIP,      /* missed fires are dropped */
    CORRAL_MISFIRE_FIRE_ONCE, /* one fire for all of them (default) */
    CORRAL_MISFIRE_FIRE_ALL,  /* each, up to catchup_window_s back */
};

enum corral_overlap {
    CORRAL_OVERLAP_ALLOW,           /* run alongside the previous */
    CORRAL_OVERLAP_SKIP,            /* drop this fire (default) */
    CORRAL_OVERLAP_QUEUE,           /* wait for the previous; at most one waiting */
    CORRAL_OVERLAP_CANCEL_PREVIOUS, /* cancel the previous, then fire */
};

struct corral_misfire_policy {
    enum corral_misfire misfire;
    int64_t catchup_window_s; /* fire_all: fires older than now minus this are dropped */
    int64_t grace_ms;         /* a due fire at most this late is on time, not missed */
};

struct corral_misfire_plan {
    uint32_t n_fires;                           /* fire times to create, ascending */
    int64_t fires_ms[CORRAL_MISFIRE_MAX_FIRES]; /* scheduled times (ms since the epoch) */
    int64_t record_ms; /* the last fire time to record once they are created (covers dropped
                        * ones; last_fire_ms when nothing was due) */
    bool more;         /* fire_all hit the cap: more fires are due, decide again after recording */
};

/*
 * The fires due at now_ms: the fire times of c in tz in (last_fire_ms, now_ms], where
 * last_fire_ms is the last fire recorded (or when the schedule was created or resumed). Only
 * the latest due fire can be on time (now_ms - it <= grace_ms); the others are missed.
 *   skip:      the latest if on time, else nothing;
 *   fire_once: the latest (one for all of them);
 *   fire_all:  every due fire not older than catchup_window_s, plus the latest if on time,
 *              oldest first, at most CORRAL_MISFIRE_MAX_FIRES (then `more`).
 * Work is bounded (a few hundred corral_cron_next calls besides the fires returned).
 * CORRAL_EINVAL for a bad policy or time (err says which), or from corral_cron_next.
 */
CORRAL_NODISCARD int corral_misfire_plan(const struct corral_cron *c, const struct corral_tz *tz,
                                         const struct corral_misfire_policy *policy,
                                         int64_t last_fire_ms, int64_t now_ms,
                                         struct corral_misfire_plan *out, struct corral_error *err);

enum corral_overlap_action {
    CORRAL_OVERLAP_ACT_FIRE,                      /* create the fire's task */
    CORRAL_OVERLAP_ACT_SKIP,                      /* drop the fire */
    CORRAL_OVERLAP_ACT_QUEUE_ONE,                 /* hold it until the previous ends */
    CORRAL_OVERLAP_ACT_CANCEL_PREVIOUS_THEN_FIRE, /* cancel the unfinished task, then fire */
};

/* What to do with a fire: previous_unfinished says whether the last fire's task has not
 * ended, one_waiting whether a fire is already held by CORRAL_OVERLAP_QUEUE. */
enum corral_overlap_action corral_overlap_decide(enum corral_overlap policy,
                                                 bool previous_unfinished, bool one_waiting);

#endif
