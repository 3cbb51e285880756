/* SPDX-License-Identifier: MIT */
/*
 * Fleet control on the worker's side (agent_internal.h, CONTRACT "Fleet control"): the worker
 * watches its own record fleet/<id> (corral/fleet.h). Cordoned or draining, it starts nothing
 * new (an assignment the leader made before it saw the record is returned, which costs no
 * attempt); draining, it lets its running tasks finish for the drain's timeout (the request's
 * drain_timeout_s, else --drain-timeout), then stops them and returns them to the queue, and
 * keeps running. It also counts its attempts' outcomes into its registration, for the leader's
 * --cordon-after-failures rule.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "corral/fleet.h"
#include "io/log.h"
#include "worker/agent_internal.h"

#define CORRAL_LOG_MODULE "worker"

bool agent_takes_work(const struct agent *a)
{
    return !a->draining && a->fleet_state == CORRAL_FLEET_ACTIVE;
}

void agent_fleet_read(struct agent *a, int64_t now)
{
    struct corral_error err = {0};
    int32_t version = -1;
    /* exists with a watch: it fires on create, change and delete alike */
    int rc = zk_exists(a->zk, a->p_fleet, true, &version, &err);
    struct corral_fleet_rec rec = {0};
    if (rc == CORRAL_OK) {
        char *data = NULL;
        size_t len = 0;
        rc = zk_get(a->zk, a->p_fleet, false, &data, &len, NULL, &err);
        if (rc == CORRAL_OK && corral_fleet_decode(data, len, &rec, &err) != CORRAL_OK) {
            CORRAL_LOG(CORRAL_LOG_WARN, "malformed fleet record %s (%s): treated as cordoned",
                       a->p_fleet, err.msg);
            memset(&rec, 0, sizeof rec);
            rec.state = CORRAL_FLEET_CORDONED;
        }
        free(data);
    }
    if (rc == CORRAL_ENOTFOUND) {
        rec.state = CORRAL_FLEET_ACTIVE;
        rc = CORRAL_OK;
    }
    if (rc != CORRAL_OK) {
        CORRAL_LOG(CORRAL_LOG_WARN, "cannot read fleet record %s: %s", a->p_fleet, err.msg);
        return; /* need_fleet_read stays set: the next tick tries again */
    }
    a->need_fleet_read = false;
    enum corral_fleet_state was = a->fleet_state;
    a->fleet_state = rec.state;
    if (rec.state == CORRAL_FLEET_DRAINING && was != CORRAL_FLEET_DRAINING) {
        uint32_t s = rec.has_drain_timeout ? rec.drain_timeout_s : a->cfg->drain_timeout_s;
        a->fleet_drain_deadline_ms = now + (int64_t)s * 1000;
        a->fleet_drain_killed = false;
        CORRAL_LOG(CORRAL_LOG_INFO,
                   "worker=%s draining (fleet control): running=%zu "
                   "drain_timeout_s=%u",
                   a->cfg->id, agent_running_count(a), s);
    } else if (rec.state != was) {
        CORRAL_LOG(CORRAL_LOG_INFO, "worker=%s %s (fleet control)%s%s", a->cfg->id,
                   corral_fleet_state_name(rec.state), rec.reason[0] ? ": " : "", rec.reason);
    }
    if (rec.state != CORRAL_FLEET_ACTIVE)
        a->need_reconcile = true; /* return what came before the leader saw the record */
}

void agent_fleet_tick(struct agent *a, int64_t now)
{
    if (a->fleet_state != CORRAL_FLEET_DRAINING || a->fleet_drain_killed ||
        now < a->fleet_drain_deadline_ms)
        return;
    a->fleet_drain_killed = true;
    for (size_t i = 0; i < a->n_locals; i++) {
        struct local *l = a->locals[i];
        if (!l->dropped && !l->run.done) {
            l->returning = true;
            CORRAL_LOG(CORRAL_LOG_INFO, "task=%s drain timeout (fleet control): stopping it",
                       l->id);
            runner_cancel(&l->run);
        }
    }
}

void agent_note_outcome(struct agent *a, enum corral_event ev)
{
    if (ev == CORRAL_EV_SUCCEED) {
        a->ok_count++;
        if (a->fail_streak > 0) {
            a->fail_streak = 0;
            a->reg_dirty = true;
        }
    } else if (ev == CORRAL_EV_FAIL || ev == CORRAL_EV_TIMEOUT) {
        if (a->fail_streak < UINT32_MAX)
            a->fail_streak++;
        a->reg_dirty = true;
    }
}
