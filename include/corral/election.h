/* SPDX-License-Identifier: MIT */
/*
 * Leader election as data (docs/znodes.md "election"): the names of election/ children
 * (n_<uuid>-<10-digit sequence>), the data of an election node, the leader record <ns>/leader,
 * and the decisions made from them: who is my predecessor, am I the lowest, what is my epoch,
 * which replica holds the epoch now. Pure: corrald lists and reads, this decides.
 */
#ifndef CORRAL_ELECTION_H
#define CORRAL_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corral/error.h"

#define CORRAL_ELECTION_UUID_LEN 32u  /* hex digits of the uuid in a node name */
#define CORRAL_REPLICA_URL_MAX   255u /* --advertise */
/* The leader refreshes its record this often; a record older than CORRAL_LEADER_STALE_MS
 * belongs to a leader that stopped (killed, paused or cut off) even if its session lives on. */
#define CORRAL_LEADER_BEAT_MS  500
#define CORRAL_LEADER_STALE_MS 1500

/* Sequence number of an election child; false for a name corral did not make. */
bool corral_election_parse_name(const char *name, uint64_t *seq);
/* The epoch a node of sequence seq leads with: seq + 1, so that it is never 0. */
uint64_t corral_election_epoch(uint64_t seq);
/* Index of the child whose name carries uuid (a node we created but whose reply was lost),
 * or -1. */
long corral_election_find_uuid(char *const *names, size_t n, const char *uuid);

struct corral_election_judgement {
    bool found;       /* own is among names */
    bool lowest;      /* own has the lowest sequence of the valid names */
    long predecessor; /* index of the next lower valid name to watch; -1 when lowest/absent */
    uint64_t epoch;   /* corral_election_epoch of own (0 when own is not a valid name) */
};
/* Judge own (a child name) among names; invalid names are not candidates. */
void corral_election_judge(char *const *names, size_t n, const char *own,
                           struct corral_election_judgement *out);
/* Index of the lowest valid name, or -1; *epoch its epoch. */
long corral_election_lowest(char *const *names, size_t n, uint64_t *epoch);

/* What a replica says about itself: the data of its election node and of the leader record. */
struct corral_replica_info {
    char id[129];                         /* --id */
    char url[CORRAL_REPLICA_URL_MAX + 1]; /* --advertise */
    uint64_t epoch;                       /* leader record only; 0 in an election node */
    int64_t at_ms;                        /* leader record only: wall ms of the last beat */
};
/* Compact JSON {"id","url"[,"epoch","at_ms"]}; caller frees. Never NULL. */
char *corral_replica_info_encode(const struct corral_replica_info *info);
CORRAL_NODISCARD int corral_replica_info_decode(const char *buf, size_t len,
                                                struct corral_replica_info *out,
                                                struct corral_error *err);

/*
 * Does the leader record name the replica that holds the epoch now? Yes when it carries the
 * epoch of the lowest election node (lowest_epoch; 0 = no node) and its beat (at_ms, the
 * leader's wall clock) is at most CORRAL_LEADER_STALE_MS before now_ms (the reader's wall
 * clock; a beat in the future counts as fresh: replicas' clocks are assumed within ~1 s).
 */
bool corral_leader_is_current(const struct corral_replica_info *record, uint64_t lowest_epoch,
                              int64_t now_ms);

#endif
