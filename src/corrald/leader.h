/* SPDX-License-Identifier: MIT */
/*
 * The leader's scheduling loop. Each tick rebuilds what it needs from ZooKeeper (workers,
 * assignments, the queue), repairs what it finds (assignments of lost workers go back to the
 * queue, orphan queue entries go away), asks the pure planner (corral_sched_plan) for
 * assignments and executes each as one fenced multi. Nothing lives only in memory: a new
 * leader starts from ZooKeeper alone. Main thread only.
 */
#ifndef CORRALD_LEADER_H
#define CORRALD_LEADER_H

#include "corrald/replica.h"
#include "io/zk.h"

struct leader;

struct leader *leader_new(void);
void leader_free(struct leader *l);

/* A watch fired or the session changed: schedule a reconcile. */
void leader_on_event(struct leader *l, const struct zk_event *ev);

/* Drop every cache (after losing leadership or the session). */
void leader_reset(struct leader *l);

/*
 * One scheduling round if due (now_ms monotonic). Returns 0, CORRAL_EFENCED when a write found
 * that we are no longer the leader (the caller re-runs the election), or another error after
 * which the next tick simply tries again.
 */
CORRAL_NODISCARD int leader_tick(struct replica *r, int64_t now_ms, struct corral_error *err);

/* Milliseconds until leader_tick wants to run again (for the poll timeout). */
int leader_next_timeout_ms(const struct leader *l, int64_t now_ms);

#endif
