/* SPDX-License-Identifier: MIT */
/*
 * The leader's heartbeat: while this replica leads, a small thread rewrites the record
 * <ns>/leader ({"id","url","epoch","at_ms"}) every CORRAL_LEADER_BEAT_MS, each write fenced by
 * our election node. Readers (GET /v1/leader on any replica) trust a record only while it is
 * fresh (corral_leader_is_current), so a leader that was killed or paused stops being named
 * within CORRAL_LEADER_STALE_MS instead of a whole session timeout. Its own thread, so that a
 * long scheduling round does not look like a dead leader.
 */
#ifndef CORRALD_BEAT_H
#define CORRALD_BEAT_H

#include <stdint.h>

#include "corrald/replica.h"

struct beat;

/* Start the thread (idle until beat_set gives it a node). Never NULL (aborts if no thread). */
struct beat *beat_start(struct replica *r);
/* Stop and join the thread, free everything; NULL is fine. */
void beat_stop(struct beat *b);
/* Lead from election node (full path) with epoch: beat now and then periodically; node NULL
 * or epoch 0: stop beating at once. Any thread; b may be NULL (nothing happens). */
void beat_set(struct beat *b, const char *node, uint64_t epoch);

#endif
