/* SPDX-License-Identifier: MIT */
/*
 * Leader election over ephemeral-sequential znodes election/n_<uuid>-<seq>. The lowest
 * sequence leads; every other replica watches only its predecessor (no herd). The create is
 * protected: the uuid in the name lets a replica find and adopt its own node after a lost
 * reply. Leadership is claimed only after a sync, when our node is the lowest and its
 * ephemeralOwner is our session. Main thread only.
 */
#ifndef CORRALD_ELECTION_H
#define CORRALD_ELECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "corrald/replica.h"

/* Sequence number of an election child name; false if the name is not ours to judge. */
bool election_parse_seq(const char *name, uint64_t *seq);

/* Make sure we have an election znode in the current session (create or adopt). */
CORRAL_NODISCARD int election_join(struct replica *r, struct corral_error *err);

/* Re-evaluate: sets r->el.is_leader (and the atomic mirrors). Leaves a watch on the
 * predecessor (or on the election folder). Returns 0 or a ZooKeeper error. */
CORRAL_NODISCARD int election_check(struct replica *r, struct corral_error *err);

/* Forget the node (after session expiry): the next join creates a new one. */
void election_reset(struct replica *r);

#endif
