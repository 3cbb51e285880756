/* SPDX-License-Identifier: MIT */
/*
 * Leader election over ephemeral-sequential znodes election/n_<uuid>-<seq> (the decisions are
 * the core's: corral/election.h). The lowest sequence leads; every other replica watches only
 * its predecessor (no herd). The create is protected: the uuid in the name lets a replica find
 * and adopt its own node after a lost reply. Leadership is claimed only after a sync, when our
 * node is the lowest and its ephemeralOwner is our session; the leader then keeps the record
 * <ns>/leader fresh (beat.c) so that GET /v1/leader names only a leader that holds the epoch.
 * Main thread only.
 */
#ifndef CORRALD_ELECTION_H
#define CORRALD_ELECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "corral/strlist.h"
#include "corrald/replica.h"

/* Make sure we have an election znode in the current session (create or adopt). */
CORRAL_NODISCARD int election_join(struct replica *r, struct corral_error *err);
/* Re-evaluate: sets the leadership (election_set_leading). Leaves a watch on the predecessor.
 * Returns 0 or a ZooKeeper error. */
CORRAL_NODISCARD int election_check(struct replica *r, struct corral_error *err);
/* Forget the node (after session expiry): the next join creates a new one. Not leading. */
void election_reset(struct replica *r);
/* The one place where leadership changes: is_leader, epoch, the atomic mirrors (/metrics,
 * the API) and the beat follow together; the change is logged once. why is for the log. */
void election_set_leading(struct replica *r, bool leading, uint64_t epoch, const char *why);
/*
 * The epoch of the lowest live election node among kids (the child names of dir): names that
 * do not parse are passed over, and so is a persistent child (made by hand: it would otherwise
 * name a leader that never beats) or one gone meanwhile, which is also removed from kids.
 * *epoch is 0 when there is none. Reads ZooKeeper, keeps no state: any thread.
 */
CORRAL_NODISCARD int election_live_lowest(struct zk *zk, const char *dir,
                                          struct corral_strlist *kids, uint64_t *epoch,
                                          struct corral_error *err);
/* True when ev's path is in the election folder (its watch fired). */
bool election_owns_path(const struct replica *r, const char *path);

#endif
